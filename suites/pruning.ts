/**
 * `pruning-*`: weight pruning on the zoo models: magnitude (layer-wise and global), Wanda and
 * SparseGPT/OBS at 25/50/70/90 % unstructured, SparseGPT at 2:4 and 4:8, and structured OBS
 * removing 10/25/50 % of the FFN neurons (the FFNs are sliced smaller) or, on transformers, 1 or
 * 2 of every block's 4 attention heads (q/k/v/out sliced). Accuracy, compression
 * ratio (params / nonzero params), theoretical speedup (FLOPs / nonzero FLOPs, ShrinkBench's
 * definition) and the measured speedup on every target, with the dead-neuron rate of ReLU models.
 * Unstructured and N:M weights run as dense matrices everywhere here (no sparse tensor cores);
 * only the sliced structured models can be faster, and the report shows what they measure.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { ModelPin, Task, VariantSpec } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

const LEVELS = [0.25, 0.5, 0.7, 0.9];

const VARIANTS: VariantSpec[] = [
  { method: "magnitude", sparsity: LEVELS },
  { method: "magnitude", params: { scope: "global" }, sparsity: LEVELS },
  { method: "wanda", sparsity: LEVELS },
  { method: "sparsegpt", sparsity: LEVELS },
  { method: "sparsegpt-nm", params: { n: 2, m: 4 } },
  { method: "sparsegpt-nm", params: { n: 4, m: 8 } },
  { method: "sparsegpt-structured", sparsity: [0.1, 0.25, 0.5] },
];
/** Transformers also lose whole attention heads (1 or 2 of 4). */
const WITH_HEADS: VariantSpec[] = [...VARIANTS, {
  method: "sparsegpt-structured-heads",
  sparsity: [0.25, 0.5],
}];

const image = (input: string, inputShape: number[]): Task => ({
  kind: "image-classification",
  input,
  inputShape,
  output: "logits",
});

function suite(
  id: string,
  model: ModelPin,
  dataset: ReturnType<typeof datasetPin>,
  task: Task,
  metric: "accuracy" | "bpc",
  variants: VariantSpec[] = WITH_HEADS,
) {
  return defineSuite({
    kind: "model",
    id,
    title:
      `Weight pruning on ${model.id}: magnitude, Wanda, SparseGPT (unstructured, N:M, structured)`,
    description:
      `${model.id}: every pruning method and granularity; accuracy on ort-node, timing on every target.`,
    model,
    dataset,
    task,
    metric,
    targets: ["ort-node", "ort-wasm", "ort-webgpu", "wgsl"],
    accuracyTarget: "ort-node",
    variants,
    timing: { warmupRuns: 3, minRuns: 20, minTimeMs: 500, maxRuns: 200, maxTimeMs: 8000 },
    targetTiming: {
      "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
      wgsl: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 10, maxTimeMs: 20000 },
    },
    seed: 13,
    quick: {
      targets: ["ort-node", "wgsl"],
      evaluationSamples: 200,
      calibrationSamples: 32,
      variants: [{ method: "sparsegpt", sparsity: [0.5] }, {
        method: "sparsegpt-structured",
        sparsity: [0.5],
      }],
      timing: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 10, maxTimeMs: 3000 },
    },
    inDefault: false,
  });
}

/** mlp-relu-mnist. */
export const pruningMlp = suite(
  "pruning-mlp",
  MODELS.mlpReluMnist,
  datasetPin("mnist", 2000, 256),
  image("input", [784]),
  "accuracy",
  VARIANTS,
);
/** vit-relu-fmnist. */
export const pruningVitRelu = suite(
  "pruning-vit-relu",
  MODELS.vitReluFmnist,
  datasetPin("fashion-mnist", 1000, 32),
  image("pixels", [1, 28, 28]),
  "accuracy",
);
/** vit-gelu-fmnist. */
export const pruningVitGelu = suite(
  "pruning-vit-gelu",
  MODELS.vitGeluFmnist,
  datasetPin("fashion-mnist", 1000, 32),
  image("pixels", [1, 28, 28]),
  "accuracy",
);
/** lm-char. */
export const pruningLm = suite("pruning-lm", MODELS.lmChar, datasetPin("english-text", 1236, 32), {
  kind: "char-lm",
  input: "ids",
  output: "logits",
  context: 128,
}, "bpc");
