/**
 * `wanda` — Wanda (Sun et al., ICLR 2024): score |W_ij| · ‖X_j‖₂, with ‖X_j‖₂ the norm of input j
 * over the calibration inputs of the layer (captured on the model pruned so far), and zero the
 * lowest-scoring fraction s of each output row; no weight update. The classifier/LM head stays
 * dense. A 2-D conv is a linear over im2col patches: each output channel's filter is a row of
 * in/groups·kh·kw weights scored by the norms of the unfolded calibration patches of its group;
 * depthwise convs (rows of kh·kw) are pruned per layer by magnitude instead.
 *
 * @module
 */

import { defineMethod } from "./_method_spec.ts";
import { pruneLayerwise } from "./_weight_plan.ts";
import { calibrationInputs } from "./_weights.ts";
import { convCalibrationInput, convOutputSize, spreadRows, unfoldPatches } from "./_conv.ts";

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

/** At most this many im2col patches (evenly spaced over the calibration inputs) per conv. */
const CONV_PATCH_ROWS = 16384;

/** Zeroes the lowest |W_ij|·‖X_j‖₂ fraction of each row in [rows[0], rows[1]) of w [·, cols]. */
function pruneRows(
  w: Float32Array,
  o: { rows: [number, number]; cols: number; norms: Float64Array; sparsity: number },
): void {
  const { cols, norms } = o;
  const k = Math.floor(cols * o.sparsity);
  for (let r = o.rows[0]; r < o.rows[1]; r++) {
    const score = (j: number) => Math.abs(w[r * cols + j]!) * norms[j]!;
    const order = [...Array(cols).keys()].sort((a, b) => score(a) - score(b));
    for (const j of order.slice(0, k)) w[r * cols + j] = 0;
  }
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
    return pruneLayerwise(ctx, {
      notes: { sparsity: s, conv_patch_rows_max: CONV_PATCH_ROWS },
      linear: async (l, w) => {
        const norms = inputNorms((await calibrationInputs(ctx, l)).x, l.inFeatures);
        pruneRows(w, { rows: [0, l.outFeatures], cols: l.inFeatures, norms, sparsity: s });
      },
      conv: async (c, w) => {
        const { x, dims } = await convCalibrationInput(ctx, c);
        const [oh, ow] = convOutputSize(c, [dims[2]!, dims[3]!]);
        const rows = spreadRows(dims[0]! * oh * ow, CONV_PATCH_ROWS);
        const perGroup = c.outChannels / c.groups;
        for (let g = 0; g < c.groups; g++) {
          const patches = unfoldPatches(x, dims, { conv: c, group: g, rows });
          pruneRows(w, {
            rows: [g * perGroup, (g + 1) * perGroup],
            cols: c.rowLength,
            norms: inputNorms(patches, c.rowLength),
            sparsity: s,
          });
        }
      },
      depthwiseByMagnitude: s,
    });
  },
});
