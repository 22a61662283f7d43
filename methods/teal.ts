/**
 * `teal` — TEAL (Liu et al., 2024): training-free magnitude sparsity on the input of every linear
 * in the transformer blocks (attention in-projections and out-projection, FFN up/gate and down).
 * Per layer, the threshold t satisfies P(|x| < t) = s on the calibration split, and the layer reads
 * x · 1[|x| > t].
 *
 * Thresholds are calibrated in graph order on the partly sparsified model, so each layer's
 * threshold sees the activations it will really get. A value read by several linears (q, k, v)
 * gets one threshold, as in TEAL. Selection cost: 2 FLOPs per element (|x|, compare).
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import { absQuantile, blockLinears, calibrateInOrder, maskByMagnitude } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * `teal` — TEAL (Liu et al., 2024), training-free activation sparsity.
 *
 * - Skips: the rows of W for the inputs below each linear's threshold, in every linear of the
 *   attention and FFN blocks (the head and embeddings stay dense).
 * - Sparsity: required, s in [0, 1); per layer P(|x| < t) = s.
 * - Parameters: none.
 * - Calibration: thresholds, in graph order on the partly sparsified model.
 */
export const tealMethod = defineMethod({
  id: "teal",
  title: "TEAL: per-layer magnitude thresholds on every linear's input, P(|x| < t) = s",
  paper: "Liu et al., TEAL: Training-Free Activation Sparsity in LLMs, 2024",
  skips: "rows of W for inputs with |x| < t, in every linear of the transformer blocks",
  needsSparsity: true,
  calibration: "thresholds",
  params: {},
  async prepare(ctx, { sparsity: s }): Promise<VariantPlan> {
    const linears = blockLinears(ctx.model);
    const inputs = [...new Set(linears.map((l) => l.input))];
    const plan: VariantPlan = {
      model: ctx.model,
      sparse: [],
      selection: [],
      notes: {},
      kernel: { inputs: {}, gates: {} },
    };
    let i = 0;
    await calibrateInOrder(ctx, inputs, (v) => v, (value, captured) => {
      const t = absQuantile(captured.data, s);
      const readers = linears.filter((l) => l.input === value).map((l) => l.node);
      const masked = maskByMagnitude(ctx.model, value, t, { readers, prefix: `teal${i}` });
      for (const l of linears.filter((l) => l.input === value)) {
        plan.sparse.push({ linear: l.name, densityOf: masked, mode: "input" });
        plan.kernel!.inputs[l.name] = { rule: { kind: "magnitude", threshold: t } };
      }
      plan.selection.push({ value, flopsPerElement: 2 });
      plan.notes![`t[${i++}]`] = Number(t.toPrecision(4));
    });
    return plan;
  },
});
