/**
 * `wanda` — Wanda (Sun et al., ICLR 2024): score |W_ij| · ‖X_j‖₂, with ‖X_j‖₂ the norm of input j
 * over the calibration inputs of the layer (captured on the model pruned so far), and zero the
 * lowest-scoring fraction s of each output row; no weight update. The classifier/LM head stays
 * dense.
 *
 * @module
 */

import type { SparsityMethod } from "../src/method.ts";
import { requireSparsity } from "./_common.ts";
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

/** The `wanda` method. */
export const wandaMethod: SparsityMethod = {
  id: "wanda",
  title: "Wanda: |W|·‖X‖₂ per output row, no update",
  needsSparsity: true,
  calibrated: false,
  prepare(ctx) {
    const s = requireSparsity("wanda", ctx.sparsity);
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
};
