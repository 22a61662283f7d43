import assert from "node:assert/strict";
import {
  bootstrapRatioCi,
  mad,
  mannWhitney,
  median,
  normalCdf,
  normalQuantile,
  outlierIndices,
  quantile,
  summarize,
} from "./stats.ts";

Deno.test("quantile() interpolates between order statistics like R type 7", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10], 0.9), 10);
  assert.equal(quantile([0, 10], 0.1), 1);
  assert.throws(() => quantile([], 0.5), RangeError);
});

Deno.test("median() and mad() are robust to one wild value", () => {
  const v = [1, 2, 3, 4, 1000];
  assert.equal(median(v), 3);
  assert.equal(mad(v), 1);
});

Deno.test("outlierIndices() flags by modified z-score and keeps quiet on constant data", () => {
  const v = [10, 10.1, 9.9, 10.05, 9.95, 10.02, 30];
  assert.deepEqual(outlierIndices(v), [6]);
  assert.deepEqual(outlierIndices([5, 5, 5, 5]), []);
});

Deno.test("summarize() reports median, p10/p90, MAD and outlier count", () => {
  const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(s.count, 10);
  assert.equal(s.medianMs, 5.5);
  assert.ok(Math.abs(s.p10Ms - 1.9) < 1e-12);
  assert.ok(Math.abs(s.p90Ms - 9.1) < 1e-12);
  assert.equal(s.madMs, 2.5);
  assert.equal(s.outliers, 0);
});

Deno.test("bootstrapRatioCi() brackets the true ratio and is reproducible", () => {
  const dense = Array.from({ length: 50 }, (_, i) => 10 + (i % 5) * 0.1);
  const sparse = Array.from({ length: 50 }, (_, i) => 5 + (i % 5) * 0.05);
  const a = bootstrapRatioCi(dense, sparse, { seed: 4 });
  const b = bootstrapRatioCi(dense, sparse, { seed: 4 });
  assert.deepEqual(a, b);
  assert.ok(a.low <= 2 && 2 <= a.high, `CI [${a.low}, ${a.high}] should hold 2`);
  assert.ok(Math.abs(a.estimate - 2) < 0.01);
});

Deno.test("bootstrapRatioCi() widens when samples are noisy", () => {
  const quiet = bootstrapRatioCi([10, 10, 10, 10, 10, 10], [5, 5, 5, 5, 5, 5]);
  const noisy = bootstrapRatioCi([8, 12, 9, 11, 10, 14], [4, 6, 5, 7, 3, 5]);
  assert.equal(quiet.high - quiet.low, 0);
  assert.ok(noisy.high - noisy.low > 0.5);
});

Deno.test("mannWhitney() separates shifted samples and not identical ones", () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.ok(mannWhitney(x, x.map((v) => v + 20)).p < 0.001);
  assert.ok(mannWhitney(x, x).p > 0.9);
});

Deno.test("normalQuantile() inverts normalCdf()", () => {
  for (const p of [0.001, 0.1, 0.5, 0.8, 0.99]) {
    assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-6, `p=${p}`);
  }
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
  assert.throws(() => normalQuantile(1), RangeError);
});
