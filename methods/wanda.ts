/**
 * `wanda` — Wanda (Sun et al., ICLR 2024): score |W_ij| · ‖X_j‖₂, with ‖X_j‖₂ the norm of input j
 * over the calibration inputs of the layer (captured on the model pruned so far), and zero the
 * lowest-scoring fraction s of each output row; no weight update. The classifier/LM head stays
 * dense.
 *
 * @module
 */

import { defineMethod } from "./_method_spec.ts";
import { pruneLayerwise } from "./_weight_plan.ts";
import { calibrationInputs } from "./_weights.ts";

/**
 * ‖X_j‖₂ of every input column j of calibration rows x [rows, cols].
 *
 * @param x Rows, row-major.
 * @param cols Width.
 * @returns One norm per column.
 */
export function inputNorms(x: Float32Array, cols: number): Float64Array {
  const sq = new Float64Array(cols);
  for (let r = 0; r < x.length / cols; r++) {
    for (let j = 0; j < cols; j++) sq[j]! += x[r * cols + j]! ** 2;
  }
  return sq.map(Math.sqrt);
}

/**
 * `wanda` — Wanda (Sun et al., ICLR 2024).
 *
 * - Skips: the zeroed weights (FLOPs scale with each layer's nonzero fraction; the matrices still
 *   run densely).
 * - Sparsity: required, s in [0, 1): the fraction of each output row zeroed.
 * - Parameters: none.
 * - Calibration: inputs (each layer's input norms, on the model pruned so far).
 */
export const wandaMethod = defineMethod({
  id: "wanda",
  title: "Wanda: |W|·‖X‖₂ per output row, no update",
  paper: "Sun et al., A Simple and Effective Pruning Approach for LLMs, ICLR 2024",
  skips: "the lowest |W_ij|·‖X_j‖₂ of every output row (zeroed, FLOPs by nonzero fraction)",
  needsSparsity: true,
  calibration: "inputs",
  params: {},
  prepare(ctx, { sparsity: s }) {
    return pruneLayerwise(ctx, { sparsity: s }, async (l, w) => {
      const cols = l.inFeatures;
      const norms = inputNorms((await calibrationInputs(ctx, l)).x, cols);
      const k = Math.floor(cols * s);
      for (let r = 0; r < l.outFeatures; r++) {
        const score = (j: number) => Math.abs(w[r * cols + j]!) * norms[j]!;
        const order = [...Array(cols).keys()].sort((a, b) => score(a) - score(b));
        for (const j of order.slice(0, k)) w[r * cols + j] = 0;
      }
    });
  },
});
