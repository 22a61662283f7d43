/**
 * `spark` — the FFN of a model trained as a Spark Transformer (You et al., 2025), as the model
 * computes it: a predictor linear reads the first r input channels and scores every neuron (u),
 * statistical top-k keeps the neurons with u > θ, θ = mean(u) + std(u)·Φ⁻¹(1 − k/m), and only the
 * kept neurons' remaining gate columns, up columns and down rows are computed. The graph already
 * masks (models/train_spark.py exports it so), so this method rewrites nothing: it finds each
 * Spark FFN and declares what a skipping kernel skips, so effective FLOPs count the predictor in
 * full and the rest at the measured fraction of kept neurons.
 *
 * How a Spark FFN is found, in any exporter's graph: a linear (the predictor) whose output u is
 * read by a `Greater` (u > θ) and by an `Add` with another linear's output (the rest of the
 * gate); the mask (the `Greater`, possibly through a `Cast`) multiplies the hidden activations
 * that a third linear (down) reads; the up projection is the linear whose output meets
 * act(gate) in the product before the mask.
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import { analyzeGraph, type Linear } from "../src/onnx/blocks.ts";
import type { GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto, NodeProto } from "../src/onnx/model.ts";
import { defineMethod } from "./_method_spec.ts";

/** One Spark FFN of a graph. */
export interface SparkFfn {
  /** The predictor: the gate's columns for the first r input channels. */
  predictor: Linear;
  /** The gate's remaining columns, computed for kept neurons only. */
  gateRest: Linear;
  /** The up projection, computed for kept neurons only. */
  up: Linear;
  /** The down projection, reading only kept neurons. */
  down: Linear;
  /** The masked hidden activations down reads (zero where a neuron was dropped). */
  hidden: string;
  /** The predictor's scores u, which statistical top-k reads. */
  scores: string;
}

function consumers(idx: GraphIndex, v: string): NodeProto[] {
  return idx.consumers.get(v) ?? [];
}

/** The value a node's output becomes after optional Cast nodes. */
function throughCasts(idx: GraphIndex, v: string): string[] {
  const out = [v];
  for (const n of consumers(idx, v)) {
    if (n.opType === "Cast") out.push(...throughCasts(idx, n.output![0]!));
  }
  return out;
}

/**
 * Finds the Spark FFNs of a graph.
 *
 * @param model The model.
 * @returns Its Spark FFNs in graph order (empty when it has none).
 */
export function findSparkFfns(model: ModelProto): SparkFfn[] {
  const { idx, linears } = analyzeGraph(model.graph!);
  const byOutput = new Map(linears.map((l) => [l.output, l]));
  const byInput = (v: string) => linears.find((l) => l.input === v);
  const found: SparkFfn[] = [];
  for (const predictor of linears) {
    const u = predictor.output;
    const readers = consumers(idx, u);
    const greater = readers.find((n) => n.opType === "Greater" && n.input?.[0] === u);
    const add = readers.find((n) => n.opType === "Add");
    if (!greater || !add) continue;
    const gateRest = byOutput.get(add.input!.find((i) => i !== u) ?? "");
    if (!gateRest) continue;
    const masks = throughCasts(idx, greater.output![0]!);
    let down: Linear | undefined;
    let up: Linear | undefined;
    let hidden = "";
    for (const m of masks) {
      for (const prod of consumers(idx, m).filter((n) => n.opType === "Mul")) {
        const reader = byInput(prod.output![0]!);
        if (!reader) continue;
        const other = prod.input!.find((i) => i !== m)!;
        const inner = idx.producer.get(other);
        up = inner?.opType === "Mul"
          ? inner.input!.map((i) => byOutput.get(i)).find((l) => l !== undefined)
          : undefined;
        down = reader;
        hidden = prod.output![0]!;
      }
    }
    if (!down || !up) continue;
    found.push({ predictor, gateRest, up, down, hidden, scores: u });
  }
  return found;
}

/**
 * `spark` — a Spark-trained model's predictor FFN, declared for effective FLOPs.
 *
 * - Skips: for the neurons statistical top-k drops, the rest of the gate, the up column and the
 *   down row; the predictor (r of d input channels of the gate) runs in full.
 * - Sparsity: none (the model was trained at its k; the fraction kept is measured).
 * - Parameters: none.
 * - Calibration: none.
 */
export const sparkMethod = defineMethod({
  id: "spark",
  title:
    "Spark Transformer FFN (trained): predictor on r input dims, statistical top-k, gathered rest",
  paper: "You et al., Spark Transformer, NeurIPS 2025",
  skips: "gate remainder, up columns and down rows of the neurons the predictor's top-k drops",
  needsSparsity: false,
  calibration: "none",
  params: {},
  prepare(ctx): Promise<VariantPlan> {
    const ffns = findSparkFfns(ctx.model);
    if (ffns.length === 0) {
      throw new Error(
        "spark: no Spark FFN in this model (predictor → Greater mask → gathered gate/up/down); train one with models/train_spark.py",
      );
    }
    const plan: VariantPlan = { model: ctx.model, sparse: [], selection: [], notes: {} };
    ffns.forEach((f, i) => {
      plan.sparse.push({ linear: f.gateRest.name, densityOf: f.hidden, mode: "output" });
      plan.sparse.push({ linear: f.up.name, densityOf: f.hidden, mode: "output" });
      plan.sparse.push({ linear: f.down.name, densityOf: f.hidden, mode: "input" });
      plan.selection.push({ value: f.scores, flopsPerElement: 5 });
      plan.notes![`r[${i}]`] = f.predictor.inFeatures;
    });
    return Promise.resolve(plan);
  },
});
