import assert from "node:assert/strict";
import { createBackend } from "../src/backends/mod.ts";
import { createProgress } from "../src/progress.ts";
import { RunDir } from "../src/run_dir.ts";
import { runSuites } from "../src/runner.ts";
import { tinySuite } from "../src/_test_fixtures.ts";
import type { ModelSuite, VariantSpec } from "../src/suite.ts";
import { getMethod, METHODS } from "./mod.ts";

const quiet = createProgress({ quiet: true, interactive: false });

async function runTiny(
  variants: VariantSpec[],
  targets: ("ort-node" | "ort-wasm" | "ort-webgpu" | "wgsl")[] = ["ort-node"],
) {
  // Pixels without exact zeros, so calibrated thresholds alone decide the sparsity.
  const { suite, modelBytes, dataset } = await tinySuite({ variants, targets }, {
    zeroFraction: 0,
  });
  const dir = await RunDir.create(await Deno.makeTempDir(), "m");
  await runSuites({
    suites: [suite],
    quick: false,
    runDir: dir,
    progress: quiet,
    backend: (id) => createBackend(id),
    method: getMethod,
    dataset: () => Promise.resolve(dataset),
    readModel: () => Promise.resolve(modelBytes),
  });
  return dir.cells;
}

/** Runs a zoo suite on ort-node over a few evaluation samples, with the given variants. */
async function runZooSlice(
  base: ModelSuite,
  variants: VariantSpec[],
  samples: { evaluation: number; calibration: number },
  targets: ModelSuite["targets"] = ["ort-node"],
) {
  const { REPO_ROOT } = await import("../lib/repo_root.ts");
  const suite: ModelSuite = {
    ...base,
    targets,
    dataset: {
      ...base.dataset,
      evaluation: { split: "evaluation", samples: samples.evaluation },
      calibration: { split: "calibration", samples: samples.calibration },
    },
    variants,
    timing: { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 3, maxTimeMs: 5000 },
  };
  const dir = await RunDir.create(await Deno.makeTempDir(), "zoo");
  await runSuites({
    suites: [suite],
    quick: false,
    runDir: dir,
    progress: quiet,
    backend: (id) => createBackend(id),
    method: getMethod,
    readModel: (p) => Deno.readFile(`${REPO_ROOT}${p}`),
  });
  return dir.cells;
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

Deno.test("corematching shortens the sequence of the zoo ViT and its ablations run", async () => {
  const { coreMatchingVitRelu } = await import("../suites/corematching.ts");
  const params = { alpha: 0.2, beta: 0.3, betaNeurons: 0.02, layer: 1 };
  const cells = await runZooSlice(
    coreMatchingVitRelu,
    ["corematching", "corematching-tokens", "corematching-neurons"].map((method) => ({
      method,
      params,
    })),
    { evaluation: 12, calibration: 8 },
  );
  for (const c of cells) assert.equal(c.status, "completed", `${c.method}: ${c.error}`);
  const both = cells.find((c) => c.method === "corematching")!;
  const factors = Object.values(both.layer_density ?? {});
  assert.ok(
    factors.length > 0 && factors.every((f) => f < 1),
    `layer factors ${JSON.stringify(both.layer_density)}`,
  );
  assert.ok(both.flops_reduction! > 1);
  const tokensOnly = cells.find((c) => c.method === "corematching-tokens")!;
  const neuronsOnly = cells.find((c) => c.method === "corematching-neurons")!;
  assert.ok(
    both.flops_effective! < Math.min(tokensOnly.flops_effective!, neuronsOnly.flops_effective!),
  );
});

Deno.test("corematching's shorter sequence runs on ort-webgpu with no compute node on the CPU provider", async () => {
  const { coreMatchingVitRelu } = await import("../suites/corematching.ts");
  const cells = await runZooSlice(
    coreMatchingVitRelu,
    [{ method: "corematching", params: { alpha: 0.1, beta: 0.3, betaNeurons: 0.02, layer: 0 } }],
    { evaluation: 4, calibration: 4 },
    ["ort-webgpu"],
  );
  // The backend refuses a model whose non-shape nodes ORT places on the CPU (a NonZero did).
  for (const c of cells) assert.equal(c.status, "completed", `${c.method}: ${c.error}`);
  assert.ok(cells.find((c) => c.method === "corematching")!.flops_reduction! > 1);
});

Deno.test("structured head pruning slices q, k, v and out in exported transformers of both reshape styles", async () => {
  const { pruningVitGelu, pruningLm } = await import("../suites/pruning.ts");
  for (const base of [pruningVitGelu, pruningLm]) {
    const cells = await runZooSlice(
      base,
      [{ method: "sparsegpt-structured-heads", sparsity: [0.25] }],
      { evaluation: base.task.kind === "char-lm" ? 8 : 20, calibration: 4 },
    );
    const c = cells.find((x) => x.method === "sparsegpt-structured-heads")!;
    assert.equal(c.status, "completed", `${base.id}: ${c.error}`);
    assert.equal(c.extra.heads_kept, 3);
    assert.ok(c.flops_effective! < c.flops_dense!);
  }
});
