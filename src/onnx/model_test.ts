import assert from "node:assert/strict";
import { decodeModel, encodeModel } from "./model.ts";
import { tinyMlp } from "../_test_fixtures.ts";

const TESTDATA = new URL("./testdata/", import.meta.url);

Deno.test("decodeModel() then encodeModel() gives back the exact bytes of exported models", async () => {
  const files = [
    "bert.dynamo.onnx",
    "bert.torchscript.onnx",
    "llama.dynamo.onnx",
    "gpt2.torchscript.onnx",
    "../../../models/mlp-relu-mnist.onnx",
    "../../../models/lm-char-decode.onnx",
  ];
  for (const f of files) {
    const bytes = await Deno.readFile(new URL(f, TESTDATA));
    const again = encodeModel(decodeModel(bytes));
    assert.equal(again.length, bytes.length, f);
    assert.ok(again.every((b, i) => b === bytes[i]), `${f} differs after a round trip`);
  }
});

Deno.test("decodeModel() rejects truncated and corrupt files with a one-line reason", () => {
  const bytes = encodeModel(tinyMlp());
  assert.throws(
    () => decodeModel(bytes.subarray(0, bytes.length - 100), { source: "x.onnx" }),
    (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, /^Cannot read ONNX x\.onnx: .*(truncated|end of data|runs past)/);
      assert.ok(!e.message.includes("\n"));
      return true;
    },
  );
  assert.throws(
    () => decodeModel(new TextEncoder().encode("not an onnx model at all"), { source: "y.onnx" }),
    /Cannot read ONNX y\.onnx/,
  );
  assert.throws(() => decodeModel(new Uint8Array(0)), /no graph or IR version/);
});
