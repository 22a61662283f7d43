/**
 * A ViT's whole forward pass on the project's WGSL kernels, batch 1, the whole token sequence at
 * once: the patch GEMM (class token folded in), then per block a norm, one GEMM for q, k and v,
 * sequence attention, the out projection, a norm with the residual add, the up GEMM with its
 * activation and the down GEMM; the final norm of the class token and the head. After a token
 * gather the later kernels run on the kept tokens only (the count is set per input: the norm
 * gathers the residual stream, the GEMMs take the count from a buffer, attention and norms from
 * their uniforms), so a pruned spec does less work.
 *
 * @module
 */

import { createGemm, type GemmInstance } from "../../kernels/gemm.ts";
import { type Dispatch, readBuffer, storageBuffer, writeArray } from "../../kernels/host.ts";
import { createSeqAttention } from "../../kernels/seq_attention.ts";
import { createSeqNorm } from "../../kernels/seq_norm.ts";
import { patchRows, patchWeight, type VitLinear, type VitSpec } from "./spec.ts";

/** A forward pass ready to run. */
export interface VitForward {
  /** Every dispatch of one forward, in order (the count is the number of kernel launches). */
  readonly dispatches: readonly Dispatch[];
  /**
   * Uploads an image and, for a spec with a token gather, the kept tokens; sets the counts of
   * the kernels after the gather.
   */
  write(pixels: Float32Array, options?: { keep?: Uint32Array }): void;
  /** Reads the logits of the last run. */
  readLogits(): Promise<Float32Array>;
}

/** Something whose token count is set per input. */
interface Counted {
  set(tokens: number): void;
}

/**
 * Uploads a spec's weights and builds its kernels.
 *
 * @param device The device.
 * @param spec The model.
 * @param options `label` for GPU objects.
 * @returns The forward pass.
 */
export async function createVitForward(
  device: GPUDevice,
  spec: VitSpec,
  options: { label: string },
): Promise<VitForward> {
  const label = options.label;
  const t = spec.tokens;
  const d = spec.width;
  const maxOf = (f: (b: VitSpec["blocks"][number]) => number) => Math.max(...spec.blocks.map(f));
  const buf = (name: string, floats: number) =>
    storageBuffer(device, `${label} ${name}`, Math.max(1, floats) * 4);
  const kPatch = spec.patch.inFeatures + 2;
  const patches = buf("patches", t * kPatch);
  const residual = [buf("residual a", t * d), buf("residual b", t * d)];
  const h = buf("normed", t * d);
  const qkv = buf("qkv", t * maxOf((b) => b.qkv.outFeatures));
  const ctx = buf("context", t * maxOf((b) => b.heads * b.headDim));
  const added = buf("block output", t * d);
  const hidden = buf("hidden", t * maxOf((b) => b.up.outFeatures));
  const logits = buf("logits", spec.head.outFeatures);
  const pos = storageBuffer(device, `${label} positions`, spec.pos);
  // After a gather: the GEMMs compute the first `count` rows (identity row list, compact stream).
  const count = storageBuffer(device, `${label} kept count`, Uint32Array.of(t));
  const identity = storageBuffer(
    device,
    `${label} identity rows`,
    Uint32Array.from({ length: t }, (_, i) => i),
  );
  const keep = storageBuffer(device, `${label} kept rows`, t * 4);

  const dispatches: Dispatch[] = [];
  const counted: Counted[] = [];
  const gemm = async (
    name: string,
    l: VitLinear,
    x: GPUBuffer,
    y: GPUBuffer,
    opts: { m?: number; act?: "none" | "relu" | "gelu"; afterGather?: boolean } = {},
  ): Promise<GemmInstance> => {
    const g = await createGemm(device, {
      label: `${label} ${name}`,
      m: opts.m ?? t,
      n: l.outFeatures,
      k: l.inFeatures,
      weight: l.weight,
      ...(l.bias ? { bias: l.bias } : {}),
      act: opts.act ?? "none",
      x,
      y,
      ...(opts.afterGather ? { gather: { rows: identity, count } } : {}),
    });
    dispatches.push(g.dispatch);
    if (opts.afterGather) {
      counted.push({ set: (n) => g.setRows(n) });
    }
    return g;
  };
  await gemm(
    "patch",
    { weight: patchWeight(spec), outFeatures: d, inFeatures: kPatch },
    patches,
    residual[0]!,
  );
  let cur = 0; // residual[cur] holds the stream before the next norm adds to it
  let pending: GPUBuffer | undefined = pos; // what the next norm adds to the stream
  let gathered = false;
  let gatherNext = false;
  for (let i = 0; i < spec.blocks.length; i++) {
    const b = spec.blocks[i]!;
    const after = gathered || gatherNext;
    const norm1 = await createSeqNorm(device, {
      label: `${label} block ${i} norm1`,
      rows: t,
      width: d,
      eps: b.norm1.eps,
      weight: b.norm1.weight,
      bias: b.norm1.bias,
      xIn: residual[cur]!,
      xOut: residual[1 - cur]!,
      h,
      ...(pending ? { addend: pending } : {}),
      ...(gatherNext ? { keep } : {}),
    });
    dispatches.push(norm1);
    if (after) counted.push({ set: (n) => norm1.setTokens(n) });
    cur = 1 - cur;
    gathered ||= gatherNext;
    gatherNext = false;
    await gemm(`block ${i} qkv`, b.qkv, h, qkv, { afterGather: gathered });
    const attn = await createSeqAttention(device, {
      label: `${label} block ${i}`,
      tokens: t,
      heads: b.heads,
      headDim: b.headDim,
      scale: b.scale,
      qkv,
      out: ctx,
    });
    dispatches.push(attn);
    if (gathered) counted.push({ set: (n) => attn.setTokens(n) });
    await gemm(`block ${i} proj`, b.proj, ctx, added, { afterGather: gathered });
    const norm2 = await createSeqNorm(device, {
      label: `${label} block ${i} norm2`,
      rows: t,
      width: d,
      eps: b.norm2.eps,
      weight: b.norm2.weight,
      bias: b.norm2.bias,
      xIn: residual[cur]!,
      xOut: residual[1 - cur]!,
      h,
      addend: added,
    });
    dispatches.push(norm2);
    if (gathered) counted.push({ set: (n) => norm2.setTokens(n) });
    cur = 1 - cur;
    await gemm(`block ${i} up`, b.up, h, hidden, { act: b.act, afterGather: gathered });
    await gemm(`block ${i} down`, b.down, hidden, added, { afterGather: gathered });
    pending = added;
    if (spec.gatherAfter?.block === i && i < spec.blocks.length - 1) gatherNext = true;
  }
  dispatches.push(
    await createSeqNorm(device, {
      label: `${label} final norm`,
      rows: 1,
      width: d,
      eps: spec.norm.eps,
      weight: spec.norm.weight,
      bias: spec.norm.bias,
      xIn: residual[cur]!,
      xOut: residual[1 - cur]!,
      h,
      addend: added,
    }),
  );
  await gemm("head", spec.head, h, logits, { m: 1 });

  return {
    dispatches,
    write(pixels, opts = {}) {
      writeArray(device, patches, patchRows(spec, pixels));
      if (!spec.gatherAfter) return;
      const kept = opts.keep;
      if (!kept || kept.length < 1 || kept.length > t || kept[0] !== 0) {
        throw new Error(
          `${label}: this model keeps tokens after block ${spec.gatherAfter.block}; pass their indices (class token 0 first, at most ${t})`,
        );
      }
      writeArray(device, keep, kept);
      writeArray(device, count, Uint32Array.of(kept.length));
      for (const c of counted) c.set(kept.length);
    },
    async readLogits() {
      return new Float32Array(await readBuffer(device, logits, spec.head.outFeatures * 4));
    },
  };
}
