/**
 * `magnitude` — ShrinkBench's baseline (Blalock et al., 2020): zero the smallest |w| of every
 * pruned linear and 2-D conv (a conv's filters taken together), per layer (`scope: "layer"`, default) or with one threshold across all pruned
 * layers (`scope: "global"`). The classifier/LM head stays dense.
 *
 * @module
 */

import { analyzeGraph } from "../src/onnx/blocks.ts";
import { defineMethod } from "./_method_spec.ts";
import { findConvs, readConvWeight } from "./_conv.ts";
import { pruneLayerwise, zeroSmallest } from "./_weight_plan.ts";
import { prunableLinears, readWeight } from "./_weights.ts";

/** The |w| below which a fraction s of `abs` lies (Infinity when s leaves nothing). */
function threshold(abs: Float32Array, s: number): number {
  return abs.sort()[Math.floor(abs.length * s)] ?? Infinity;
}

/**
 * `magnitude` — ShrinkBench's magnitude baseline (Blalock et al., MLSys 2020).
 *
 * - Skips: the zeroed weights (FLOPs scale with each layer's nonzero fraction; ORT and the
 *   kernels still run the matrices densely).
 * - Sparsity: required, s in [0, 1): the fraction of weights zeroed.
 * - Parameters: `scope`, `layer` (default: s of every layer) or `global` (one threshold).
 * - Calibration: none.
 */
export const magnitudeMethod = defineMethod({
  id: "magnitude",
  title: "Magnitude pruning (ShrinkBench baseline), layer-wise or global",
  paper: "Blalock et al., What is the State of Neural Network Pruning?, MLSys 2020",
  skips: "the smallest |w| of every pruned linear and conv (zeroed, FLOPs by nonzero fraction)",
  needsSparsity: true,
  calibration: "none",
  params: {
    scope: {
      kind: "choice",
      values: ["layer", "global"],
      default: "layer",
      doc: "layer prunes s of each layer; global ranks all pruned layers' weights together",
    },
  },
  prepare(ctx, { sparsity: s, params: { scope } }) {
    let global: number | undefined;
    if (scope === "global") {
      const weights = [
        ...prunableLinears(analyzeGraph(ctx.model.graph!).linears)
          .map((l) => readWeight(ctx.model, l)),
        ...findConvs(ctx.model).map((c) => readConvWeight(ctx.model, c)),
      ];
      const abs = new Float32Array(weights.reduce((n, w) => n + w.length, 0));
      let at = 0;
      for (const w of weights) {
        for (const v of w) abs[at++] = Math.abs(v);
      }
      global = threshold(abs, s);
    }
    const prune = (_l: unknown, w: Float32Array) => zeroSmallest(w, s, global);
    return pruneLayerwise(ctx, { notes: { sparsity: s }, linear: prune, conv: prune });
  },
});
