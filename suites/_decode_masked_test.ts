import assert from "node:assert/strict";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { relativeError } from "../kernels/relative_error.ts";
import { decodeModel, encodeModel } from "../src/onnx/model.ts";
import { createBackend } from "../src/backends/mod.ts";
import { importDecoder } from "../src/decode/onnx_import.ts";
import { uploadWeights } from "../src/decode/weights.ts";
import { createDecoder } from "../src/decode/engine.ts";
import { planFor } from "../src/decode/calibrate.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { TextDataset } from "../datasets/types.ts";
import { repoPath } from "../lib/repo_root.ts";
import { maskedDecoderGraph } from "./_decode_masked.ts";

const gpu = await acquireGpu().catch(() => undefined);

Deno.test({
  name:
    "TEAL's masked ONNX graph on ORT and the engine's input-sparse kernels give the same logits on lm-char",
  ignore: !gpu,
}, async () => {
  const { device } = gpu!;
  const file = "models/lm-char.onnx";
  const bytes = await Deno.readFile(repoPath(file));
  const imported = importDecoder(decodeModel(bytes), { id: "lm-char" });
  const weights = uploadWeights(device, imported.spec, imported.weights, {
    dtype: "f32",
    layouts: ["row", "transposed"],
  });
  const text = (await loadDataset("english-text")) as TextDataset;
  const cal = text.splits.calibration.ids;
  const calibration = [0, 1].map((w) => Array.from(cal.subarray(w * 64, w * 64 + 64)));
  const plan = planFor("teal", 0.5, {
    spec: imported.spec,
    host: imported.weights,
    gpu: weights,
  }, calibration);
  const ids = Array.from(text.splits.evaluation.ids.subarray(0, 24));
  const backend = await createBackend("ort-node");
  const feeds = {
    ids: { type: "int64" as const, data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
  };
  const masked = encodeModel(maskedDecoderGraph(decodeModel(bytes), plan));
  const m = await backend.load(masked, { label: "lm-char teal masked", feeds });
  const ref = (await m.run(feeds))[m.outputNames[0]!]!.data as Float32Array;
  await m.release();
  // The masks change the model: the dense graph's logits are far from the masked ones.
  const d = await backend.load(bytes, { label: "lm-char dense", feeds });
  const dense = (await d.run(feeds))[d.outputNames[0]!]!.data as Float32Array;
  await d.release();
  assert.ok(relativeError(ref, dense) > 1e-2, "TEAL at 50 % left the logits unchanged");
  const dec = await createDecoder(device, weights, { adapter: gpu!.facts, plan });
  dec.writeIds(Uint32Array.from(ids));
  dec.setState({ pos: 0, wrapStart: 0, wrapEnd: imported.spec.maxPositions, prompt: ids.length });
  const vocab = imported.spec.vocab;
  for (let t = 0; t < ids.length; t++) {
    await dec.run(1);
    const e = relativeError(await dec.readLogits(), ref.subarray(t * vocab, (t + 1) * vocab));
    assert.ok(e <= 1e-4, `position ${t}: relative error ${e.toExponential(2)}`);
  }
  dec.destroy();
  weights.destroy();
});

Deno.test("maskedDecoderGraph() refuses a rule that has no constant threshold, naming it", async () => {
  const model = decodeModel(await Deno.readFile(repoPath("models/lm-char.onnx")));
  const plan = {
    method: "topk",
    layers: [{ up: { kind: "fraction" as const, sparsity: 0.5 } }, {}, {}, {}],
  };
  assert.throws(() => maskedDecoderGraph(model, plan), /block 0 up has a "fraction" rule/);
  assert.throws(
    () => maskedDecoderGraph(model, { method: "teal", layers: [{}] }),
    /not 4 per block for 1 blocks/,
  );
});
