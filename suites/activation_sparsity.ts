/**
 * `activation-sparsity-*`: training-free activation sparsity (TEAL, WINA, CATS, Spark's
 * statistical top-k, Lazy Neuron's top-k) across the sparsity grid on the zoo's GELU ViT, its
 * ReLU twin and the character LMs: accuracy (bits per character for the LMs), effective FLOPs
 * and the measured speedup on every target. ORT's masked graphs still multiply every weight; the
 * wgsl kernels skip.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { ModelSuite, Task, VariantSpec } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

/** The sparsity grid of the methods issue. */
export const GRID = [0.25, 0.4, 0.5, 0.65, 0.8, 0.9];

/** Every method over the grid; WINA in both its selection forms. */
export function gridVariants(methods: readonly string[]): VariantSpec[] {
  return methods.flatMap((m) =>
    m === "wina"
      ? [{ method: "wina", sparsity: GRID }, {
        method: "wina",
        params: { select: "threshold" },
        sparsity: GRID,
      }]
      : [{ method: m, sparsity: GRID }]
  );
}

const common = {
  kind: "model",
  targets: ["ort-node", "ort-wasm", "ort-webgpu", "wgsl"],
  accuracyTarget: "ort-node",
  timing: { warmupRuns: 3, minRuns: 20, minTimeMs: 500, maxRuns: 200, maxTimeMs: 8000 },
  targetTiming: {
    "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
    wgsl: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 10, maxTimeMs: 20000 },
  },
  seed: 5,
} as const satisfies Partial<ModelSuite>;

const vitTask: Task = {
  kind: "image-classification",
  input: "pixels",
  inputShape: [1, 28, 28],
  output: "logits",
};
const lmTask: Task = { kind: "char-lm", input: "ids", output: "logits", context: 128 };
const quickTiming = {
  timing: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 10, maxTimeMs: 3000 },
};

/** vit-gelu-fmnist. */
export const activationSparsityVit = defineSuite({
  ...common,
  id: "activation-sparsity-vit",
  title: "Activation sparsity on a GELU ViT: TEAL, WINA, CATS, stat-top-k, top-k",
  description:
    "vit-gelu-fmnist, 1,000 evaluation images; every method over the sparsity grid; accuracy on ort-node.",
  model: MODELS.vitGeluFmnist,
  dataset: datasetPin("fashion-mnist", 1000, 64),
  task: vitTask,
  metric: "accuracy",
  variants: gridVariants(["teal", "wina", "cats", "stat-topk", "topk"]),
  quick: {
    targets: ["ort-node", "wgsl"],
    evaluationSamples: 200,
    calibrationSamples: 32,
    variants: [{ method: "teal", sparsity: [0.5] }, { method: "wina", sparsity: [0.5] }],
    ...quickTiming,
  },
  inDefault: true,
});

/** vit-relu-fmnist. */
export const activationSparsityVitRelu = defineSuite({
  ...common,
  id: "activation-sparsity-vit-relu",
  title: "Activation sparsity on a ReLU ViT",
  description:
    "vit-relu-fmnist, 1,000 evaluation images; every method over the sparsity grid; accuracy on ort-node.",
  model: MODELS.vitReluFmnist,
  dataset: datasetPin("fashion-mnist", 1000, 64),
  task: vitTask,
  metric: "accuracy",
  variants: gridVariants(["teal", "wina", "cats", "stat-topk", "topk"]),
  inDefault: false,
});

/** lm-char (GELU FFN). */
export const activationSparsityLm = defineSuite({
  ...common,
  id: "activation-sparsity-lm",
  title: "Activation sparsity on a character LM: bits per character",
  description:
    "lm-char on the 1,236 evaluation windows of 128 characters; every method over the sparsity grid; bits per character on ort-node.",
  model: MODELS.lmChar,
  dataset: datasetPin("english-text", 1236, 48),
  task: lmTask,
  metric: "bpc",
  variants: gridVariants(["teal", "wina", "cats", "stat-topk", "topk"]),
  quick: {
    targets: ["ort-node", "wgsl"],
    evaluationSamples: 48,
    calibrationSamples: 16,
    variants: [{ method: "teal", sparsity: [0.5] }, { method: "stat-topk", sparsity: [0.5] }],
    ...quickTiming,
  },
  inDefault: true,
});

/** lm-char-swiglu (gated FFN: where CATS applies as designed). */
export const activationSparsityLmSwiglu = defineSuite({
  ...common,
  id: "activation-sparsity-lm-swiglu",
  title: "Activation sparsity on a SwiGLU character LM (gated FFN)",
  description:
    "lm-char-swiglu on the 1,236 evaluation windows; every method over the sparsity grid; bits per character on ort-node.",
  model: MODELS.lmCharSwiglu,
  dataset: datasetPin("english-text", 1236, 48),
  task: lmTask,
  metric: "bpc",
  variants: gridVariants(["teal", "wina", "cats", "stat-topk", "topk"]),
  inDefault: false,
});
