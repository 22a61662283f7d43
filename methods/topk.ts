/**
 * `topk` — Lazy Neuron's top-k thresholding (Li et al., ICLR 2023): keep the k largest FFN hidden
 * activations of each token, k = round((1 − s) · d); the down projection reads only those.
 *
 * Applied after training (the paper trains with the mask in place; this measures the post-hoc
 * version). Selection cost: d · log2(k) comparisons per token (heap selection).
 *
 * @module
 */

import type { SparsityMethod, VariantPlan } from "../src/method.ts";
import { ffnBlocks, keepCount, maskTopK, requireSparsity } from "./_common.ts";

/** The `topk` method. */
export const topkMethod: SparsityMethod = {
  id: "topk",
  title: "Lazy Neuron top-k: keep the k largest FFN hidden activations per token",
  needsSparsity: true,
  calibrated: false,
  prepare(ctx): Promise<VariantPlan> {
    const s = requireSparsity("topk", ctx.sparsity);
    const blocks = ffnBlocks(ctx.model);
    const plan: VariantPlan = { model: ctx.model, sparse: [], selection: [], notes: {} };
    // The kernel form selects on the down projection's input; a gated block's hidden value is a
    // product the kernels cannot rank without computing every neuron, so those get no kernel form.
    const inputs: NonNullable<VariantPlan["kernel"]>["inputs"] = {};
    blocks.forEach((b, i) => {
      const k = keepCount(b.hiddenSize, s);
      const masked = maskTopK(ctx.model, b.hidden, b.hidden, k, {
        prefix: `topk${i}`,
        readers: [b.down.node],
      });
      plan.sparse.push({ linear: b.down.name, densityOf: masked, mode: "input" });
      if (b.gated) plan.sparse.push({ linear: b.up.name, densityOf: masked, mode: "output" });
      plan.selection.push({ value: b.hidden, flopsPerElement: Math.log2(Math.max(2, k)) });
      plan.notes![`k[${i}]`] = k;
      inputs[b.down.name] = { rule: { kind: "topk", k, signed: true } };
    });
    if (!blocks.some((b) => b.gated)) plan.kernel = { inputs, gates: {} };
    return Promise.resolve(plan);
  },
};
