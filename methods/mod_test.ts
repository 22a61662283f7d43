import assert from "node:assert/strict";
import { tinySuite } from "../src/_test_fixtures.ts";
import type { VariantSpec } from "../src/suite.ts";
import { METHODS } from "./mod.ts";
import { runSuite } from "./_test_runs.ts";

async function runTiny(
  variants: VariantSpec[],
  targets: ("ort-node" | "ort-wasm" | "ort-webgpu" | "wgsl")[] = ["ort-node"],
) {
  // Pixels without exact zeros, so calibrated thresholds alone decide the sparsity.
  const { suite, modelBytes, dataset } = await tinySuite({ variants, targets }, {
    zeroFraction: 0,
  });
  return runSuite(suite, { readModel: () => Promise.resolve(modelBytes), dataset });
}

Deno.test("every activation and pruning method produces a model that ORT runs, with its figures", async () => {
  const variants: VariantSpec[] = [
    { method: "relu" },
    { method: "topk", sparsity: [0.5] },
    { method: "stat-topk", sparsity: [0.5] },
    { method: "stat-topk", params: { form: "soft" }, sparsity: [0.5] },
    { method: "teal", sparsity: [0.5] },
    { method: "wina", sparsity: [0.5] },
    { method: "wina", params: { select: "threshold" }, sparsity: [0.5] },
    { method: "cats", sparsity: [0.5] },
    { method: "magnitude", sparsity: [0.5] },
    { method: "magnitude", params: { scope: "global" }, sparsity: [0.5] },
    { method: "wanda", sparsity: [0.5] },
    { method: "sparsegpt", sparsity: [0.5] },
    { method: "sparsegpt-nm", params: { n: 2, m: 4 } },
    { method: "sparsegpt-structured", sparsity: [0.5] },
  ];
  const cells = await runTiny(variants);
  for (const c of cells) {
    assert.equal(c.status, "completed", `${c.method} ${c.params}: ${c.error}`);
    assert.ok(c.accuracy !== null && c.flops_effective !== null && c.speedup !== null, c.method);
  }
  const by = (m: string, p = "{}") => cells.find((c) => c.method === m && c.params === p)!;
  // Calibrated methods land within 2 points of the target on the evaluation split.
  for (const [m, p] of [["teal", "{}"], ["wina", '{"select":"threshold"}']] as [string, string][]) {
    assert.ok(
      Math.abs(by(m, p).sparsity_realized! - 0.5) <= 0.02,
      `${m}: realised ${by(m, p).sparsity_realized}`,
    );
  }
  assert.ok(Math.abs(by("wina").sparsity_realized! - 0.5) <= 0.01, "top-k keeps exactly half");
  assert.ok(Number(by("sparsegpt").extra.compression_ratio) > 1.5);
  assert.ok(by("sparsegpt-structured").flops_effective! < by("dense").flops_dense!);
  assert.ok(typeof by("relu").extra.dnr === "number", "ReLU models report a dead-neuron rate");
  // CoreMatching and head pruning need attention, which the tiny MLP lacks: the zoo tests
  // below exercise them.
  const needAttention = (id: string) => id.startsWith("corematching") || id.endsWith("-heads");
  for (const id of METHODS.keys()) {
    if (needAttention(id)) continue;
    assert.ok(cells.some((c) => c.method === id), `method ${id} is not exercised`);
  }
});

Deno.test("every activation method and the pruned variants run on every ORT target and on the wgsl kernels", async () => {
  const cells = await runTiny(
    [
      { method: "relu" },
      { method: "topk", sparsity: [0.5] },
      { method: "stat-topk", sparsity: [0.5] },
      { method: "teal", sparsity: [0.5] },
      { method: "wina", sparsity: [0.5] },
      { method: "cats", sparsity: [0.5] },
      { method: "sparsegpt-structured", sparsity: [0.5] },
    ],
    ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"],
  );
  assert.equal(cells.length, 8 * 4);
  for (const c of cells) assert.equal(c.status, "completed", `${c.target} ${c.method}: ${c.error}`);
});
