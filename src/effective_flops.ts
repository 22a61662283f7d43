/**
 * Effective FLOPs of a sparse variant, from the densities measured on the evaluation split.
 *
 * A linear read through an input-sparse kernel costs its dense FLOPs times the density of its
 * input (zero inputs skip whole weight rows); a linear computed only for selected neurons costs
 * its dense FLOPs times the fraction selected. Everything else stays dense. The selection itself
 * (thresholds, top-k, statistics) is charged per element of the value it reads. The realised
 * sparsity is 1 − (effective / dense) over the sparsified linears alone, so it is comparable with
 * the target sparsity.
 *
 * @module
 */

import type { Linear } from "./onnx/blocks.ts";
import type { FlopCount } from "./onnx/flops.ts";
import type { ValueShape } from "./onnx/shapes.ts";
import { numel } from "./onnx/tensor_data.ts";
import type { SelectionCost, SparseLinear } from "./method.ts";

/** The FLOP figures of a variant. */
export interface EffectiveFlops {
  /** Dense MatMul/Gemm/Conv FLOPs of the timed input. */
  flopsDense: number;
  /** FLOPs with the measured densities, plus selection. */
  flopsEffective: number;
  /** flopsDense / flopsEffective. */
  reduction: number;
  /** 1 − sparse FLOPs / their dense FLOPs, over the sparsified linears. */
  sparsityRealized: number | null;
  /** Bytes of f32 weights read per token by a kernel that skips inactive rows/neurons. */
  weightBytesEffective: number;
  /** Measured density per sparsified linear. */
  layerDensity: Record<string, number>;
}

/**
 * Computes the effective FLOPs of a variant.
 *
 * @param count Dense FLOP count at the timing input's shapes.
 * @param shapes Dense value shapes at the timing input (for selection costs).
 * @param linears The dense model's linears (for weight bytes).
 * @param plan The variant's sparse linears and selection costs.
 * @param density Measured density per value (fraction of nonzero elements).
 * @returns The figures.
 */
export function effectiveFlops(
  count: FlopCount,
  shapes: Map<string, ValueShape>,
  linears: readonly Linear[],
  plan: {
    sparse: readonly SparseLinear[];
    selection: readonly SelectionCost[];
    nodeScales?: readonly { node: string; constant: number; probe?: string; power?: number }[];
  },
  density: ReadonlyMap<string, number>,
): EffectiveFlops {
  const byLinear = new Map<string, number>();
  for (const s of plan.nodeScales ?? []) {
    let f = s.constant;
    if (s.probe) {
      const d = density.get(s.probe);
      if (d === undefined) throw new Error(`No measured density for ${s.probe} (node ${s.node})`);
      f *= d ** (s.power ?? 1);
    }
    byLinear.set(s.node, f);
  }
  for (const s of plan.sparse) {
    const d = density.get(s.densityOf);
    if (d === undefined) {
      throw new Error(`No measured density for ${s.densityOf} (linear ${s.linear})`);
    }
    // A linear listed twice (input- and output-sparse) is bounded by the smaller density.
    byLinear.set(s.linear, Math.min(d, byLinear.get(s.linear) ?? 1));
  }
  let effective = 0;
  let sparseDense = 0;
  let sparseEffective = 0;
  for (const n of count.nodes) {
    if (n.kind !== "matmul") continue;
    const d = byLinear.get(n.name);
    if (d === undefined) {
      effective += n.flops;
      continue;
    }
    effective += n.flops * d;
    sparseDense += n.flops;
    sparseEffective += n.flops * d;
  }
  for (const sel of plan.selection) {
    const dims = shapes.get(sel.value)?.dims;
    if (dims) effective += numel(dims) * sel.flopsPerElement;
  }
  let weightBytes = 0;
  for (const l of linears) {
    weightBytes += 4 * l.inFeatures * l.outFeatures * (byLinear.get(l.name) ?? 1);
  }
  return {
    flopsDense: count.flops,
    flopsEffective: effective,
    reduction: effective > 0 ? count.flops / effective : Infinity,
    sparsityRealized: sparseDense > 0 ? 1 - sparseEffective / sparseDense : null,
    weightBytesEffective: weightBytes,
    layerDensity: Object.fromEntries(byLinear),
  };
}
