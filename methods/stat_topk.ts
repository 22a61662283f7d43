/**
 * `stat-topk` — Spark Transformer's statistical top-k (You et al., 2025): per token, the threshold
 * θ = mean(u) + std(u) · Φ⁻¹(1 − k/d) over the FFN pre-activation u (population std), which keeps
 * about k of d entries when u is roughly Gaussian, in linear time and without sorting.
 *
 * Parameter `form`: `hard` (default) keeps u where u > θ; `soft` is Spark's soft threshold
 * ReLU(u − θ). The activation then applies to the result, so dropped entries become zero for
 * ReLU, GELU and SiLU alike. Realised sparsity is reported against k/d, since the Gaussian
 * assumption does not hold exactly. Selection cost: 5 FLOPs per element (mean, variance, compare).
 *
 * @module
 */

import { normalQuantile } from "../src/stats.ts";
import type { VariantPlan } from "../src/method.ts";
import { firstInGraph, Rewriter } from "../src/onnx/rewriter.ts";
import { ffnBlocks, readersOf } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * `stat-topk` — Spark Transformer's statistical top-k (You et al., 2025).
 *
 * - Skips: the down projection's rows for the FFN activations below θ (and, in a gated FFN, the
 *   up projection's columns).
 * - Sparsity: required, s in [0, 1); θ targets keeping k/d = 1 − s of each token's entries.
 * - Parameters: `form`, `hard` (default) or `soft`.
 * - Calibration: none (θ comes from each token's own mean and std).
 */
export const statTopkMethod = defineMethod({
  id: "stat-topk",
  title: "Spark statistical top-k: θ = mean + std·Φ⁻¹(1−k/d) per token on the FFN pre-activation",
  paper: "You et al., Spark Transformer, NeurIPS 2025",
  skips: "down-projection rows of the FFN activations below the per-token θ",
  needsSparsity: true,
  calibration: "none",
  params: {
    form: {
      kind: "choice",
      values: ["hard", "soft"],
      default: "hard",
      doc: "hard keeps u where u > θ; soft is ReLU(u − θ)",
    },
  },
  prepare(ctx, { sparsity: s, params: { form } }): Promise<VariantPlan> {
    const keepFraction = 1 - s;
    const z = normalQuantile(1 - keepFraction);
    const blocks = ffnBlocks(ctx.model);
    const plan: VariantPlan = {
      model: ctx.model,
      sparse: [],
      selection: [],
      notes: { z: Number(z.toFixed(4)), form },
      kernel: { inputs: {}, gates: {} },
    };
    blocks.forEach((b, i) => {
      const u = b.preActivation;
      const readers = readersOf(ctx.model, u);
      const rw = new Rewriter(ctx.model, `stat_topk${i}`);
      const mean = rw.reduceMean(u, [-1], true);
      const centered = rw.node("Sub", [u, mean])[0]!;
      const variance = rw.reduceMean(rw.node("Mul", [centered, centered])[0]!, [-1], true);
      const std = rw.node("Sqrt", [variance])[0]!;
      const theta = rw.node("Add", [mean, rw.node("Mul", [std, rw.floatConst("z", [z])])[0]!])[0]!;
      const out = form === "soft"
        ? rw.node("Relu", [rw.node("Sub", [u, theta])[0]!])[0]!
        : rw.where(rw.node("Greater", [u, theta])[0]!, u);
      rw.commit(firstInGraph(ctx.model, readers), u, out, readers);
      plan.sparse.push({ linear: b.down.name, densityOf: b.hidden, mode: "input" });
      if (b.gated) plan.sparse.push({ linear: b.up.name, densityOf: b.hidden, mode: "output" });
      plan.selection.push({ value: u, flopsPerElement: 5 });
      const rule = { kind: "stat-topk" as const, z, soft: form === "soft" };
      if (b.gated) plan.kernel!.gates[b.down.name] = { rule, on: "pre-activation" };
      else plan.kernel!.inputs[b.down.name] = { rule, preActivation: true };
    });
    return Promise.resolve(plan);
  },
});
