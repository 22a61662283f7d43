import assert from "node:assert/strict";
import { createRng } from "../lib/prng.ts";
import { predictScores, topkLabels, topkRecall, trainPredictor } from "./deja_vu.ts";

Deno.test("topkLabels() marks the k entries of largest magnitude in each row", () => {
  const labels = topkLabels(Float32Array.from([0.1, -3, 2, 0.5, 4, -0.2, 1, 0]), 4, 2);
  assert.deepEqual([...labels], [0, 1, 1, 0, 1, 0, 1, 0]);
});

Deno.test("trainPredictor() learns which neurons a linear rule activates, well above chance", () => {
  // Hidden activations that are a fixed linear map of the input: the predictor can learn them.
  const d = 16, m = 40, k = 4, rows = 1500;
  const rng = createRng(3);
  const map = Float32Array.from({ length: d * m }, () => rng.normal());
  const x = Float32Array.from({ length: rows * d }, () => rng.normal());
  const hidden = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < m; o++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += x[r * d + i]! * map[i * m + o]!;
      hidden[r * m + o] = s;
    }
  }
  const labels = topkLabels(hidden, m, k);
  const train = 1200;
  const net = trainPredictor(x.subarray(0, train * d), labels.subarray(0, train * m), { d, m }, {
    hidden: 48,
    epochs: 40,
    learningRate: 3e-3,
    batch: 64,
    seed: 1,
  });
  const recall = topkRecall(
    predictScores(net, x.subarray(train * d)),
    labels.subarray(train * m),
    m,
    k,
  );
  assert.ok(recall > 0.4, `recall ${recall} (chance is ${k / m})`);
});

Deno.test("topkRecall() is 1 for scores that rank the labels first and 0 for their opposite", () => {
  const labels = Uint8Array.from([1, 0, 0, 1]);
  assert.equal(topkRecall(Float32Array.from([5, -1, 0, 4]), labels, 4, 2), 1);
  assert.equal(topkRecall(Float32Array.from([-5, 1, 2, -4]), labels, 4, 2), 0);
});
