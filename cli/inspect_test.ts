import assert from "node:assert/strict";
import { repoPath } from "../lib/repo_root.ts";
import { inspectModel, main, parseShapeFlags } from "./inspect.ts";

const TESTDATA = repoPath("src/onnx/testdata/");

Deno.test("inspect --json matches PyTorch's FlopCounterMode within 1 % on exported standard models", async () => {
  const expected = JSON.parse(await Deno.readTextFile(`${TESTDATA}flop_fixtures.json`)) as Record<
    string,
    { flops: number; shapes: Record<string, number[]> }
  >;
  assert.ok(Object.keys(expected).length >= 10);
  for (const [file, e] of Object.entries(expected)) {
    const r = await inspectModel(`${TESTDATA}${file}`, e.shapes);
    const ratio = r.flops / e.flops;
    assert.ok(Math.abs(ratio - 1) <= 0.01, `${file}: ${r.flops} vs FlopCounterMode ${e.flops}`);
    assert.ok(r.flops_other > 0 && r.params > 0);
  }
});

Deno.test("inspect finds FFN blocks and their activations in graphs from both exporters", async () => {
  const kinds = async (file: string, shapes: Record<string, number[]>) =>
    (await inspectModel(`${TESTDATA}${file}`, shapes)).ffn.map((b) => b.activation);
  const ids = { input_ids: [1, 32] };
  for (const exporter of ["dynamo", "torchscript"]) {
    assert.deepEqual(
      await kinds(`bert.${exporter}.onnx`, ids),
      ["gelu", "gelu"],
      `bert ${exporter}`,
    );
    assert.deepEqual(
      await kinds(`gpt2.${exporter}.onnx`, ids),
      ["gelu-tanh", "gelu-tanh"],
      `gpt2 ${exporter}`,
    );
    assert.deepEqual(
      await kinds(`llama.${exporter}.onnx`, ids),
      ["gated-silu", "gated-silu"],
      `llama ${exporter}`,
    );
    assert.equal(
      (await inspectModel(`${TESTDATA}llama.${exporter}.onnx`, ids)).attention.length,
      2,
    );
  }
  const mlp = await inspectModel(
    repoPath("models/mlp-relu-mnist.onnx"),
    { input: [1, 784] },
  );
  assert.equal(mlp.flops, 2 * (784 * 512 + 512 * 512 + 512 * 10));
  assert.deepEqual(mlp.ffn.map((b) => b.activation), ["relu", "relu"]);
});

Deno.test("inspect explains dynamic shapes, bad files and bad flags in one line", async () => {
  await assert.rejects(
    inspectModel(repoPath("models/mlp-relu-mnist.onnx")),
    /Input "input" has dynamic dimensions \(batch\): give its shape with --shape input=1x784/,
  );
  await assert.rejects(
    inspectModel("/nonexistent.onnx"),
    /Cannot read \/nonexistent\.onnx: no such file/,
  );
  const junk = await Deno.makeTempFile({ suffix: ".onnx" });
  await Deno.writeTextFile(junk, "definitely not protobuf");
  await assert.rejects(inspectModel(junk), /Cannot read ONNX .*\.onnx/);
  assert.throws(() => parseShapeFlags(["input=1xx2"]), /Invalid --shape "input=1xx2"/);
  const original = console.error;
  console.error = () => {};
  try {
    assert.equal(await main([junk]), 1);
    assert.equal(await main([]), 2);
  } finally {
    console.error = original;
  }
});

Deno.test("inspect names a directory as one, and refuses zero dimensions", async () => {
  await assert.rejects(inspectModel(await Deno.makeTempDir()), /it is a directory; give the path/);
  assert.throws(
    () => parseShapeFlags(["input=0x784"]),
    /Invalid --shape "input=0x784": every dimension must be at least 1/,
  );
});
