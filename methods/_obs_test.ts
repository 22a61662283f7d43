import assert from "node:assert/strict";
import { accumulateHessian, obsRemoveColumns, sparseGptPrune } from "./_obs.ts";
import { createRng } from "../lib/prng.ts";

function problem(rows: number, cols: number, samples: number, seed: number) {
  const rng = createRng(seed);
  // Correlated inputs, as real activations are: a few shared factors plus noise.
  const factors = Array.from(
    { length: 4 },
    () => Float64Array.from({ length: cols }, () => rng.normal()),
  );
  const x = new Float32Array(samples * cols);
  for (let s = 0; s < samples; s++) {
    const f = factors.map(() => rng.normal());
    for (let j = 0; j < cols; j++) {
      x[s * cols + j] = f.reduce((a, v, k) => a + v * factors[k]![j]!, 0) + 0.3 * rng.normal();
    }
  }
  const w = Float64Array.from({ length: rows * cols }, () => rng.normal());
  return { x, w };
}

function outputError(
  w: Float64Array,
  q: Float64Array,
  x: Float32Array,
  rows: number,
  cols: number,
): number {
  let err = 0;
  for (let s = 0; s < x.length / cols; s++) {
    for (let r = 0; r < rows; r++) {
      let d = 0;
      for (let j = 0; j < cols; j++) d += (w[r * cols + j]! - q[r * cols + j]!) * x[s * cols + j]!;
      err += d * d;
    }
  }
  return err;
}

Deno.test("sparseGptPrune() reaches the sparsity and reconstructs the layer's output better than magnitude pruning", () => {
  const rows = 24;
  const cols = 40;
  const { x, w } = problem(rows, cols, 400, 1);
  const q = Float64Array.from(w);
  sparseGptPrune(q, rows, cols, accumulateHessian(x, cols), { sparsity: 0.5, block: 16 });
  const zeros = q.filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros / q.length - 0.5) < 0.02, `sparsity ${zeros / q.length}`);
  const mag = Float64Array.from(w);
  const t = Float64Array.from(w, Math.abs).sort()[Math.floor(w.length * 0.5)]!;
  mag.forEach((v, i) => (mag[i] = Math.abs(v) < t ? 0 : v));
  assert.ok(outputError(w, q, x, rows, cols) < outputError(w, mag, x, rows, cols));
});

Deno.test("sparseGptPrune() with N:M leaves at least M−N zeros in every group of M inputs", () => {
  const rows = 8;
  const cols = 32;
  const { x, w } = problem(rows, cols, 200, 2);
  for (const [n, m] of [[2, 4], [4, 8]] as [number, number][]) {
    const q = Float64Array.from(w);
    sparseGptPrune(q, rows, cols, accumulateHessian(x, cols), { n, m });
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < cols; g += m) {
        const zeros = [...q.subarray(r * cols + g, r * cols + g + m)].filter((v) => v === 0).length;
        assert.ok(zeros >= m - n, `row ${r} group ${g}: ${zeros} zeros`);
      }
    }
  }
});

Deno.test("obsRemoveColumns() removes whole columns and compensates the rest better than dropping them", () => {
  const rows = 16;
  const cols = 30;
  const { x, w } = problem(rows, cols, 300, 3);
  const q = Float64Array.from(w);
  const keep = obsRemoveColumns(q, rows, cols, accumulateHessian(x, cols), 10);
  assert.equal(keep.length, 20);
  const dropped = Float64Array.from(w);
  for (let j = 0; j < cols; j++) {
    if (!keep.includes(j)) {
      for (let r = 0; r < rows; r++) {
        assert.ok(Math.abs(q[r * cols + j]!) < 1e-9, "removed columns are zero");
        dropped[r * cols + j] = 0;
      }
    }
  }
  assert.ok(outputError(w, q, x, rows, cols) < outputError(w, dropped, x, rows, cols));
});

Deno.test("accumulateHessian() weights samples (OBS-Diff's timestep weighting)", () => {
  const x = Float32Array.of(1, 0, 0, 1);
  const h = accumulateHessian(x, 2, Float32Array.of(3, 1));
  assert.deepEqual([...h], [1.5, 0, 0, 0.5]);
});
