/**
 * `magnitude` — ShrinkBench's baseline (Blalock et al., 2020): zero the smallest |w| of every
 * pruned linear, per layer (`scope: "layer"`, default) or with one threshold across all pruned
 * layers (`scope: "global"`). The classifier/LM head stays dense.
 *
 * @module
 */

import type { SparsityMethod } from "../src/method.ts";
import { analyzeGraph } from "../src/onnx/blocks.ts";
import { requireSparsity } from "./_common.ts";
import { pruneLayerwise } from "./_weight_plan.ts";
import { prunableLinears, readWeight } from "./_weights.ts";

/** The |w| below which a fraction s of `abs` lies (Infinity when s leaves nothing). */
function threshold(abs: Float32Array, s: number): number {
  return abs.sort()[Math.floor(abs.length * s)] ?? Infinity;
}

function zeroBelow(w: Float32Array, t: number): void {
  w.forEach((v, i) => {
    if (Math.abs(v) < t) w[i] = 0;
  });
}

/** The `magnitude` method. */
export const magnitudeMethod: SparsityMethod = {
  id: "magnitude",
  title: "Magnitude pruning (ShrinkBench baseline), layer-wise or global",
  needsSparsity: true,
  calibrated: false,
  prepare(ctx) {
    const s = requireSparsity("magnitude", ctx.sparsity);
    let global: number | undefined;
    if (ctx.params.scope === "global") {
      const weights = prunableLinears(analyzeGraph(ctx.model.graph!).linears)
        .map((l) => readWeight(ctx.model, l));
      const abs = new Float32Array(weights.reduce((n, w) => n + w.length, 0));
      let at = 0;
      for (const w of weights) {
        for (const v of w) abs[at++] = Math.abs(v);
      }
      global = threshold(abs, s);
    }
    return pruneLayerwise(
      ctx,
      { sparsity: s },
      (_l, w) => zeroBelow(w, global ?? threshold(Float32Array.from(w, Math.abs), s)),
    );
  },
};
