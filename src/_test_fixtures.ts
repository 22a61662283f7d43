/**
 * Fixtures shared by tests: a tiny MLP built in code (no file needed), a small synthetic image
 * dataset, and a suite wired to both.
 *
 * @module
 */

import type { ImageDataset } from "../datasets/types.ts";
import { createRng } from "../lib/prng.ts";
import { bytesOf, sha256Hex } from "../lib/sha256.ts";
import { DataType, encodeModel, type ModelProto } from "./onnx/model.ts";
import { floatTensor } from "./onnx/tensor_data.ts";
import { makeAttr } from "./onnx/graph.ts";
import type { ModelSuite } from "./suite.ts";

/**
 * A 784-32-32-10 ReLU MLP with seeded random weights, shaped like torch's export (Gemm, transB=1).
 *
 * @param seed Weight seed.
 * @returns The model.
 */
export function tinyMlp(seed = 7): ModelProto {
  const rng = createRng(seed);
  const w = (o: number, i: number) =>
    Array.from({ length: o * i }, () => rng.normal() / Math.sqrt(i));
  const b = (o: number) => Array.from({ length: o }, () => rng.normal() * 0.01);
  const gemm = (name: string, x: string, y: string) => ({
    name,
    opType: "Gemm",
    input: [x, `${name}.weight`, `${name}.bias`],
    output: [y],
    attribute: [makeAttr("alpha", 1), makeAttr("beta", 1), makeAttr("transB", 1, { isInt: true })],
  });
  const vi = (name: string, dims: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "sparsebench-test",
    graph: {
      name: "tiny",
      node: [
        gemm("/fc1/Gemm", "input", "h1"),
        { name: "/relu1/Relu", opType: "Relu", input: ["h1"], output: ["a1"] },
        gemm("/fc2/Gemm", "a1", "h2"),
        { name: "/relu2/Relu", opType: "Relu", input: ["h2"], output: ["a2"] },
        gemm("/fc3/Gemm", "a2", "logits"),
      ],
      initializer: [
        floatTensor("/fc1/Gemm.weight", [32, 784], w(32, 784)),
        floatTensor("/fc1/Gemm.bias", [32], b(32)),
        floatTensor("/fc2/Gemm.weight", [32, 32], w(32, 32)),
        floatTensor("/fc2/Gemm.bias", [32], b(32)),
        floatTensor("/fc3/Gemm.weight", [10, 32], w(10, 32)),
        floatTensor("/fc3/Gemm.bias", [10], b(10)),
      ],
      input: [vi("input", ["batch", 784])],
      output: [vi("logits", ["batch", 10])],
    },
  };
}

/**
 * A synthetic 10-class image dataset with `n` images per split, pixels in [0, 1].
 *
 * @param n Images per split.
 * @param zeroFraction Fraction of pixels that are exactly zero.
 * @returns The dataset (its hash computed like the real loaders').
 */
export async function tinyImageDataset(n = 64, zeroFraction = 0.8): Promise<ImageDataset> {
  const rng = createRng(3);
  const split = () => {
    const images = Float32Array.from(
      { length: n * 784 },
      () => (rng.next() < zeroFraction ? 0 : rng.next()),
    );
    const labels = Uint8Array.from({ length: n }, () => rng.int(10));
    return { images, labels, count: n };
  };
  const splits = { train: split(), calibration: split(), evaluation: split() };
  const hash = await sha256Hex(
    (["train", "calibration", "evaluation"] as const).flatMap((
      s,
    ) => [bytesOf(splits[s].images), splits[s].labels]),
  );
  return {
    kind: "image",
    id: "mnist",
    package: "mnist",
    version: "1.1.0",
    hash,
    splitHashes: { train: "", calibration: "", evaluation: "" },
    splitRule: "synthetic",
    imageShape: [28, 28],
    classes: [..."0123456789"],
    splits,
  };
}

/**
 * A suite over {@linkcode tinyMlp} and {@linkcode tinyImageDataset}.
 *
 * @param overrides Fields to change.
 * @param options `zeroFraction` of the synthetic pixels.
 * @returns The suite, its model bytes and its dataset.
 */
export async function tinySuite(
  overrides: Partial<ModelSuite> = {},
  options: { zeroFraction?: number } = {},
): Promise<{ suite: ModelSuite; modelBytes: Uint8Array; dataset: ImageDataset }> {
  const modelBytes = encodeModel(tinyMlp());
  const dataset = await tinyImageDataset(64, options.zeroFraction ?? 0.8);
  const suite: ModelSuite = {
    kind: "model",
    id: "tiny",
    title: "tiny",
    description: "test suite",
    model: { id: "tiny-mlp", path: "tiny.onnx", sha256: await sha256Hex(modelBytes) },
    dataset: {
      id: "mnist",
      package: "mnist",
      version: "1.1.0",
      hash: dataset.hash,
      evaluation: { split: "evaluation", samples: 64 },
      calibration: { split: "calibration", samples: 32 },
    },
    task: { kind: "image-classification", input: "input", inputShape: [784], output: "logits" },
    metric: "accuracy",
    targets: ["ort-node"],
    accuracyTarget: "ort-node",
    variants: [{ method: "relu" }, { method: "teal", sparsity: [0.5] }],
    timing: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 5, maxTimeMs: 5000 },
    seed: 1,
    inDefault: false,
    ...overrides,
  };
  return { suite, modelBytes, dataset };
}
