/**
 * `r-sparse` — R-Sparse (Zhang et al., ICLR 2025): training-free, rank-aware activation
 * sparsity. Each linear y = x·W of the transformer blocks splits its input: the channels whose
 * score |x_j|·‖W[j, :]‖₂ exceeds a threshold τ are computed exactly (an input-sparse GEMV), and
 * the rest go through a rank-r factor of the weight, y ≈ (x ⊙ m)·W + (x ⊙ (1 − m))·A·B with
 * A·B the best rank-r approximation of W (A = W·V_r, B = V_rᵀ, or A = U_r, B = U_rᵀ·W; V_r/U_r
 * from the eigenvectors of WᵀW or W·Wᵀ, whichever is smaller).
 *
 * Calibration: per linear, τ is the s-quantile of the scores on the calibration split, captured
 * in graph order on the partly rewritten model (R-Sparse's per-layer quantile); the rank is one
 * fraction of each weight's smaller dimension for every layer (R-Sparse searches per-layer
 * sparsities and ranks with an evolutionary search, left out here). FLOPs: the sparse GEMV at
 * the kept density, the first low-rank factor at the density of the channels it reads (the
 * dropped ones), the second in full; selection 4 FLOPs per input element (|x|, scale, compare,
 * the complement). Kernel plan: select → sparse GEMV of W over the kept channels, complement
 * select → sparse GEMV of A over the dropped channels → GEMV of B, added.
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import type { Linear } from "../src/onnx/blocks.ts";
import type { ModelProto } from "../src/onnx/model.ts";
import { Rewriter } from "../src/onnx/rewriter.ts";
import { blockLinears, calibrateInOrder, quantileOfSorted } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";
import { symmetricEigen } from "./_sym_eigen.ts";
import { readWeight } from "./_weights.ts";

/** The rank R-Sparse takes by default, as a fraction of each weight's smaller dimension. */
export const DEFAULT_RANK_FRACTION = 0.125;

/** A rank-r factorisation W ≈ A·B of an [in, out] weight. */
export interface LowRank {
  /** Rank. */
  rank: number;
  /** [in, rank] row-major. */
  a: Float32Array;
  /** [rank, out] row-major. */
  b: Float32Array;
}

/**
 * The best rank-r approximation of W [in, out] (row-major), as A [in, r] · B [r, out].
 *
 * @param w The weight, [in, out] row-major (x·W layout).
 * @param shape in and out.
 * @param rank r, at most min(in, out).
 * @returns The factors.
 */
export function lowRankFactor(
  w: Float32Array,
  shape: { inFeatures: number; outFeatures: number },
  rank: number,
): LowRank {
  const { inFeatures: n, outFeatures: o } = shape;
  const r = Math.min(rank, n, o);
  const a = new Float32Array(n * r);
  const b = new Float32Array(r * o);
  if (n <= o) {
    // W·Wᵀ [n, n] = U S² Uᵀ: A = U_r, B = U_rᵀ·W.
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let k = 0; k < o; k++) s += w[i * o + k]! * w[j * o + k]!;
        g[i * n + j] = s;
        g[j * n + i] = s;
      }
    }
    const { vectors } = symmetricEigen(g, n);
    for (let i = 0; i < n; i++) for (let c = 0; c < r; c++) a[i * r + c] = vectors[i * n + c]!;
    for (let c = 0; c < r; c++) {
      for (let k = 0; k < o; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += vectors[i * n + c]! * w[i * o + k]!;
        b[c * o + k] = s;
      }
    }
  } else {
    // Wᵀ·W [o, o] = V S² Vᵀ: A = W·V_r, B = V_rᵀ.
    const g = new Float64Array(o * o);
    for (let i = 0; i < o; i++) {
      for (let j = i; j < o; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += w[k * o + i]! * w[k * o + j]!;
        g[i * o + j] = s;
        g[j * o + i] = s;
      }
    }
    const { vectors } = symmetricEigen(g, o);
    for (let c = 0; c < r; c++) for (let k = 0; k < o; k++) b[c * o + k] = vectors[k * o + c]!;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < r; c++) {
        let s = 0;
        for (let k = 0; k < o; k++) s += w[i * o + k]! * vectors[k * o + c]!;
        a[i * r + c] = s;
      }
    }
  }
  return { rank: r, a, b };
}

/**
 * A linear's weight as [in, out] row-major (the x·W layout), whatever the exporter stored.
 *
 * @param model The model.
 * @param l The linear.
 * @returns The matrix.
 */
export function weightInOut(model: ModelProto, l: Linear): Float32Array {
  const outIn = readWeight(model, l);
  const w = new Float32Array(outIn.length);
  for (let o = 0; o < l.outFeatures; o++) {
    for (let i = 0; i < l.inFeatures; i++) w[i * l.outFeatures + o] = outIn[o * l.inFeatures + i]!;
  }
  return w;
}

/**
 * Per input channel j of an [in, out] weight, ‖W[j, :]‖₂.
 *
 * @param w The weight [in, out].
 * @param shape in and out.
 * @returns The norms.
 */
export function channelNorms(
  w: Float32Array,
  shape: { inFeatures: number; outFeatures: number },
): Float32Array {
  const { inFeatures: n, outFeatures: o } = shape;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < o; k++) s += w[i * o + k]! ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

function nodeNameOf(model: ModelProto, output: string): string {
  const n = model.graph!.node!.find((x) => x.output?.[0] === output);
  return n?.name ?? output;
}

/**
 * `r-sparse` — R-Sparse (Zhang et al., ICLR 2025), rank-aware activation sparsity.
 *
 * - Skips: the rows of W for the input channels whose |x_j|·‖W[j, :]‖₂ < τ, in every linear of
 *   the attention and FFN blocks; those channels go through a rank-r factor A·B instead.
 * - Sparsity: required, s in [0, 1); per linear τ is the s-quantile of the scores.
 * - Parameters: `rank` (r as a fraction of each weight's smaller dimension, default 0.125).
 * - Calibration: thresholds, in graph order on the partly rewritten model.
 */
export const rSparseMethod = defineMethod({
  id: "r-sparse",
  title: "R-Sparse: large channels exact (sparse GEMV), the rest through a rank-r factor of W",
  paper: "Zhang et al., R-Sparse: Rank-Aware Activation Sparsity, ICLR 2025",
  skips: "rows of W for channels with |x_j|·‖W[j,:]‖ < τ, replaced by a rank-r path",
  needsSparsity: true,
  calibration: "thresholds",
  params: {
    rank: {
      kind: "number",
      min: 0,
      max: 1,
      default: DEFAULT_RANK_FRACTION,
      doc: "rank r as a fraction of min(in, out) of each weight (0: no low-rank path)",
    },
  },
  async prepare(ctx, { sparsity: s, params: { rank } }): Promise<VariantPlan> {
    const linears = blockLinears(ctx.model);
    const plan: VariantPlan = { model: ctx.model, sparse: [], selection: [], notes: { rank } };
    const norms = new Map<Linear, Float32Array>();
    const scores = new Map<Linear, string>();
    let i = 0;
    const scoreOf = (l: Linear): string => {
      const rw = new Rewriter(ctx.model, `r_sparse${i}`);
      const w = weightInOut(ctx.model, l);
      const c = channelNorms(w, l);
      norms.set(l, c);
      const score = rw.node("Mul", [
        rw.node("Abs", [l.input])[0]!,
        rw.floatConst("colnorm", c, [l.inFeatures]),
      ])[0]!;
      rw.splice(l.node);
      scores.set(l, score);
      return score;
    };
    await calibrateInOrder(ctx, linears, scoreOf, (l, captured) => {
      const tau = quantileOfSorted(Float32Array.from(captured.data).sort(), s);
      const rw = new Rewriter(ctx.model, `r_sparse_mask${i}`);
      const keep = rw.node("Greater", [scores.get(l)!, rw.floatConst("tau", [tau])])[0]!;
      const kept = rw.where(keep, l.input);
      rw.commit(l.node, l.input, kept, [l.node]);
      plan.sparse.push({ linear: l.name, densityOf: kept, mode: "input" });
      plan.selection.push({ value: l.input, flopsPerElement: 4 });
      const r = Math.floor(rank * Math.min(l.inFeatures, l.outFeatures));
      plan.notes![`tau[${i}]`] = Number(tau.toPrecision(4));
      if (r > 0) {
        const f = lowRankFactor(weightInOut(ctx.model, l), l, r);
        const lr = new Rewriter(ctx.model, `r_sparse_lowrank${i}`);
        const dropped = lr.node("Sub", [l.input, kept])[0]!;
        const za = lr.node("MatMul", [dropped, lr.floatConst("A", f.a, [l.inFeatures, r])])[0]!;
        const zb = lr.node("MatMul", [za, lr.floatConst("B", f.b, [r, l.outFeatures])])[0]!;
        lr.splice(l.node);
        // The linear's product gets a new name and the sum takes the old one, so its readers
        // (or the graph output it is) read the sum unchanged.
        const mm = l.node.output![0]!;
        const renamed = lr.idx.freshName(`${mm}_sparse`);
        l.node.output![0] = renamed;
        const nodes = ctx.model.graph!.node!;
        nodes.splice(nodes.indexOf(l.node) + 1, 0, {
          name: lr.idx.freshName(`r_sparse_lowrank${i}/Add`),
          opType: "Add",
          input: [renamed, zb],
          output: [mm],
        });
        plan.sparse.push({ linear: nodeNameOf(ctx.model, za), densityOf: dropped, mode: "input" });
        plan.notes![`r[${i}]`] = r;
      }
      i++;
    });
    return plan;
  },
});
