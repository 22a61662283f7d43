/**
 * `topk` — Lazy Neuron's top-k thresholding (Li et al., ICLR 2023): keep the k largest FFN hidden
 * activations of each token, k = round((1 − s) · d); the down projection reads only those.
 *
 * Applied after training (the paper trains with the mask in place; this measures the post-hoc
 * version). Selection cost: d · log2(k) comparisons per token (heap selection).
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import { ffnBlocks, keepCount, maskTopK } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * `topk` — Lazy Neuron's top-k thresholding (Li et al., ICLR 2023), applied after training.
 *
 * - Skips: the down projection's rows for the dropped FFN hidden activations (and, in a gated
 *   FFN, the up projection's columns); gated blocks get no `wgsl` kernel form.
 * - Sparsity: required, s in [0, 1); k = round((1 − s) · d) activations kept per token.
 * - Parameters: none.
 * - Calibration: none.
 */
export const topkMethod = defineMethod({
  id: "topk",
  title: "Lazy Neuron top-k: keep the k largest FFN hidden activations per token",
  paper: "Li et al., The Lazy Neuron Phenomenon, ICLR 2023",
  skips: "down-projection rows of the dropped FFN hidden activations",
  needsSparsity: true,
  calibration: "none",
  params: {},
  prepare(ctx, { sparsity: s }): Promise<VariantPlan> {
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
});
