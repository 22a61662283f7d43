import assert from "node:assert/strict";
import { type Backend, type TargetId } from "./backend.ts";
import { createBackend } from "./backends/mod.ts";
import { getMethod } from "../methods/mod.ts";
import { createProgress } from "./progress.ts";
import { RunDir } from "./run_dir.ts";
import { runSuites } from "./runner.ts";
import { cellKey, expandVariants } from "./plan.ts";
import { tinySuite } from "./_test_fixtures.ts";
import type { ModelSuite } from "./suite.ts";

const quiet = createProgress({ quiet: true, interactive: false });

async function run(
  suite: ModelSuite,
  modelBytes: Uint8Array,
  dataset: Awaited<ReturnType<typeof tinySuite>>["dataset"],
  dir: RunDir,
  backend?: (id: TargetId) => Promise<Backend>,
) {
  return await runSuites({
    suites: [suite],
    quick: false,
    runDir: dir,
    progress: quiet,
    backend: backend ?? ((id) => createBackend(id)),
    method: getMethod,
    dataset: () => Promise.resolve(dataset),
    readModel: () => Promise.resolve(modelBytes),
  });
}

Deno.test("runSuites() measures dense and sparse variants and records one cell each", async () => {
  const { suite, modelBytes, dataset } = await tinySuite();
  const parent = await Deno.makeTempDir();
  const dir = await RunDir.create(parent, "r1");
  await run(suite, modelBytes, dataset, dir);
  const cells = dir.cells;
  assert.deepEqual(cells.map((c) => `${c.method}:${c.status}`), [
    "dense:completed",
    "relu:completed",
    "teal:completed",
  ]);
  const teal = cells[2]!;
  assert.equal(teal.runs, 5);
  assert.ok(
    teal.speedup! > 0 && teal.speedup_ci_low! <= teal.speedup! &&
      teal.speedup! <= teal.speedup_ci_high!,
  );
  // Natural zeros (80 % of the synthetic pixels, ReLU outputs) can only add to the target.
  assert.ok(teal.sparsity_realized! >= 0.48, `realised ${teal.sparsity_realized}`);
  assert.ok(teal.flops_effective! < teal.flops_dense!);
  assert.equal(cells[0]!.accuracy, cells[0]!.accuracy_dense);
  assert.equal(cells[1]!.agreement, 1);
});

Deno.test("runSuites() stops a suite whose model hash does not match, naming file and both hashes", async () => {
  const { suite, modelBytes, dataset } = await tinySuite();
  const tampered = modelBytes.slice();
  tampered[tampered.length - 1]! ^= 0xff;
  const dir = await RunDir.create(await Deno.makeTempDir(), "r2");
  await run(suite, tampered, dataset, dir);
  assert.equal(dir.cells.length, 3);
  for (const c of dir.cells) {
    assert.equal(c.status, "errored");
    assert.match(
      c.error,
      new RegExp(
        `Model file tiny\\.onnx: sha256 [0-9a-f]{64} does not match the pinned ${suite.model.sha256}`,
      ),
    );
  }
});

Deno.test("runSuites() stops a suite whose dataset hash does not match", async () => {
  const { suite, modelBytes, dataset } = await tinySuite();
  const other = { ...dataset, hash: "0".repeat(64) };
  const dir = await RunDir.create(await Deno.makeTempDir(), "r3");
  await run(suite, modelBytes, other, dir);
  assert.match(dir.cells[0]!.error, /Dataset mnist: content hash 0{64} does not match the pinned/);
});

Deno.test("runSuites() records errored cells and goes on", async () => {
  const { suite, modelBytes, dataset } = await tinySuite({
    variants: [{ method: "cats", sparsity: [0.5] }, { method: "no-such-method", sparsity: [0.5] }, {
      method: "relu",
    }],
  });
  const dir = await RunDir.create(await Deno.makeTempDir(), "r4");
  await run(suite, modelBytes, dataset, dir);
  const byMethod = Object.fromEntries(dir.cells.map((c) => [c.method, c]));
  assert.equal(byMethod["no-such-method"]!.status, "errored");
  assert.match(byMethod["no-such-method"]!.error, /Unknown method "no-such-method" \(valid: /);
  assert.equal(byMethod["relu"]!.status, "completed");
  assert.equal(byMethod["cats"]!.status, "completed");
});

Deno.test("runSuites() marks an unavailable target as skipped with its reason", async () => {
  const { suite, modelBytes, dataset } = await tinySuite({
    targets: ["ort-node", "ort-webgpu"],
    variants: [],
  });
  const noGpu = async (id: TargetId): Promise<Backend> => {
    const real = await createBackend(id === "ort-webgpu" ? "ort-node" : id);
    if (id !== "ort-webgpu") return real;
    return {
      ...real,
      id,
      probe: () => Promise.resolve("No WebGPU adapter: install a Vulkan driver"),
      load: real.load.bind(real),
      identity: real.identity.bind(real),
    };
  };
  const dir = await RunDir.create(await Deno.makeTempDir(), "r5");
  await run(suite, modelBytes, dataset, dir, noGpu);
  const gpu = dir.cells.find((c) => c.target === "ort-webgpu")!;
  assert.equal(gpu.status, "skipped");
  assert.match(gpu.error, /No WebGPU adapter/);
  assert.equal(dir.cells.find((c) => c.target === "ort-node")!.status, "completed");
});

Deno.test("--resume semantics: a run killed mid-write loses only the unfinished cell", async () => {
  const { suite, modelBytes, dataset } = await tinySuite();
  const parent = await Deno.makeTempDir();
  const first = await RunDir.create(parent, "r6");
  await run(suite, modelBytes, dataset, first);
  await first.close();
  // Simulate kill -9 after two cells: keep two journal lines and half of the third.
  const lines = (await Deno.readTextFile(`${parent}/r6/cells.jsonl`)).trim().split("\n");
  await Deno.writeTextFile(
    `${parent}/r6/cells.jsonl`,
    `${lines[0]}\n${lines[1]}\n${lines[2]!.slice(0, 40)}`,
  );
  const resumed = await RunDir.resume(parent, "r6");
  assert.equal(resumed.cells.length, 2);
  const loads: string[] = [];
  const counting = async (id: TargetId): Promise<Backend> => {
    const real = await createBackend(id);
    return {
      id: real.id,
      probe: () => real.probe(),
      identity: () => real.identity(),
      load: (m, o) => (loads.push(o.label), real.load(m, o)),
    };
  };
  await run(suite, modelBytes, dataset, resumed, counting);
  assert.equal(resumed.cells.length, 3);
  assert.ok(
    resumed.isFinished(cellKey("tiny", "ort-node", { method: "teal", params: {}, sparsity: 0.5 })),
  );
  assert.ok(!loads.some((l) => l.includes("relu")), `finished cells were redone: ${loads}`);
});

Deno.test("RunDir.create() refuses an existing run folder and ids that escape it", async () => {
  const parent = await Deno.makeTempDir();
  await RunDir.create(parent, "same");
  await assert.rejects(RunDir.create(parent, "same"), /already exists/);
  await assert.rejects(RunDir.create(parent, "../evil"), /Invalid run id "..\/evil"/);
  await assert.rejects(RunDir.resume(parent, "a/b"), /Invalid run id/);
});

Deno.test("expandVariants() keeps the requested methods and grid points, dense first", async () => {
  const { suite } = await tinySuite({
    variants: [{ method: "relu" }, { method: "teal", sparsity: [0.25, 0.5] }, {
      method: "topk",
      sparsity: [0.5, 0.9],
    }],
  });
  const ids = (o: Parameters<typeof expandVariants>[2]) =>
    expandVariants(suite, false, o).map((v) => `${v.method}@${v.sparsity ?? "-"}`);
  assert.deepEqual(ids({}), ["dense@-", "relu@-", "teal@0.25", "teal@0.5", "topk@0.5", "topk@0.9"]);
  assert.deepEqual(ids({ sparsities: [0.5] }), ["dense@-", "relu@-", "teal@0.5", "topk@0.5"]);
  assert.deepEqual(ids({ methods: ["topk"], sparsities: [0.9] }), ["dense@-", "topk@0.9"]);
});

Deno.test("runSuites() records a custom suite whose plan throws as one errored cell and goes on", async () => {
  const { suite, modelBytes, dataset } = await tinySuite();
  const broken = {
    kind: "custom" as const,
    id: "broken",
    title: "t",
    description: "d",
    targets: ["wgsl" as const],
    inDefault: false,
    seed: 0,
    plan: () => Promise.reject(new Error("No WebGPU adapter\nmore detail")),
    runCell: () => Promise.resolve({}),
  };
  const dir = await RunDir.create(await Deno.makeTempDir(), "r7");
  await runSuites({
    suites: [broken, suite],
    quick: false,
    runDir: dir,
    progress: quiet,
    backend: (id) => createBackend(id),
    method: getMethod,
    dataset: () => Promise.resolve(dataset),
    readModel: () => Promise.resolve(modelBytes),
  });
  const plan = dir.cells.find((c) => c.suite === "broken")!;
  assert.equal(plan.status, "errored");
  assert.equal(plan.error, "Cannot plan suite broken: No WebGPU adapter");
  assert.ok(dir.cells.some((c) => c.suite === "tiny" && c.status === "completed"));
  await dir.close();
});
