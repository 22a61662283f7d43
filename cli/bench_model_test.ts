import assert from "node:assert/strict";
import { captureOutput } from "./_testing.ts";
import { main } from "./bench.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

async function captured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await captureOutput(() => main(args));
  return { code: r.value, out: r.out, err: r.err };
}

async function dropReport(out: string): Promise<void> {
  const report = out.match(/^report: (.*)\/index\.html$/m)?.[1];
  if (report?.startsWith(`${REPO_ROOT}reports/`)) await Deno.remove(report, { recursive: true });
}

Deno.test("bench --model on an export it never saw prints what it found, then runs dense, three activation and three pruning methods on both CPU targets with agreement columns", async () => {
  const out = await Deno.makeTempDir();
  const r = await captured([
    "--model",
    "src/onnx/testdata/mlp-gelu.dynamo.onnx",
    "--inputs",
    "random:4",
    "--quick",
    "--variant",
    "teal",
    "--variant",
    "cats",
    "--variant",
    "topk",
    "--variant",
    "magnitude",
    "--variant",
    "wanda",
    "--variant",
    "sparsegpt",
    "--out",
    out,
  ]);
  await dropReport(r.out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /FLOPs \(MatMul\/Gemm\/Conv, timed input\): 0\.262 M/);
  assert.match(r.out, /FFN gelu 64 -> 256 -> 64/);
  assert.match(r.out, /will run: 7 variants .* x 2 targets \(ort-wasm, ort-node\) = 14 cells/);
  assert.match(r.err, /warning: model src\/onnx\/testdata\/mlp-gelu\.dynamo\.onnx is not pinned/);
  const run = r.out.match(/^results: (.*)$/m)![1]!;
  const cells = JSON.parse(await Deno.readTextFile(`${run}/results.json`)) as Record<
    string,
    unknown
  >[];
  assert.equal(cells.length, 14);
  for (const c of cells) {
    assert.equal(c.status, "completed", String(c.error));
    assert.equal(c.metric, "agreement");
    assert.ok(typeof c.agreement === "number");
    assert.ok(c.gate === "pass" || c.gate === "fail");
    assert.ok(typeof c.time_median_ms === "number" && c.time_median_ms > 0);
  }
  const sparse = cells.filter((c) => c.method !== "dense");
  for (const c of sparse) {
    const extra = c.extra as Record<string, number>;
    assert.ok(extra.rel_error! > 0, `${c.method} rel_error`);
    assert.ok(extra.kl_mean! >= 0, `${c.method} kl_mean`);
  }
  const csv = await Deno.readTextFile(`${run}/results.csv`);
  assert.match(csv.split("\n")[0]!, /kl_mean/);
  assert.match(csv.split("\n")[0]!, /rel_error/);
});

Deno.test("bench --model refuses bad data specs and --data without --model in one line", async () => {
  const a = await captured(["--model", "src/onnx/testdata/gpt2.dynamo.onnx", "--inputs", "zeros"]);
  assert.equal(a.code, 2);
  assert.match(a.err, /--inputs "zeros": use random or random:N/);
  const b = await captured(["--data", "mnist"]);
  assert.equal(b.code, 2);
  assert.match(b.err, /--data, --inputs, --output and --normalize go with --model/);
  const c = await captured(["--model", "nowhere.onnx"]);
  assert.equal(c.code, 2);
  assert.match(c.err, /Cannot read model nowhere\.onnx: no such file/);
  const d = await captured([
    "--model",
    "src/onnx/testdata/gpt2.dynamo.onnx",
    "--suite",
    "mlp-mnist",
  ]);
  assert.match(d.err, /--model and --suite exclude each other/);
});

Deno.test("--data mnist on the zoo's MLP reproduces the dense accuracy its model card records", async () => {
  const { buildUserSuite } = await import("../src/user/user_suite.ts");
  const { loadDataset } = await import("../datasets/mod.ts");
  const { createBackend } = await import("../src/backends/mod.ts");
  const { evaluateTensors } = await import("../src/evaluate_tensors.ts");
  const { suite } = await buildUserSuite(
    { model: "models/mlp-relu-mnist.onnx", data: "mnist" },
    { root: REPO_ROOT, cwd: REPO_ROOT },
  );
  const card = await Deno.readTextFile(`${REPO_ROOT}models/mlp-relu-mnist.md`);
  const recorded = Number(card.match(/"dense_metric_ort_wasm": ([0-9.]+)/)![1]);
  const d = await loadDataset(suite.dataset.id, { source: suite.dataset.source! });
  assert.ok(d.kind === "tensors" && suite.task.kind === "tensors");
  const backend = await createBackend("ort-wasm");
  const loaded = await backend.load(await Deno.readFile(`${REPO_ROOT}models/mlp-relu-mnist.onnx`), {
    label: "mlp",
    feeds: { input: { type: "float32", dims: [1, 784], data: new Float32Array(784) } },
  });
  try {
    const ev = await evaluateTensors(loaded, suite.task, d, { samples: 2000, batch: 100 });
    assert.equal(ev.samples, 2000);
    assert.ok(Math.abs(ev.metric - recorded) < 1e-9, `measured ${ev.metric}, card ${recorded}`);
  } finally {
    await loaded.release();
  }
});
