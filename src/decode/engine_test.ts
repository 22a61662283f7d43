import assert from "node:assert/strict";
import { acquireGpu } from "../../kernels/gpu_device.ts";
import { decodeModel } from "../onnx/model.ts";
import { createBackend } from "../backends/mod.ts";
import { relativeError } from "../../kernels/relative_error.ts";
import { repoPath } from "../../lib/repo_root.ts";
import { importDecoder } from "./onnx_import.ts";
import { uploadWeights } from "./weights.ts";
import { createDecoder } from "./engine.ts";
import { uniformPlan } from "./spec.ts";

const gpu = await acquireGpu().catch((e) => {
  console.warn(`decode engine tests skipped: ${(e as Error).message}`);
  return undefined;
});

const IDS = [40, 72, 69, 0, 83, 69, 65, 0, 73, 83, 0, 67, 65, 76, 77, 14];

async function ortLogits(file: string, ids: number[]): Promise<Float32Array> {
  const backend = await createBackend("ort-node");
  const feeds = {
    ids: { type: "int64" as const, data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] },
  };
  const m = await backend.load(await Deno.readFile(repoPath(file)), { label: file, feeds });
  const out = await m.run(feeds);
  await m.release();
  return out.logits!.data as Float32Array;
}

for (const file of ["models/lm-char.onnx", "models/lm-char-swiglu.onnx"]) {
  Deno.test({
    name: `the engine's logits on ${file} equal ORT's at every prompt position (f32 ≤ 1e-4)`,
    ignore: !gpu,
  }, async () => {
    const { device } = gpu!;
    const imported = importDecoder(decodeModel(await Deno.readFile(repoPath(file))), { id: file });
    const weights = uploadWeights(device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row", "transposed"],
    });
    const ref = await ortLogits(file, IDS);
    const vocab = imported.spec.vocab;
    // Dense, and the input-sparse kernels with every row kept: both must equal ORT.
    for (
      const plan of [
        undefined,
        uniformPlan(imported.spec, "keep-all", { kind: "magnitude", threshold: -1 }),
      ]
    ) {
      const dec = await createDecoder(device, weights, plan ? { plan } : {});
      dec.writeIds(Uint32Array.from(IDS));
      dec.setState({
        pos: 0,
        wrapStart: 0,
        wrapEnd: imported.spec.maxPositions,
        prompt: IDS.length,
      });
      for (let t = 0; t < IDS.length; t++) {
        await dec.run(1);
        const got = await dec.readLogits();
        const e = relativeError(got, ref.subarray(t * vocab, (t + 1) * vocab));
        assert.ok(
          e <= 1e-4,
          `${plan?.method ?? "dense"} position ${t}: relative error ${e.toExponential(2)}`,
        );
      }
      dec.destroy();
    }
    weights.destroy();
  });
}
