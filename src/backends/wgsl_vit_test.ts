import assert from "node:assert/strict";
import { gpu } from "../../kernels/_testing.ts";
import { relativeError } from "../../kernels/relative_error.ts";
import type { TensorMap } from "../backend.ts";
import { createBackend } from "./mod.ts";
import { runOnOrtNode } from "./ort_node.ts";
import { tinyMlp } from "../_test_fixtures.ts";
import { encodeModel } from "../onnx/model.ts";

Deno.test(
  {
    name: "the wgsl target runs a ViT whole and says so, and an MLP by its FFN blocks",
    ignore: !gpu,
  },
  async () => {
    const wgsl = await createBackend("wgsl");
    const bytes = Deno.readFileSync(new URL("../../models/vit-relu-fmnist.onnx", import.meta.url));
    const feeds: TensorMap = {
      pixels: {
        type: "float32",
        data: Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 100),
        dims: [1, 1, 28, 28],
      },
    };
    const vit = await wgsl.load(bytes, {
      label: "vit",
      feeds,
      kernelPlan: { inputs: {}, gates: {} },
    });
    assert.match(
      vit.warnings[0]!,
      /^wgsl runs the whole ViT for one image: 31 dispatches, 197 tokens/,
    );
    const want = (await runOnOrtNode(bytes, feeds)).logits!.data as Float32Array;
    assert.ok(relativeError((await vit.run(feeds)).logits!.data as Float32Array, want) <= 1e-4);

    const mlp = encodeModel(tinyMlp());
    const input: TensorMap = {
      input: { type: "float32", data: new Float32Array(784).fill(0.25), dims: [1, 784] },
    };
    const ffn = await wgsl.load(mlp, {
      label: "mlp",
      feeds: input,
      kernelPlan: { inputs: {}, gates: {} },
    });
    assert.match(ffn.warnings[0]!, /FFN unit\(s\) for one token, not the whole model/);
  },
);
