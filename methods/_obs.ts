/**
 * The Optimal Brain Surgeon maths the weight-pruning methods share, on one weight matrix W
 * [rows, cols] (cols = inputs) in float64, row-major: the Hessian of a layer's calibration inputs,
 * its damping, SparseGPT's blocked mask-and-compensate pass, and the removal of whole input columns
 * with the OBS compensation of the rest and the downdate of H⁻¹.
 *
 * @module
 */

import { choleskyUpper, spdInverse } from "./_linalg.ts";

/**
 * H = 2 Σ_r w_r x_r x_rᵀ / Σ_r w_r over calibration rows x_r (width `d`), with optional per-row
 * weights (OBS-Diff weights denoising timesteps this way).
 *
 * @param x Rows, row-major [rows, d].
 * @param d Width.
 * @param weights Per-row weights (default 1).
 * @returns H, d × d.
 */
export function accumulateHessian(
  x: Float32Array,
  d: number,
  weights?: Float32Array,
): Float64Array {
  const rows = x.length / d;
  const h = new Float64Array(d * d);
  let total = 0;
  const row = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const w = weights?.[r] ?? 1;
    total += w;
    for (let i = 0; i < d; i++) row[i] = x[r * d + i]!;
    for (let i = 0; i < d; i++) {
      const xi = row[i]! * w;
      if (xi === 0) continue;
      const off = i * d;
      for (let j = 0; j <= i; j++) h[off + j]! += xi * row[j]!;
    }
  }
  const scale = 2 / Math.max(total, 1e-12);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = h[i * d + j]! * scale;
      h[i * d + j] = v;
      h[j * d + i] = v;
    }
  }
  return h;
}

/**
 * Adds 1 % of the mean diagonal to H's diagonal (SparseGPT's damping), in place. An input that
 * never fires (a zero diagonal) has no signal to preserve: its weights are zeroed and its
 * diagonal set to 1 so that H stays invertible.
 *
 * @param h H, d × d (damped in place).
 * @param d Width.
 * @param w W [rows, d] (dead inputs' columns zeroed in place).
 * @param rows Rows of W.
 */
export function dampHessian(h: Float64Array, d: number, w: Float64Array, rows: number): void {
  let mean = 0;
  for (let i = 0; i < d; i++) mean += h[i * d + i]!;
  mean /= d;
  for (let i = 0; i < d; i++) {
    if (h[i * d + i] === 0) {
      h[i * d + i] = 1;
      for (let r = 0; r < rows; r++) w[r * d + i] = 0;
    }
    h[i * d + i]! += 0.01 * mean;
  }
}

/**
 * H⁻¹ of the damped Hessian (see `dampHessian`, which it applies to `h` and `w` first).
 *
 * @param h H, d × d (damped in place).
 * @param d Width.
 * @param w W [rows, d] (dead inputs' columns zeroed in place).
 * @param rows Rows of W.
 * @returns H⁻¹.
 */
export function dampedInverse(
  h: Float64Array,
  d: number,
  w: Float64Array,
  rows: number,
): Float64Array {
  dampHessian(h, d, w, rows);
  return spdInverse(h, d);
}

/**
 * The OBS saliency of removing input column j: Σ_i W_ij² / [H⁻¹]_jj, the output error it costs
 * after compensation.
 *
 * @param w W [rows, cols].
 * @param rows Rows.
 * @param cols Columns.
 * @param hinv H⁻¹, cols × cols.
 * @param j The column.
 * @returns The saliency.
 */
export function columnSaliency(
  w: Float64Array,
  rows: number,
  cols: number,
  hinv: Float64Array,
  j: number,
): number {
  let s = 0;
  for (let r = 0; r < rows; r++) s += w[r * cols + j]! ** 2;
  return s / hinv[j * cols + j]!;
}

/**
 * Removes input column j: the OBS update compensates the columns still alive, H⁻¹ is downdated
 * to forget j, and the column becomes zero.
 */
function removeColumn(
  w: Float64Array,
  rows: number,
  cols: number,
  hinv: Float64Array,
  alive: Uint8Array,
  j: number,
): void {
  const d = hinv[j * cols + j]!;
  for (let r = 0; r < rows; r++) {
    const f = w[r * cols + j]! / d;
    if (f === 0) continue;
    for (let c = 0; c < cols; c++) if (alive[c]) w[r * cols + c]! -= f * hinv[j * cols + c]!;
  }
  const rowJ = hinv.slice(j * cols, j * cols + cols);
  for (let i = 0; i < cols; i++) {
    const f = hinv[i * cols + j]! / d;
    if (f === 0) continue;
    for (let c = 0; c < cols; c++) hinv[i * cols + c]! -= f * rowJ[c]!;
  }
  alive[j] = 0;
  for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
}

/**
 * Structured OBS on the input columns of W [rows, cols]: removes `remove` columns one at a time
 * (lowest saliency first, see `columnSaliency`), compensating the remaining columns and
 * downdating H⁻¹.
 *
 * @param w W as float64 (updated in place).
 * @param rows Rows.
 * @param cols Columns.
 * @param h Hessian of the inputs (damped in place).
 * @param remove How many columns to remove.
 * @returns The kept column indices, ascending.
 */
export function obsRemoveColumns(
  w: Float64Array,
  rows: number,
  cols: number,
  h: Float64Array,
  remove: number,
): number[] {
  const hinv = dampedInverse(h, cols, w, rows);
  const alive = new Uint8Array(cols).fill(1);
  for (let step = 0; step < remove; step++) {
    let best = -1;
    let bestScore = Infinity;
    for (let j = 0; j < cols; j++) {
      if (!alive[j]) continue;
      const s = columnSaliency(w, rows, cols, hinv, j);
      if (s < bestScore) {
        bestScore = s;
        best = j;
      }
    }
    removeColumn(w, rows, cols, hinv, alive, best);
  }
  return [...alive.keys()].filter((j) => alive[j]);
}

/**
 * OBS removal of given input columns of W [rows, cols] (a whole attention head), compensating the
 * remaining columns and downdating H⁻¹ after each.
 *
 * @param w W as float64 (updated in place).
 * @param rows Rows.
 * @param cols Columns.
 * @param hinv H⁻¹ (updated in place).
 * @param columns Columns to remove.
 */
export function obsRemoveGivenColumns(
  w: Float64Array,
  rows: number,
  cols: number,
  hinv: Float64Array,
  columns: readonly number[],
): void {
  const alive = new Uint8Array(cols).fill(1);
  for (const j of columns) removeColumn(w, rows, cols, hinv, alive, j);
}

/** SparseGPT's mask score of weight w on an input with U_jj = d: w² / d². */
function maskScore(w: number, d: number): number {
  return w ** 2 / d ** 2;
}

/** Marks (1) the `floor(n · fraction)` lowest of n scores, ties broken by position. */
function lowestScores(scores: Float64Array, fraction: number): Uint8Array {
  const mask = new Uint8Array(scores.length);
  const sorted = Float64Array.from(scores).sort();
  const cut = Math.floor(scores.length * fraction);
  const thresh = cut > 0 ? sorted[cut - 1]! : -Infinity;
  let pruned = 0;
  for (let k = 0; k < scores.length; k++) {
    if (scores[k]! <= thresh && pruned < cut) {
      mask[k] = 1;
      pruned++;
    }
  }
  return mask;
}

/**
 * SparseGPT on one weight matrix W [rows, cols] (cols = inputs), in place: columns in blocks, a
 * mask per block (the lowest w² / [U]_jj² of the block, or the M − N lowest of every group of M
 * columns, chosen when the group's first column is reached), each pruned weight's error
 * compensated on the columns after it with U, the upper Cholesky factor of H⁻¹.
 *
 * @param w W as float64, row-major.
 * @param rows Output rows.
 * @param cols Input columns.
 * @param h Hessian of the inputs (cols × cols), damped in place.
 * @param options Target sparsity, or N:M; block size (default 128).
 */
export function sparseGptPrune(
  w: Float64Array,
  rows: number,
  cols: number,
  h: Float64Array,
  options: { sparsity?: number; n?: number; m?: number; block?: number },
): void {
  dampHessian(h, cols, w, rows);
  const u = choleskyUpper(spdInverse(h, cols), cols);
  const block = options.block ?? 128;
  const { n, m } = options;
  for (let i1 = 0; i1 < cols; i1 += block) {
    const i2 = Math.min(i1 + block, cols);
    const count = i2 - i1;
    const w1 = new Float64Array(rows * count);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) w1[r * count + j] = w[r * cols + i1 + j]!;
    }
    const err1 = new Float64Array(rows * count);
    const hd = (j: number) => u[(i1 + j) * cols + i1 + j]!;
    let mask: Uint8Array = new Uint8Array(rows * count);
    if (options.sparsity !== undefined) {
      const scores = new Float64Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < count; j++) {
          scores[r * count + j] = maskScore(w1[r * count + j]!, hd(j));
        }
      }
      mask = lowestScores(scores, options.sparsity);
    }
    for (let j = 0; j < count; j++) {
      const d = hd(j);
      if (n !== undefined && m !== undefined && j % m === 0) {
        // N:M groups are masked on the weights as compensated so far.
        for (let r = 0; r < rows; r++) {
          const group = [];
          for (let c = j; c < Math.min(j + m, count); c++) {
            group.push({ c, s: maskScore(w1[r * count + c]!, hd(c)) });
          }
          group.sort((a, b) => a.s - b.s);
          for (const g of group.slice(0, m - n)) mask[r * count + g.c] = 1;
        }
      }
      for (let r = 0; r < rows; r++) {
        const wv = w1[r * count + j]!;
        const q = mask[r * count + j] ? 0 : wv;
        const e = (wv - q) / d;
        err1[r * count + j] = e;
        if (e !== 0) {
          for (let c = j; c < count; c++) w1[r * count + c]! -= e * u[(i1 + j) * cols + i1 + c]!;
        }
        w1[r * count + j] = q;
      }
    }
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < count; j++) w[r * cols + i1 + j] = w1[r * count + j]!;
      // Propagate this block's error to the columns after it.
      for (let j = 0; j < count; j++) {
        const e = err1[r * count + j]!;
        if (e === 0) continue;
        const urow = (i1 + j) * cols;
        for (let c = i2; c < cols; c++) w[r * cols + c]! -= e * u[urow + c]!;
      }
    }
  }
}
