/**
 * `wina` — WINA (Chen et al., 2025): weight-informed activation sparsity. Input channel j of a
 * linear W scores |x_j| · ‖W[:, j]‖₂ (the norm of the weights that channel feeds), and each linear
 * keeps its own best channels: the same inputs feed q, k and v through three different masks.
 *
 * Parameter `select`: `topk` (default, what WINA's scripts run) keeps the k = round((1 − s) · d)
 * best channels per token; `threshold` calibrates a per-linear score threshold with
 * P(score < t) = s, in graph order on the partly sparsified model. Selection cost: 2 FLOPs per
 * element for the score plus log2(k) (top-k) or 1 (threshold).
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import type { Linear } from "../src/onnx/blocks.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import type { ModelProto } from "../src/onnx/model.ts";
import { Rewriter } from "../src/onnx/rewriter.ts";
import {
  blockLinears,
  calibrateInOrder,
  keepCount,
  maskTopK,
  quantileOfSorted,
} from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * ‖W[:, j]‖₂ for each input channel j of a linear.
 *
 * @param model The model.
 * @param linear The linear.
 * @returns One norm per input channel.
 */
export function inputChannelNorms(model: ModelProto, linear: Linear): Float32Array {
  const w = new GraphIndex(model.graph!).constantFloats(linear.weight);
  if (!w) {
    throw new Error(`WINA: weight ${linear.weight} of ${linear.name} is not a float constant`);
  }
  const norms = new Float32Array(linear.inFeatures);
  const { inFeatures: k, outFeatures: n } = linear;
  for (let j = 0; j < k; j++) {
    let sum = 0;
    for (let o = 0; o < n; o++) {
      const v = linear.weightTransposed ? w.data[o * k + j]! : w.data[j * n + o]!;
      sum += v * v;
    }
    norms[j] = Math.sqrt(sum);
  }
  return norms;
}

/**
 * `wina` — WINA (Chen et al., 2025), weight-informed activation sparsity.
 *
 * - Skips: the rows of W for the input channels with the lowest |x_j| · ‖W[:, j]‖₂, chosen per
 *   linear, in every linear of the attention and FFN blocks.
 * - Sparsity: required, s in [0, 1).
 * - Parameters: `select`, `topk` (default: k = round((1 − s) · d) channels per token) or
 *   `threshold` (a calibrated per-linear score threshold).
 * - Calibration: thresholds with `select: "threshold"`; `topk` reads none.
 */
export const winaMethod = defineMethod({
  id: "wina",
  title: "WINA: keep input channels with the largest |x_j|·‖W[:,j]‖₂, per linear",
  paper: "Chen et al., WINA: Weight Informed Neuron Activation, arXiv 2505.19427, 2025",
  skips: "rows of W for the input channels with the lowest |x_j|·‖W[:,j]‖₂, per linear",
  needsSparsity: true,
  calibration: "thresholds",
  params: {
    select: {
      kind: "choice",
      values: ["topk", "threshold"],
      default: "topk",
      doc: "topk keeps the k best channels per token; threshold calibrates a score threshold",
    },
  },
  async prepare(ctx, { sparsity: s, params: { select } }): Promise<VariantPlan> {
    const linears = blockLinears(ctx.model);
    const plan: VariantPlan = {
      model: ctx.model,
      sparse: [],
      selection: [],
      notes: { select },
      kernel: { inputs: {}, gates: {} },
    };
    const scoreOf = new Map<Linear, string>();
    const addScore = (l: Linear, i: number): string => {
      const rw = new Rewriter(ctx.model, `wina${i}`);
      const norms = rw.floatConst("colnorm", inputChannelNorms(ctx.model, l), [l.inFeatures]);
      const score = rw.node("Mul", [rw.node("Abs", [l.input])[0]!, norms])[0]!;
      rw.splice(l.node);
      scoreOf.set(l, score);
      return score;
    };
    if (select === "topk") {
      linears.forEach((l, i) => {
        const k = keepCount(l.inFeatures, s);
        const masked = maskTopK(ctx.model, l.input, addScore(l, i), k, {
          readers: [l.node],
          prefix: `wina${i}`,
        });
        plan.sparse.push({ linear: l.name, densityOf: masked, mode: "input" });
        plan.selection.push({ value: l.input, flopsPerElement: 2 + Math.log2(Math.max(2, k)) });
        plan.kernel!.inputs[l.name] = {
          rule: { kind: "topk", k, scale: inputChannelNorms(ctx.model, l) },
        };
      });
      return plan;
    }
    let i = 0;
    await calibrateInOrder(ctx, linears, (l) => addScore(l, i), (l, captured) => {
      const t = quantileOfSorted(Float32Array.from(captured.data).sort(), s);
      const rw = new Rewriter(ctx.model, `wina_mask${i}`);
      const keep = rw.node("Greater", [scoreOf.get(l)!, rw.floatConst("threshold", [t])])[0]!;
      const masked = rw.where(keep, l.input);
      rw.commit(l.node, l.input, masked, [l.node]);
      plan.sparse.push({ linear: l.name, densityOf: masked, mode: "input" });
      plan.selection.push({ value: l.input, flopsPerElement: 3 });
      plan.kernel!.inputs[l.name] = {
        rule: { kind: "magnitude", threshold: t, scale: inputChannelNorms(ctx.model, l) },
      };
      plan.notes![`t[${i++}]`] = Number(t.toPrecision(4));
    });
    return plan;
  },
});
