/**
 * `relu` — the Lazy Neuron measurement (Li et al., ICLR 2023): no change to the model; the
 * fraction of nonzero ReLU outputs is measured, and the linears that read them could skip the
 * rows of zero inputs.
 *
 * @module
 */

import { analyzeGraph } from "../src/onnx/blocks.ts";
import type { VariantPlan } from "../src/method.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * `relu` — Lazy Neuron's measurement (Li et al., ICLR 2023).
 *
 * - Skips: the rows of W for zero inputs of every linear that reads a ReLU output (the `wgsl`
 *   kernels skip them; ORT computes the unchanged model densely).
 * - Sparsity: none taken (the model's own zeros are measured).
 * - Parameters: none.
 * - Calibration: none.
 */
export const reluMethod = defineMethod({
  id: "relu",
  title: "Lazy Neuron: natural ReLU sparsity, measured (no change to the model)",
  paper: "Li et al., The Lazy Neuron Phenomenon, ICLR 2023",
  skips: "rows of W for zero ReLU outputs, in every linear reading a ReLU",
  needsSparsity: false,
  calibration: "none",
  params: {},
  prepare(ctx): Promise<VariantPlan> {
    const { idx, linears } = analyzeGraph(ctx.model.graph!);
    const sparse = linears
      .filter((l) => idx.producer.get(l.input)?.opType === "Relu")
      .map((l) => ({ linear: l.name, densityOf: l.input, mode: "input" as const }));
    if (sparse.length === 0) {
      throw new Error("No linear layer reads a ReLU output: the relu method needs a ReLU model");
    }
    // A skipping kernel compares every input with zero to build its index list.
    const selection = [...new Set(sparse.map((s) => s.densityOf))].map((value) => ({
      value,
      flopsPerElement: 1,
    }));
    const inputs = Object.fromEntries(
      sparse.map((s) => [s.linear, { rule: { kind: "value" as const, threshold: 0 } }]),
    );
    return Promise.resolve({ model: ctx.model, sparse, selection, kernel: { inputs, gates: {} } });
  },
});
