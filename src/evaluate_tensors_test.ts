import assert from "node:assert/strict";
import { ctcGreedy, editDistance, meanKl, relativeError } from "./evaluate_tensors.ts";

Deno.test("ctcGreedy() merges repeats and drops blanks, keeping a doubled letter split by a blank", () => {
  const steps = [1, 1, 0, 1, 2, 2, 0];
  const y = new Float32Array(steps.length * 3);
  steps.forEach((c, t) => (y[t * 3 + c] = 1));
  assert.deepEqual(ctcGreedy(y, 3, 0), [1, 1, 2]);
});

Deno.test("editDistance() counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(editDistance([1, 3], [1, 2, 3]), 1);
  assert.equal(editDistance([1, 9, 3, 4], [1, 2, 3]), 2);
  assert.equal(editDistance([], [5, 6]), 2);
});

Deno.test("meanKl() is zero for equal outputs, positive otherwise, for logits and for probabilities", () => {
  const logits = new Float32Array([1, 2, 3, 0, 0, 5]);
  assert.equal(meanKl(logits, logits, 3), 0);
  assert.ok(meanKl(logits, new Float32Array([3, 2, 1, 0, 0, 5]), 3)! > 0.1);
  const p = new Float32Array([0.5, 0.5, 0.9, 0.1]);
  const q = new Float32Array([0.5, 0.5, 0.5, 0.5]);
  const expected = (0.9 * Math.log(0.9 / 0.5) + 0.1 * Math.log(0.1 / 0.5)) / 2;
  assert.ok(Math.abs(meanKl(p, q, 2)! - expected) < 1e-6);
  assert.equal(meanKl(p, q, 1), null);
});

Deno.test("relativeError() is ||b - a|| / ||a||", () => {
  assert.equal(relativeError(new Float32Array([3, 4]), new Float32Array([3, 4])), 0);
  assert.ok(
    Math.abs(relativeError(new Float32Array([3, 4]), new Float32Array([0, 0]))! - 1) < 1e-9,
  );
  assert.equal(relativeError(new Float32Array([0]), new Float32Array([1])), null);
});
