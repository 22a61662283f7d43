/**
 * `lazy-neuron`: the Lazy Neuron Phenomenon (Li et al., ICLR 2023) on vit-relu-fmnist: the
 * per-layer fraction of nonzero FFN activations after ReLU over the evaluation images, beside the
 * paper's figures for much larger models, plus top-k thresholding at several k.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

export default defineSuite({
  kind: "model",
  id: "lazy-neuron",
  title: "Lazy Neuron: natural ReLU sparsity and top-k in a ViT",
  description:
    "vit-relu-fmnist: nonzero % of each FFN's ReLU output over 1,000 evaluation images (per-layer densities in the report), top-k at 50/80/90 % sparsity; accuracy on ort-node.",
  model: MODELS.vitReluFmnist,
  dataset: datasetPin("fashion-mnist", 1000, 64),
  task: {
    kind: "image-classification",
    input: "pixels",
    inputShape: [1, 28, 28],
    output: "logits",
  },
  metric: "accuracy",
  targets: ["ort-node", "ort-wasm", "ort-webgpu", "wgsl"],
  accuracyTarget: "ort-node",
  variants: [{ method: "relu" }, { method: "topk", sparsity: [0.5, 0.8, 0.9] }],
  timing: { warmupRuns: 3, minRuns: 20, minTimeMs: 500, maxRuns: 200, maxTimeMs: 8000 },
  targetTiming: {
    "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
    wgsl: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 10, maxTimeMs: 20000 },
  },
  seed: 3,
  claims: [
    {
      label: "nonzero FFN activations, T5-Base",
      value: 3.0,
      unit: "%",
      source: "Li et al. 2023 (abstract)",
    },
    {
      label: "nonzero FFN activations, ViT-B/16",
      value: 6.3,
      unit: "%",
      source: "Li et al. 2023 (abstract)",
    },
  ],
  quick: {
    targets: ["ort-node", "wgsl"],
    evaluationSamples: 200,
    variants: [{ method: "relu" }, { method: "topk", sparsity: [0.9] }],
    timing: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 10, maxTimeMs: 3000 },
  },
  inDefault: true,
});
