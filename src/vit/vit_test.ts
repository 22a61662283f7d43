import assert from "node:assert/strict";
import { loadFashionMnist } from "../../datasets/fashion_mnist.ts";
import { gpu } from "../../kernels/_testing.ts";
import { runOnce } from "../../kernels/host.ts";
import { relativeError } from "../../kernels/relative_error.ts";
import { runOnOrtNode } from "../backends/ort_node.ts";
import { decodeModel } from "../onnx/model.ts";
import { createVitForward } from "./forward.ts";
import { importVit } from "./import_onnx.ts";
import { vitForwardCpu } from "./reference.ts";
import type { VitBlock, VitLinear, VitSpec } from "./spec.ts";

const images = (await loadFashionMnist()).splits.evaluation;
const image = (i: number) => images.images.slice(i * 784, (i + 1) * 784);

async function onGpu(spec: VitSpec, pixels: Float32Array, keep?: Uint32Array) {
  const f = await createVitForward(gpu!.device, spec, { label: "vit test" });
  f.write(pixels, keep ? { keep } : {});
  await runOnce(gpu!.device, f.dispatches);
  return await f.readLogits();
}

for (const act of ["relu", "gelu"]) {
  Deno.test(
    {
      name: `the encoder's logits for vit-${act}-fmnist equal ORT's on Fashion-MNIST images`,
      ignore: !gpu,
    },
    async () => {
      const bytes = Deno.readFileSync(
        new URL(`../../models/vit-${act}-fmnist.onnx`, import.meta.url),
      );
      const spec = importVit(decodeModel(bytes, { source: act }));
      assert.equal(spec.tokens, 197);
      assert.equal(spec.blocks.length, 4);
      assert.deepEqual(
        spec.blocks.map((b) => [b.heads, b.headDim, b.act]),
        Array(4).fill([4, 32, act]),
      );
      const f = await createVitForward(gpu!.device, spec, { label: act });
      for (const i of [0, 1, 2]) {
        const pixels = image(i);
        const want = (await runOnOrtNode(bytes, {
          pixels: { type: "float32", data: pixels, dims: [1, 1, 28, 28] },
        })).logits!.data as Float32Array;
        f.write(pixels);
        await runOnce(gpu!.device, f.dispatches);
        const err = relativeError(await f.readLogits(), want);
        assert.ok(err <= 1e-4, `image ${i}: relative error ${err}`);
        if (i === 0) assert.ok(relativeError(vitForwardCpu(spec, pixels), want) <= 1e-4);
      }
    },
  );
}

/** Keeps rows (or columns) of a linear's weight. */
function keepOf(l: VitLinear, keep: number[], side: "out" | "in"): VitLinear {
  if (side === "out") {
    const weight = new Float32Array(keep.length * l.inFeatures);
    keep.forEach((o, r) =>
      weight.set(l.weight.subarray(o * l.inFeatures, (o + 1) * l.inFeatures), r * l.inFeatures)
    );
    return {
      weight,
      ...(l.bias ? { bias: Float32Array.from(keep, (o) => l.bias![o]!) } : {}),
      outFeatures: keep.length,
      inFeatures: l.inFeatures,
    };
  }
  const weight = new Float32Array(l.outFeatures * keep.length);
  for (let o = 0; o < l.outFeatures; o++) {
    keep.forEach((c, j) => weight[o * keep.length + j] = l.weight[o * l.inFeatures + c]!);
  }
  return { ...l, weight, inFeatures: keep.length };
}

Deno.test(
  {
    name:
      "a pruned spec (two heads, a third of the neurons, 40 tokens after block 1) runs as its CPU reference",
    ignore: !gpu,
  },
  async () => {
    const bytes = Deno.readFileSync(new URL("../../models/vit-gelu-fmnist.onnx", import.meta.url));
    const dense = importVit(decodeModel(bytes, { source: "gelu" }));
    const heads = [1, 3];
    const blocks: VitBlock[] = dense.blocks.map((b) => {
      const cols = heads.flatMap((h) =>
        Array.from({ length: b.headDim }, (_, c) => h * b.headDim + c)
      );
      const d = b.heads * b.headDim;
      const rows = [0, 1, 2].flatMap((part) => cols.map((c) => part * d + c));
      const neurons = Array.from({ length: Math.floor(b.up.outFeatures / 3) }, (_, j) => j * 3 + 1);
      return {
        ...b,
        heads: heads.length,
        qkv: keepOf(b.qkv, rows, "out"),
        proj: keepOf(b.proj, cols, "in"),
        up: keepOf(b.up, neurons, "out"),
        down: keepOf(b.down, neurons, "in"),
      };
    });
    const spec: VitSpec = { ...dense, blocks, gatherAfter: { block: 1 } };
    const keep = Uint32Array.from({ length: 40 }, (_, j) => j * 5);
    const pixels = image(3);
    const err = relativeError(
      await onGpu(spec, pixels, keep),
      vitForwardCpu(spec, pixels, { keep }),
    );
    assert.ok(err <= 1e-4, `relative error ${err}`);
    await assert.rejects(() => onGpu(spec, pixels), /pass their indices/);
  },
);
