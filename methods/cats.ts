/**
 * `cats` — CATS (Lee et al., 2024): contextually-aware thresholding of the gate. In a gated FFN,
 * down(act(x·W_gate) ⊙ x·W_up), the gate activation a = act(x·W_gate) is zeroed where |a| < t,
 * with t the s-quantile of |a| on the calibration split; then only the surviving neurons need
 * their up-projection column and down-projection row.
 *
 * On a non-gated FFN the same threshold applies to the activation output act(x·W_up); there the
 * up projection must still be computed in full (its output is what is thresholded), so only the
 * down projection shrinks. Selection cost: 2 FLOPs per element.
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import { GraphIndex } from "../src/onnx/graph.ts";
import { absQuantile, calibrateInOrder, ffnBlocks, maskByMagnitude } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/**
 * `cats` — CATS (Lee et al., 2024), contextually-aware thresholding of the FFN gate.
 *
 * - Skips: for the neurons whose |act(gate)| < t, the up projection's column and the down
 *   projection's row (a non-gated FFN computes its up projection in full).
 * - Sparsity: required, s in [0, 1); per FFN t is the s-quantile of |act(gate)|.
 * - Parameters: none.
 * - Calibration: thresholds, in graph order on the partly sparsified model.
 */
export const catsMethod = defineMethod({
  id: "cats",
  title: "CATS: zero the FFN gate activation where |act(gate)| < t (calibrated quantile)",
  paper: "Lee et al., CATS: Contextually-Aware Thresholding for Sparsity, 2024",
  skips: "up columns and down rows of the FFN neurons whose |act(gate)| < t",
  needsSparsity: true,
  calibration: "thresholds",
  params: {},
  async prepare(ctx, { sparsity: s }): Promise<VariantPlan> {
    const blocks = ffnBlocks(ctx.model);
    const plan: VariantPlan = {
      model: ctx.model,
      sparse: [],
      selection: [],
      notes: {},
      kernel: { inputs: {}, gates: {} },
    };
    const gateValue = (b: (typeof blocks)[number]): string => {
      if (!b.gated) return b.hidden;
      // act(gate) is the operand of the final product that is not the up projection.
      const product = new GraphIndex(ctx.model.graph!).producer.get(b.hidden);
      const other = product?.input?.find((i) => i !== b.up.output);
      if (!other) {
        throw new Error(`CATS: cannot find act(gate) in the gated block ending at ${b.down.name}`);
      }
      return other;
    };
    let i = 0;
    await calibrateInOrder(ctx, blocks, gateValue, (b, captured) => {
      const value = gateValue(b);
      const t = absQuantile(captured.data, s);
      const masked = maskByMagnitude(ctx.model, value, t, { prefix: `cats${i}` });
      const density = b.gated ? b.hidden : masked;
      plan.sparse.push({ linear: b.down.name, densityOf: density, mode: "input" });
      if (b.gated) plan.sparse.push({ linear: b.up.name, densityOf: density, mode: "output" });
      plan.selection.push({ value, flopsPerElement: 2 });
      const rule = { kind: "magnitude" as const, threshold: t };
      if (b.gated) plan.kernel!.gates[b.down.name] = { rule, on: "activation" };
      else plan.kernel!.inputs[b.down.name] = { rule };
      plan.notes![`t[${i++}]`] = Number(t.toPrecision(4));
    });
    return plan;
  },
});
