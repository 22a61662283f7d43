/**
 * The CPU reference of a {@linkcode VitSpec}'s forward pass, built from the kernels' own CPU
 * references, so a pruned spec (fewer heads, neurons or tokens) has a reference where no ONNX
 * graph of it exists.
 *
 * @module
 */

import { gemmCpu } from "../../kernels/gemm.ts";
import { seqAttentionCpu } from "../../kernels/seq_attention.ts";
import { seqNormCpu } from "../../kernels/seq_norm.ts";
import { patchRows, patchWeight, type VitLinear, type VitSpec } from "./spec.ts";

/**
 * Logits of one image on the CPU.
 *
 * @param spec The model.
 * @param pixels The image, [channels, height, width].
 * @param options `keep`: the tokens kept after block `spec.gatherAfter.block` (ascending, class
 *   token first); required when the spec gathers.
 * @returns Logits.
 */
export function vitForwardCpu(
  spec: VitSpec,
  pixels: Float32Array,
  options: { keep?: Uint32Array } = {},
): Float32Array {
  const lin = (x: Float32Array, l: VitLinear, m: number, act: "none" | "relu" | "gelu" = "none") =>
    gemmCpu(x, l.weight, {
      m,
      n: l.outFeatures,
      k: l.inFeatures,
      ...(l.bias ? { bias: l.bias } : {}),
      act,
    });
  const d = spec.width;
  let t = spec.tokens;
  let x = gemmCpu(patchRows(spec, pixels), patchWeight(spec), {
    m: t,
    n: d,
    k: spec.patch.inFeatures + 2,
  });
  let addend: Float32Array | undefined = spec.pos;
  let rows: Uint32Array | undefined;
  for (let i = 0; i < spec.blocks.length; i++) {
    const b = spec.blocks[i]!;
    const n1 = seqNormCpu(x, { rows: rows?.length ?? t, width: d, eps: b.norm1.eps }, {
      ...b.norm1,
      ...(addend ? { addend } : {}),
      ...(rows ? { rows } : {}),
    });
    t = rows?.length ?? t;
    rows = undefined;
    const qkv = lin(n1.h, b.qkv, t);
    const ctx = seqAttentionCpu(qkv, {
      tokens: t,
      heads: b.heads,
      headDim: b.headDim,
      scale: b.scale,
    });
    const n2 = seqNormCpu(n1.xOut, { rows: t, width: d, eps: b.norm2.eps }, {
      ...b.norm2,
      addend: lin(ctx, b.proj, t),
    });
    x = n2.xOut;
    addend = lin(lin(n2.h, b.up, t, b.act), b.down, t);
    if (spec.gatherAfter?.block === i) {
      if (!options.keep) throw new Error("vitForwardCpu: this spec gathers tokens; pass keep");
      rows = options.keep;
    }
  }
  const last = seqNormCpu(x, { rows: 1, width: d, eps: spec.norm.eps }, {
    ...spec.norm,
    ...(addend ? { addend } : {}),
  });
  return lin(last.h, spec.head, 1);
}
