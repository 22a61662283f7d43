import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { sparkK8, sparkTwin } from "../suites/spark.ts";
import { findSparkFfns } from "./spark_ffn.ts";
import { runZooSlice } from "./_test_runs.ts";

Deno.test("findSparkFfns() finds the predictor, gate remainder, up and down of every Spark block, and none in the twin", async () => {
  const spark = decodeModel(await Deno.readFile(`${REPO_ROOT}${sparkK8.model.path}`));
  const ffns = findSparkFfns(spark);
  assert.equal(ffns.length, 4);
  for (const f of ffns) {
    assert.equal(f.predictor.inFeatures, 96);
    assert.equal(f.predictor.outFeatures, 384);
    assert.equal(f.gateRest.inFeatures, 96);
    assert.equal(f.up.inFeatures, 192);
    assert.equal(f.down.inFeatures, 384);
  }
  const twin = decodeModel(await Deno.readFile(`${REPO_ROOT}${sparkTwin.model.path}`));
  assert.equal(findSparkFfns(twin).length, 0);
});

Deno.test("spark declares about 8 % of the gathered FFN work kept on the k8 model, counting the predictor in full", async () => {
  const cells = await runZooSlice(sparkK8, [{ method: "spark" }], {
    evaluation: 4,
    calibration: 2,
  });
  const spark = cells.find((c) => c.method === "spark")!;
  const dense = cells.find((c) => c.method === "dense")!;
  assert.equal(spark.status, "completed", spark.error);
  // The same graph: the variant only declares what a gathering kernel skips.
  assert.equal(spark.accuracy, dense.accuracy);
  assert.ok(Math.abs(spark.sparsity_realized! - 0.92) < 0.04, `${spark.sparsity_realized}`);
  assert.ok(spark.flops_reduction! > 1.3 && spark.flops_reduction! < dense.flops_dense!);
});

Deno.test("deja-vu and r-sparse run on the dense twin at 92 %, their predictor and low-rank FLOPs counted", async () => {
  const cells = await runZooSlice(sparkTwin, [
    { method: "deja-vu", params: { epochs: 1 }, sparsity: [0.92] },
    { method: "r-sparse", sparsity: [0.92] },
  ], { evaluation: 4, calibration: 4 });
  const dense = cells.find((c) => c.method === "dense")!;
  for (const m of ["deja-vu", "r-sparse"]) {
    const c = cells.find((x) => x.method === m)!;
    assert.equal(c.status, "completed", `${m}: ${c.error}`);
    assert.ok(
      c.flops_effective! < dense.flops_dense! && c.flops_effective! > 0.2 * dense.flops_dense!,
    );
    assert.ok(c.accuracy! > dense.accuracy!, `${m} costs bits per character`);
  }
  const dv = cells.find((c) => c.method === "deja-vu")!;
  assert.ok(
    Math.abs(dv.sparsity_realized! - 0.92) < 0.01,
    `top-k keeps k: ${dv.sparsity_realized}`,
  );
  assert.match(dv.notes, /recall/);
});
