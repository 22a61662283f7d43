/**
 * Prefill: a prompt's positions through the blocks at once, with GEMMs over the token sequence
 * instead of one GEMV per token, writing the KV caches that the token-by-token step then reads.
 * It runs every position but the prompt's last; the decoder's own step then takes that one and
 * yields the logits of the first generated token, so the two paths share their head and argmax.
 *
 * Only dense plans over row-major weights prefill; decoders with a sparse plan, or built without
 * the row-major layout, process their prompt token by token, as before. f16 weights prefill with
 * the GEMM's f16 form, which unpacks the packed halves of the same row buffers that the dense GEMV
 * reads (no shader-f16 feature needed; activations and sums stay f32). A block is: embedding rows
 * → add_norm rows → q/k/v GEMM → rope_cache rows (KV cache writes, f32 or f16 as the decoder's
 * caches) → causal attention over the cache → o GEMM → add_norm rows → up/gate GEMM → glu rows →
 * down GEMM; residual adds and biases land in the kernels that already finish them for the decode
 * step (add_norm, rope_cache, glu).
 *
 * @module
 */

import { createAddNorm } from "../../kernels/add_norm.ts";
import { createEmbed } from "../../kernels/embed.ts";
import { createGemm } from "../../kernels/gemm.ts";
import { createGlu } from "../../kernels/glu.ts";
import { type Dispatch, storageBuffer } from "../../kernels/host.ts";
import { createPrefillAttention } from "../../kernels/prefill_attention.ts";
import { createRopeCache, type KvDtype } from "../../kernels/rope_cache.ts";
import { PROJECTIONS, type SparsityPlan } from "./spec.ts";
import type { GpuLinear, GpuNorm, GpuWeights } from "./weights.ts";

/** What a prefill reads and writes of its decoder. */
export interface PrefillContext {
  /** The decoder's weights. */
  weights: GpuWeights;
  /** The decoder's plan (prefill needs a dense one). */
  plan: SparsityPlan;
  /** The decoder's KV caches, per layer. */
  caches: readonly { k: GPUBuffer; v: GPUBuffer }[];
  /** Element type of the caches (default f32). */
  kvDtype?: KvDtype;
  /** The decoder's state buffer (its `pos` is the first prefilled position). */
  state: GPUBuffer;
  /** The decoder's id sequence. */
  ids: GPUBuffer;
  /** A norm's weight as add_norm must apply it (ones where the rows carry it folded). */
  normWeight(norm: GpuNorm, feedsRow: boolean): GPUBuffer;
  /** Threads of add_norm. */
  workgroupSize: number;
}

/** A prefill built for a number of rows. */
export interface Prefill {
  /** Prompt positions it processes at once. */
  rows: number;
  /** Its dispatches, in order. */
  dispatches: Dispatch[];
  /** Frees its buffers. */
  destroy(): void;
}

/**
 * Why a decoder cannot prefill with GEMMs, or undefined when it can.
 *
 * @param weights Weights.
 * @param plan Plan.
 * @returns The reason, or undefined.
 */
export function prefillRefusal(weights: GpuWeights, plan: SparsityPlan): string | undefined {
  const dense = weights.layers.every((_, l) =>
    PROJECTIONS.every((p) => {
      const r = plan.layers[l]?.[p];
      return r === undefined || r.kind === "dense";
    })
  );
  if (!dense) return "the plan is sparse (prefill runs dense plans only)";
  const rows = weights.layers.every((w) => PROJECTIONS.every((p) => w[p].row !== undefined));
  return rows ? undefined : "the weights lack the row-major layout that the prefill GEMM reads";
}

/**
 * Builds the prefill of `rows` positions starting at the state's `pos`.
 *
 * @param device The device.
 * @param ctx The decoder's buffers and weights.
 * @param options Rows.
 * @returns The prefill.
 * @throws {Error} When {@linkcode prefillRefusal} gives a reason.
 */
export async function createPrefill(
  device: GPUDevice,
  ctx: PrefillContext,
  options: { rows: number; label: string },
): Promise<Prefill> {
  const { weights, rows, label } = { ...ctx, ...options };
  const refused = prefillRefusal(weights, ctx.plan);
  if (refused) throw new Error(`${label}: cannot prefill: ${refused}`);
  const spec = weights.spec;
  const qd = spec.heads * spec.headDim;
  const kvd = spec.kvHeads * spec.headDim;
  const width = spec.ffn === "gated" ? 2 * spec.ff : spec.ff;
  const own: GPUBuffer[] = [];
  const buf = (name: string, floats: number) => {
    const b = storageBuffer(device, `${label} prefill ${name}`, rows * floats * 4);
    own.push(b);
    return b;
  };
  const x = buf("x", spec.d);
  const h = buf("h", spec.d);
  const qkv = buf("qkv", qd + 2 * kvd);
  const q = buf("q", qd);
  const attn = buf("attention", qd);
  const o = buf("o", spec.d);
  const gu = buf("gate,up", width);
  const down = buf("down", spec.d);
  const dispatches: Dispatch[] = [];
  dispatches.push(
    await createEmbed(device, {
      label: `${label} prefill`,
      d: spec.d,
      table: weights.embed,
      ...(weights.positions ? { positions: weights.positions } : {}),
      ids: ctx.ids,
      state: ctx.state,
      x,
      rows,
    }),
  );
  // Each projection's GEMM reads its row-major weights in their own precision (f32 or f16).
  const gemm = async (name: string, input: GPUBuffer, output: GPUBuffer, lin: GpuLinear) =>
    (await createGemm(device, {
      label: name,
      m: rows,
      n: lin.n,
      k: lin.k,
      weightBuffer: lin.row!,
      dtype: lin.dtype,
      x: input,
      y: output,
    })).dispatch;
  let pending: { out: GPUBuffer; bias: GPUBuffer } | undefined;
  for (let l = 0; l < spec.layers; l++) {
    const w = weights.layers[l]!;
    const cache = ctx.caches[l]!;
    const name = `${label} prefill L${l}`;
    const norm = async (which: GpuNorm, addend?: { out: GPUBuffer; bias: GPUBuffer }) =>
      (await createAddNorm(device, {
        label: name,
        n: spec.d,
        kind: spec.norm,
        eps: spec.eps,
        workgroupSize: ctx.workgroupSize,
        x,
        weight: ctx.normWeight(which, true),
        ...(which.b ? { bias: which.b } : {}),
        ...(addend ? { addend: addend.out, splits: 1, addendBias: addend.bias } : {}),
        out: h,
        rows,
      })).dispatch;
    dispatches.push(await norm(w.norm1, pending));
    dispatches.push(await gemm(`${name} qkv`, h, qkv, w.qkv));
    dispatches.push(
      await createRopeCache(device, {
        label: name,
        heads: spec.heads,
        kvHeads: spec.kvHeads,
        headDim: spec.headDim,
        ...(spec.positions.kind === "rope" ? { ropeBase: spec.positions.base } : {}),
        qkv,
        splits: 1,
        bias: w.qkv.bias,
        state: ctx.state,
        q,
        kcache: cache.k,
        vcache: cache.v,
        rows,
        ...(ctx.kvDtype ? { kvDtype: ctx.kvDtype } : {}),
      }),
    );
    dispatches.push(
      (await createPrefillAttention(device, {
        label: name,
        rows,
        heads: spec.heads,
        kvHeads: spec.kvHeads,
        headDim: spec.headDim,
        scale: 1 / Math.sqrt(spec.headDim),
        q,
        kcache: cache.k,
        vcache: cache.v,
        state: ctx.state,
        out: attn,
        ...(ctx.kvDtype ? { kvDtype: ctx.kvDtype } : {}),
      })).dispatch,
    );
    dispatches.push(await gemm(`${name} o`, attn, o, w.o));
    dispatches.push(await norm(w.norm2, { out: o, bias: w.o.bias }));
    dispatches.push(await gemm(`${name} up`, h, gu, w.up));
    const glu = await createGlu(device, {
      label: name,
      ff: spec.ff,
      gated: spec.ffn === "gated",
      act: spec.act,
      gu,
      splits: 1,
      bias: w.up.bias,
      rows,
    });
    own.push(glu.h);
    dispatches.push(glu.dispatch);
    dispatches.push(await gemm(`${name} down`, glu.h, down, w.down));
    pending = { out: down, bias: w.down.bias };
  }
  return {
    rows,
    dispatches,
    destroy() {
      own.forEach((b) => b.destroy());
    },
  };
}
