/**
 * `sparsegpt`, `sparsegpt-nm` — SparseGPT (Frantar & Alistarh, ICML 2023; OBS-Diff's one-shot
 * core): per linear, the Hessian H = 2XXᵀ/N of its calibration inputs (captured on the model
 * pruned so far), 1 % mean-diagonal damping; columns in blocks of 128, masked by w² / [H⁻¹]_jj²,
 * and the surviving weights compensated with the OBS update (`_obs.ts`). `sparsegpt` prunes a
 * fraction s of each block; `sparsegpt-nm` keeps N of every M consecutive inputs (params `n`, `m`,
 * default 2:4), sparsity 1 − N/M. The classifier/LM head stays dense. A 2-D conv is a linear over
 * im2col patches: per group, the Hessian of the unfolded calibration patches (at most 4096,
 * evenly spaced) and its filters as rows of in/groups·kh·kw; depthwise convs (rows of kh·kw) are
 * pruned per layer by magnitude instead (for N:M, at 1 − N/M, unstructured).
 *
 * @module
 */

import type { MethodContext, VariantPlan } from "../src/method.ts";
import { defineMethod } from "./_method_spec.ts";
import { accumulateHessian, sparseGptPrune } from "./_obs.ts";
import { pruneLayerwise } from "./_weight_plan.ts";
import { calibrationInputs } from "./_weights.ts";
import { convCalibrationInput, convOutputSize, spreadRows, unfoldPatches } from "./_conv.ts";

/** At most this many im2col patches (evenly spaced over the calibration inputs) per conv. */
const CONV_PATCH_ROWS = 4096;

function prune(
  ctx: MethodContext,
  s: number,
  mask: { sparsity: number } | { n: number; m: number },
): Promise<VariantPlan> {
  return pruneLayerwise(ctx, {
    notes: { sparsity: s, conv_patch_rows_max: CONV_PATCH_ROWS },
    linear: async (l, w) => {
      const { x, d } = await calibrationInputs(ctx, l);
      const w64 = Float64Array.from(w);
      sparseGptPrune(w64, l.outFeatures, l.inFeatures, accumulateHessian(x, d), mask);
      w.set(w64);
    },
    conv: async (c, w) => {
      const { x, dims } = await convCalibrationInput(ctx, c);
      const [oh, ow] = convOutputSize(c, [dims[2]!, dims[3]!]);
      const rows = spreadRows(dims[0]! * oh * ow, CONV_PATCH_ROWS);
      const perGroup = c.outChannels / c.groups;
      const size = perGroup * c.rowLength;
      for (let g = 0; g < c.groups; g++) {
        const h = accumulateHessian(
          unfoldPatches(x, dims, { conv: c, group: g, rows }),
          c.rowLength,
        );
        const w64 = Float64Array.from(w.subarray(g * size, (g + 1) * size));
        sparseGptPrune(w64, perGroup, c.rowLength, h, mask);
        w.set(w64, g * size);
      }
    },
    depthwiseByMagnitude: s,
  });
}

const PAPER = "Frantar & Alistarh, SparseGPT, ICML 2023";
const SKIPS = "the zeroed weights (FLOPs by nonzero fraction; no sparse matmul runs them)";

/**
 * `sparsegpt` — SparseGPT (Frantar & Alistarh, ICML 2023), unstructured.
 *
 * - Skips: the zeroed weights (FLOPs scale with each layer's nonzero fraction; the matrices still
 *   run densely).
 * - Sparsity: required, s in [0, 1): the fraction of each 128-column block zeroed.
 * - Parameters: none.
 * - Calibration: inputs (each layer's Hessian, on the model pruned so far).
 */
export const sparseGptMethod = defineMethod({
  id: "sparsegpt",
  title: "SparseGPT / OBS: w²/[H⁻¹]² mask with OBS compensation, unstructured",
  paper: PAPER,
  skips: SKIPS,
  needsSparsity: true,
  calibration: "inputs",
  params: {},
  prepare: (ctx, { sparsity: s }) => prune(ctx, s, { sparsity: s }),
});

/**
 * `sparsegpt-nm` — SparseGPT with N:M sparsity (N kept of every M consecutive inputs).
 *
 * - Skips: the zeroed weights, M − N of every M (FLOPs by nonzero fraction; no 2:4 sparse matmul
 *   exists on these targets).
 * - Sparsity: none taken (it is 1 − N/M).
 * - Parameters: `n` (default 2) and `m` (default 4), integers with 1 ≤ n < m.
 * - Calibration: inputs (each layer's Hessian, on the model pruned so far).
 */
export const sparseGptNmMethod = defineMethod({
  id: "sparsegpt-nm",
  title: "SparseGPT / OBS with N:M sparsity (params n, m)",
  paper: PAPER,
  skips: SKIPS,
  needsSparsity: false,
  calibration: "inputs",
  params: {
    n: { kind: "number", integer: true, min: 1, default: 2, doc: "weights kept per group" },
    m: { kind: "number", integer: true, min: 2, default: 4, doc: "group size" },
  },
  check: ({ n, m }) =>
    n < m ? undefined : `n must be below m (N:M keeps n of every m), got ${n}:${m}; e.g. n 2, m 4`,
  prepare: (ctx, { params: { n, m } }) => prune(ctx, 1 - n / m, { n, m }),
});
