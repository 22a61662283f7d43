/**
 * `mlp-mnist`: the harness's reference suite. mlp-relu-mnist (784-512-512-10, ReLU) dense versus
 * its natural ReLU sparsity, top-k and TEAL, on every target. ORT runs masked graphs densely, so
 * its speedups are expected near (or below) 1.0x; the `wgsl` kernels really skip the weight rows
 * of inactive inputs. The point is to measure both honestly.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

export default defineSuite({
  kind: "model",
  id: "mlp-mnist",
  title: "MLP on MNIST: dense vs ReLU, top-k and TEAL sparsity on ORT and the wgsl kernels",
  description:
    "mlp-relu-mnist on the 2,000-image MNIST evaluation split; batch-1 latency on ort-wasm, ort-node, ort-webgpu and the wgsl kernels, accuracy on ort-wasm.",
  model: MODELS.mlpReluMnist,
  dataset: datasetPin("mnist", 2000, 500),
  task: { kind: "image-classification", input: "input", inputShape: [784], output: "logits" },
  metric: "accuracy",
  targets: ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"],
  variants: [
    { method: "relu" },
    { method: "topk", sparsity: [0.5, 0.8, 0.9] },
    { method: "teal", sparsity: [0.25, 0.5, 0.65, 0.8] },
  ],
  timing: { warmupRuns: 20, minRuns: 100, minTimeMs: 1000, maxRuns: 2000, maxTimeMs: 10000 },
  targetTiming: {
    "ort-webgpu": { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 30, maxTimeMs: 20000 },
    wgsl: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 30, maxTimeMs: 20000 },
  },
  seed: 1,
  quick: {
    variants: [{ method: "relu" }, { method: "topk", sparsity: [0.5] }, {
      method: "teal",
      sparsity: [0.5],
    }],
    timing: { warmupRuns: 10, minRuns: 50, minTimeMs: 300, maxTimeMs: 3000 },
    targetTiming: {
      "ort-webgpu": { warmupRuns: 1, minRuns: 5, maxRuns: 5, maxTimeMs: 10000 },
      wgsl: { warmupRuns: 1, minRuns: 5, maxRuns: 5, maxTimeMs: 10000 },
    },
  },
  inDefault: true,
});
