import assert from "node:assert/strict";
import {
  compressionFigures,
  denseView,
  type LayerRecord,
  pairedDifferenceCi,
  wilson,
} from "./turbo_vbi_figures.ts";

// Two linear layers 4 -> 3 -> 2; the hidden neuron 1 is removed, groups of 2 inputs.
const layers: LayerRecord[] = [
  {
    dense_shape: [3, 4],
    sliced_shape: [2, 4],
    kept_out: [0, 2],
    kept_in: null,
    in_unit: 1,
    group: 2,
  },
  {
    dense_shape: [2, 3],
    sliced_shape: [2, 2],
    kept_out: null,
    kept_in: [0, 2],
    in_unit: 1,
    group: 1,
  },
];

Deno.test("denseView() puts sliced rows and columns back at their dense indices", () => {
  const w = denseView(layers[1]!, Float32Array.from([1, 2, 3, 4]));
  assert.deepEqual([...w], [1, 0, 2, 3, 0, 4]);
  assert.throws(() => denseView(layers[1]!, new Float32Array(3)), /sliced shape/);
});

Deno.test("compressionFigures() counts zeros in removed neurons and whole aligned groups", () => {
  const f = compressionFigures(layers, [
    // Row 0: group [0, 0] zero, [5, 0] a scattered zero; row 2: all nonzero.
    { weight: Float32Array.from([0, 0, 5, 0, 1, 1, 1, 1]), bias: Float32Array.from([1, 1]) },
    { weight: Float32Array.from([1, 2, 3, 4]), bias: Float32Array.from([0, 1]) },
  ]);
  assert.equal(f.paramsDense, 12 + 3 + 6 + 2);
  assert.equal(f.paramsNonzero, 5 + 2 + 4 + 1);
  // Zeros: layer 1 has 4 in the removed row + 3 in row 0; layer 2 has the 2 of column 1.
  assert.equal(f.zeros, 9);
  // Structured: removed row (4) + group [0, 0] (2) + column 1 of layer 2 (2); the lone zero is not.
  assert.equal(f.regularity, 8 / 9);
  assert.equal(f.neuronShare, 6 / 9);
  assert.deepEqual(f.neuronsKept, [2, 2]);
});

Deno.test("wilson() brackets the proportion and stays inside [0, 1]", () => {
  const w = wilson(95, 100);
  assert.ok(w.low < 0.95 && w.high > 0.95 && w.high < 1);
  assert.equal(wilson(0, 10).low, 0);
  assert.throws(() => wilson(1, 0), /trials/);
});

Deno.test("pairedDifferenceCi() is zero with no discordant pair and signs the difference", () => {
  const same = Uint8Array.from({ length: 50 }, (_, i) => i % 2);
  const z = pairedDifferenceCi(same, same);
  assert.deepEqual([z.estimate, z.low, z.high], [0, 0, 0]);
  const better = Uint8Array.from(same, () => 1);
  const d = pairedDifferenceCi(better, same);
  assert.equal(d.estimate, 0.5);
  assert.ok(d.low > 0 && d.high <= 1);
  assert.throws(() => pairedDifferenceCi(better, new Uint8Array(3)), /equal/);
});
