import assert from "node:assert/strict";
import { repoPath } from "../../lib/repo_root.ts";
import { analyzeGraph } from "../onnx/blocks.ts";
import { decodeModel } from "../onnx/model.ts";
import { layerRoles } from "./analysis.ts";

Deno.test("layerRoles() names each block's layers as a reader would, the first role winning", async () => {
  const mlp = decodeModel(await Deno.readFile(repoPath("models/mlp-relu-mnist.onnx")));
  const mlpRoles = layerRoles(analyzeGraph(mlp.graph!));
  assert.deepEqual(Object.values(mlpRoles), [
    "block 1 FFN up",
    "block 1 FFN down",
    "block 2 FFN down",
  ]);
  const llama = decodeModel(
    await Deno.readFile(repoPath("src/onnx/testdata/llama.torchscript.onnx")),
  );
  const roles = Object.values(layerRoles(analyzeGraph(llama.graph!)));
  for (
    const want of [
      "block 1 FFN gate",
      "block 2 FFN down",
      "block 1 attention q",
      "block 2 attention out",
    ]
  ) {
    assert.ok(roles.includes(want), `${want} in ${roles.join(", ")}`);
  }
});
