/**
 * `corematching-*`: CoreMatching's co-adaptive token and neuron sparsity on the zoo ViTs, with its
 * two ablations (tokens alone, neurons alone) over α, β and the pruning block L: accuracy against
 * FLOPs for the three, tokens and neurons kept, and the wall-time speedup of the rewritten graphs,
 * which really are smaller (a shorter sequence after block L, sliced FFN weights).
 *
 * The paper's headline (5x fewer FLOPs, 10x faster on a Titan Xp, for LLaVA-class models) is shown
 * beside the figures measured here.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { ModelPin, VariantSpec } from "../src/suite.ts";
import { datasetPin, MODELS } from "./_pins.ts";

const SETTINGS: { alpha: number; beta: number; betaNeurons: number; layer: number }[] = [
  { alpha: 0.1, beta: 0.3, betaNeurons: 0.02, layer: 0 },
  { alpha: 0.1, beta: 0.3, betaNeurons: 0.05, layer: 1 },
  { alpha: 0.2, beta: 0.3, betaNeurons: 0.02, layer: 1 },
  { alpha: 0.2, beta: 0.2, betaNeurons: 0.05, layer: 1 },
  { alpha: 0.1, beta: 0.3, betaNeurons: 0.02, layer: 2 },
  { alpha: 0.2, beta: 0.2, betaNeurons: 0.01, layer: 2 },
];

function variants(settings: typeof SETTINGS): VariantSpec[] {
  return ["corematching", "corematching-tokens", "corematching-neurons"].flatMap((method) =>
    settings.map((params) => ({ method, params }))
  );
}

function suite(id: string, model: ModelPin, inDefault: boolean) {
  return defineSuite({
    kind: "model",
    id,
    title: `CoreMatching on ${model.id}: core tokens and core neurons, with ablations`,
    description:
      `${model.id}, 500 evaluation images at batch 1 (kept tokens differ per image); α, β and block L swept for CoreMatching and its token-only and neuron-only ablations; accuracy on ort-node.`,
    model,
    dataset: datasetPin("fashion-mnist", 500, 64),
    task: {
      kind: "image-classification",
      input: "pixels",
      inputShape: [1, 28, 28],
      output: "logits",
    },
    metric: "accuracy",
    targets: ["ort-node", "ort-wasm", "ort-webgpu", "wgsl"],
    accuracyTarget: "ort-node",
    evalBatch: 1,
    variants: variants(SETTINGS),
    timing: { warmupRuns: 3, minRuns: 20, minTimeMs: 500, maxRuns: 200, maxTimeMs: 8000 },
    targetTiming: {
      "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
    },
    seed: 9,
    claims: [
      {
        label: "FLOPs reduction, LLaVA-class models",
        value: 5,
        unit: "x",
        source: "Wang et al. 2025 (abstract)",
      },
      {
        label: "overall speedup on a Titan Xp",
        value: 10,
        unit: "x",
        source: "Wang et al. 2025 (abstract)",
      },
    ],
    quick: {
      targets: ["ort-node"],
      evaluationSamples: 100,
      calibrationSamples: 16,
      variants: [{
        method: "corematching",
        params: { alpha: 0.2, beta: 0.3, betaNeurons: 0.02, layer: 1 },
      }],
      timing: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 10, maxTimeMs: 3000 },
    },
    inDefault,
  });
}

/** vit-relu-fmnist. */
export const coreMatchingVitRelu = suite("corematching-vit-relu", MODELS.vitReluFmnist, true);
/** vit-gelu-fmnist. */
export const coreMatchingVitGelu = suite("corematching-vit-gelu", MODELS.vitGeluFmnist, false);
