import assert from "node:assert/strict";
import { codeDifferences, compareRuns, formatP, speedupRatio } from "./compare.ts";
import type { RunData } from "./run_data.ts";
import { emptyCell } from "../result.ts";

function run(
  id: string,
  device: string,
  ms: number,
  suiteSha = "a".repeat(64),
  modelSha = "b".repeat(64),
  git: Record<string, unknown> = { commit: "f".repeat(40), dirty: false },
): RunData {
  const base = (method: string, t: number) => ({
    ...emptyCell({
      key: `k-${method}`,
      suite: "s",
      model: "m",
      model_sha256: modelSha,
      dataset: "mnist",
      dataset_hash: "c".repeat(64),
      target: "ort-webgpu",
      device,
      method,
      params: "{}",
      sparsity_target: method === "dense" ? null : 0.5,
      metric: "accuracy",
    }),
    time_median_ms: t,
    speedup: method === "dense" ? 1 : 2,
    samples_ms: Array.from({ length: 20 }, (_, i) => t * (1 + (i % 5) * 0.01)),
  });
  return {
    id,
    run: {
      runId: id,
      environment: { git },
      suites: [{
        id: "s",
        sha256: suiteSha,
        model: { sha256: modelSha },
        dataset: { hash: "c".repeat(64) },
      }],
    },
    cells: [base("dense", ms), base("teal", ms / 2)],
  };
}

Deno.test("compareRuns() puts each cell side by side with the time ratio and a significance test", () => {
  const cells = compareRuns([run("cpu", "llvmpipe", 50), run("gpu", "NVIDIA H200", 1)]);
  assert.equal(cells.length, 2);
  const dense = cells.find((c) => c.method === "dense")!;
  assert.deepEqual(dense.devices, ["llvmpipe", "NVIDIA H200"]);
  assert.equal(dense.ratios[1], 1 / 50);
  assert.ok(dense.pValues[1]! < 0.001);
  assert.deepEqual(cells.find((c) => c.method === "teal")!.speedups, [2, 2]);
});

Deno.test("compareRuns() refuses runs of different suite files, models or no shared suite", () => {
  assert.throws(
    () => compareRuns([run("a", "x", 1), run("b", "y", 1, "d".repeat(64))]),
    /Runs a and b are not comparable for suite s: suite file hash differs/,
  );
  assert.throws(
    () => compareRuns([run("a", "x", 1), run("b", "y", 1, "a".repeat(64), "e".repeat(64))]),
    /model sha256 differs/,
  );
  const other = run("c", "z", 1);
  (other.run.suites as { id: string }[])[0]!.id = "other";
  assert.throws(() => compareRuns([run("a", "x", 1), other]), /share no suite/);
  assert.throws(() => compareRuns([run("a", "x", 1)]), /at least two run folders/);
});

Deno.test("compareRuns() refuses runs of different code unless allowed, and says how they differ", () => {
  const a = run("a", "x", 1);
  const other = run("b", "y", 1, "a".repeat(64), "b".repeat(64), { commit: "e".repeat(40) });
  assert.throws(
    () => compareRuns([a, other]),
    /Runs a and b are not of the same code: runs a and b are of different commits \(fffffff vs eeeeeee\); pass --allow-different-code/,
  );
  const dirty = run("c", "y", 1, "a".repeat(64), "b".repeat(64), {
    commit: "f".repeat(40),
    dirty: true,
  });
  assert.throws(() => compareRuns([a, dirty]), /uncommitted changes \(fffffff-dirty\)/);
  const unknown = run("d", "y", 1, "a".repeat(64), "b".repeat(64), { commit: "unknown" });
  assert.throws(() => compareRuns([a, unknown]), /records no git commit/);
  const sources = run("e", "y", 1);
  const pin = (r: RunData) => (r.run.suites as { files?: unknown }[])[0]!;
  pin(a).files = [{ path: "kernels/gemv.wgsl", sha256: "1" }];
  pin(sources).files = [{ path: "kernels/gemv.wgsl", sha256: "2" }];
  assert.throws(() => compareRuns([a, sources]), /kernels\/gemv\.wgsl differs between a and e/);
  assert.equal(compareRuns([a, other], { allowDifferentCode: true }).length, 2);
  assert.deepEqual(codeDifferences([a, other]), [
    "runs a and b are of different commits (fffffff vs eeeeeee)",
  ]);
  const changedSuite = run("g", "y", 1, "d".repeat(64));
  assert.equal(compareRuns([a, changedSuite], { allowDifferentCode: true }).length, 2);
  assert.match(codeDifferences([a, changedSuite]).join(), /suite s: suite file hash differs/);
  pin(a).files = undefined;
  assert.deepEqual(codeDifferences([a, run("h", "y", 2)]), []);
});

Deno.test("compareRuns() gives the ratio of the machines' speedups and of their times with intervals", () => {
  const cells = compareRuns([run("cpu", "llvmpipe", 50), run("gpu", "NVIDIA H200", 1)], {
    resamples: 500,
  });
  const dense = cells.find((c) => c.method === "dense")!;
  const ci = dense.ratioCis[1]!;
  assert.ok(ci.low <= 1 / 50 && 1 / 50 <= ci.high, JSON.stringify(ci));
  assert.equal(dense.ratioCis[0], null);
  // The fixture has no dense samples paired with its variants: no speedup ratio is claimed.
  assert.equal(cells.find((c) => c.method === "teal")!.speedupRatios[1], null);
});

Deno.test("speedupRatio() brackets the true ratio and its p separates a real difference from none", () => {
  const noisy = (m: number, n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => m * (1 + 0.05 * Math.sin(seed * 7 + i * 1.3)));
  const a = { dense: noisy(10, 40, 1), variant: noisy(10, 40, 2) };
  const faster = { dense: noisy(4, 40, 3), variant: noisy(2, 40, 4) };
  const r = speedupRatio(a, faster, { resamples: 1000 });
  assert.ok(r.low < 2 && 2 < r.high * 1.05 && r.low > 1.7, JSON.stringify(r));
  assert.equal(r.p, 2 / 1000);
  const same = speedupRatio(a, { dense: noisy(10, 40, 5), variant: noisy(10, 40, 6) }, {
    resamples: 1000,
  });
  assert.ok(same.low < 1 && 1 < same.high && same.p > 0.05, JSON.stringify(same));
});

Deno.test("formatP() prints p-values no finer than the tests resolve", () => {
  assert.equal(formatP(0.0001827), "< 1e-3");
  assert.equal(formatP(0.0312), "0.031");
  assert.equal(formatP(null), "");
});
