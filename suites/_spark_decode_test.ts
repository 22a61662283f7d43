import assert from "node:assert/strict";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { SparkDecodeRun } from "./_spark_decode.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`spark-decode tests skipped: ${(e as Error).message}`);
  return undefined;
});

const context = {
  quick: true,
  targets: ["wgsl" as const],
  progress: () => {},
  backend: () => Promise.reject(new Error("spark-decode cells take no backend")),
};

Deno.test({
  name:
    "SparkDecodeRun checks R-Sparse's plan against its CPU reference, then times it paired with dense",
  ignore: !gpu,
}, async () => {
  const run = new SparkDecodeRun();
  const shape = { id: "t-48x160", d: 48, h: 160, r: 24, p: 16 };
  const cell = await run.measure(shape, { ...context, method: "r-sparse", keep: 0.25 });
  const extra = cell.extra!;
  // The method's 0.125 of min(48, 160) = 6, rounded down to the GEMVs' multiple of 4.
  assert.equal(extra.ranks, "4,4,4");
  // 0.25 of 48 inputs for gate and up, 0.25 of 160 hidden neurons for down.
  assert.equal(extra.kept_inputs, "12,12,40");
  assert.ok(Number(extra.relative_error) <= 1e-4);
  // Counted: 2·(12·160·2 + 40·48) exact, 2·4·(48 + 160) per linear low-rank, adds, selection.
  const lowRank = (rows: number, cols: number) => 2 * 4 * (rows + cols) + rows + 3 * cols;
  assert.equal(
    cell.flops_effective,
    2 * (24 * 160 + 40 * 48) + 2 * lowRank(160, 48) + lowRank(48, 160),
  );
  assert.equal(cell.sparsity_realized, 1 - 40 / 160);
  assert.equal(cell.time_basis, "interleaved");
  assert.ok(cell.speedup! > 0 && cell.dense_samples_ms!.length === cell.runs);
});

Deno.test({
  name:
    "SparkDecodeRun keeps TEAL's target fraction of hidden neurons, its threshold set on the sparse hidden vector",
  ignore: !gpu,
}, async () => {
  const run = new SparkDecodeRun();
  const shape = { id: "t-48x160", d: 48, h: 160, r: 24, p: 16 };
  const cell = await run.measure(shape, { ...context, method: "teal", keep: 0.25 });
  assert.equal(cell.extra!.kept_neurons, 40);
});
