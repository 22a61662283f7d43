import assert from "node:assert/strict";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { SparkLmDecodeRun } from "./_spark_lm_decode.ts";
import { lmDecodePlan } from "./spark.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`spark-lm-decode tests skipped: ${(e as Error).message}`);
  return undefined;
});

const context = {
  quick: true,
  targets: ["wgsl" as const],
  progress: () => {},
  backend: () => Promise.reject(new Error("spark-lm-decode cells take no backend")),
};

Deno.test("spark-lm-decode plans the twin, then each Spark model beside the post-hoc methods at its fraction", () => {
  const keys = lmDecodePlan({}).map((c) => c.key);
  assert.deepEqual(lmDecodePlan({ methods: [], sparsities: [] }).map((c) => c.key), keys);
  assert.deepEqual(keys, [
    "lm-char-spark-dense/dense",
    "lm-char-spark-k8/spark",
    "lm-char-spark-dense/stat-topk@0.08",
    "lm-char-spark-dense/teal@0.08",
    "lm-char-spark-dense/cats@0.08",
    "lm-char-spark-k25/spark",
    "lm-char-spark-dense/stat-topk@0.25",
    "lm-char-spark-dense/teal@0.25",
    "lm-char-spark-dense/cats@0.25",
  ]);
  const some = lmDecodePlan({ methods: ["cats"], sparsities: [0.75] }).map((c) => c.key);
  assert.deepEqual(some, ["lm-char-spark-dense/dense", "lm-char-spark-dense/cats@0.25"]);
});

Deno.test({
  name:
    "a post-hoc cell decodes the twin with the down input sparse, its bpc checked against the CPU reference and its kept fraction counted",
  ignore: !gpu,
}, async () => {
  const run = new SparkLmDecodeRun();
  try {
    for (const method of ["stat-topk", "teal", "cats"] as const) {
      const cell = await run.measurePostHoc(method, 0.75, context);
      const extra = cell.extra!;
      assert.ok(Math.abs(Number(extra.bpc_engine_minus_reference)) <= 1e-3);
      assert.equal(JSON.parse(cell.params!).projections, "down");
      // Only down is sparse, so at most a third of the FFN's FLOPs go.
      assert.ok(cell.flops_reduction! > 1 && cell.flops_reduction! < 1.5);
      assert.ok(cell.sparsity_realized! > 0.5 && cell.sparsity_realized! < 0.95);
      assert.ok(cell.accuracy! >= cell.accuracy_dense! - 0.05);
      assert.equal(cell.time_basis, "interleaved");
      assert.equal(cell.dense_samples_ms!.length, cell.runs);
    }
  } finally {
    run.destroy();
  }
});
