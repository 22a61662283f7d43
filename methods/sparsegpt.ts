/**
 * `sparsegpt`, `sparsegpt-nm` — SparseGPT (Frantar & Alistarh, ICML 2023; OBS-Diff's one-shot
 * core): per linear, the Hessian H = 2XXᵀ/N of its calibration inputs (captured on the model
 * pruned so far), 1 % mean-diagonal damping; columns in blocks of 128, masked by w² / [H⁻¹]_jj²,
 * and the surviving weights compensated with the OBS update (`_obs.ts`). `sparsegpt` prunes a
 * fraction s of each block; `sparsegpt-nm` keeps N of every M consecutive inputs (params `n`, `m`,
 * default 2:4), sparsity 1 − N/M. The classifier/LM head stays dense.
 *
 * @module
 */

import type { MethodContext, SparsityMethod, VariantPlan } from "../src/method.ts";
import { requireSparsity } from "./_common.ts";
import { accumulateHessian, sparseGptPrune } from "./_obs.ts";
import { pruneLayerwise } from "./_weight_plan.ts";
import { calibrationInputs } from "./_weights.ts";

function prune(
  ctx: MethodContext,
  s: number,
  mask: { sparsity: number } | { n: number; m: number },
): Promise<VariantPlan> {
  return pruneLayerwise(ctx, { sparsity: s }, async (l, w) => {
    const { x, d } = await calibrationInputs(ctx, l);
    const w64 = Float64Array.from(w);
    sparseGptPrune(w64, l.outFeatures, l.inFeatures, accumulateHessian(x, d), mask);
    w.set(w64);
  });
}

function nmParams(ctx: MethodContext): { n: number; m: number } {
  const n = Number(ctx.params.n ?? 2);
  const m = Number(ctx.params.m ?? 4);
  if (!(Number.isInteger(n) && Number.isInteger(m) && n > 0 && n < m)) {
    throw new RangeError(`sparsegpt-nm: need integers 0 < n < m, got ${n}:${m}`);
  }
  return { n, m };
}

/** SparseGPT, unstructured. */
export const sparseGptMethod: SparsityMethod = {
  id: "sparsegpt",
  title: "SparseGPT / OBS: w²/[H⁻¹]² mask with OBS compensation, unstructured",
  needsSparsity: true,
  calibrated: false,
  prepare(ctx) {
    const s = requireSparsity("sparsegpt", ctx.sparsity);
    return prune(ctx, s, { sparsity: s });
  },
};

/** SparseGPT, N:M. */
export const sparseGptNmMethod: SparsityMethod = {
  id: "sparsegpt-nm",
  title: "SparseGPT / OBS with N:M sparsity (params n, m)",
  needsSparsity: false,
  calibrated: false,
  prepare(ctx) {
    const nm = nmParams(ctx);
    return prune(ctx, 1 - nm.n / nm.m, nm);
  },
};
