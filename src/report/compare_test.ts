import assert from "node:assert/strict";
import { compareRuns } from "./compare.ts";
import type { RunData } from "./run_data.ts";
import { emptyCell } from "../result.ts";

function run(
  id: string,
  device: string,
  ms: number,
  suiteSha = "a".repeat(64),
  modelSha = "b".repeat(64),
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
