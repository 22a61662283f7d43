/**
 * The frame the weight-pruning methods share: the plan they return (the kernels read the variant's
 * own weights), layer-by-layer pruning in graph order, and the compression figures they report.
 *
 * @module
 */

import type { MethodContext, VariantPlan } from "../src/method.ts";
import { analyzeGraph, type Linear } from "../src/onnx/blocks.ts";
import { DataType, type ModelProto } from "../src/onnx/model.ts";
import { prunableLinears, readWeight, writeWeight } from "./_weights.ts";

/**
 * An empty plan for a model whose weights a method rewrites: no activation is selected, the work
 * shrinks through `nodeScales`, and the `wgsl` kernels are built from the variant's weights.
 *
 * @param model The rewritten model.
 * @param notes Facts to record.
 * @returns The plan.
 */
export function weightPlan(model: ModelProto, notes: Record<string, number | string>): VariantPlan {
  return {
    model,
    sparse: [],
    selection: [],
    nodeScales: [],
    notes,
    kernel: { inputs: {}, gates: {}, weightsFromVariant: true },
  };
}

/**
 * The number of float32 parameters (elements of float initializers) of a model.
 *
 * @param model The model.
 * @returns The count.
 */
export function floatParamCount(model: ModelProto): number {
  let params = 0;
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT) continue;
    params += (t.dims ?? []).reduce<number>((a, v) => a * Number(v), 1);
  }
  return params;
}

function nonzeroFraction(w: Float32Array): number {
  let nz = 0;
  for (const v of w) if (v !== 0) nz++;
  return nz / w.length;
}

/**
 * Prunes the prunable linears (all but the head) one by one in graph order: each weight, read as
 * [out, in], is handed to `prune`, which zeroes entries in place (it may capture calibration
 * inputs on `ctx.model`, pruned so far), and written back. Each pruned linear's FLOPs scale with
 * its nonzero fraction; `compression_ratio` is all float parameters over those left nonzero.
 *
 * @param ctx The method context (its model is pruned in place).
 * @param notes Facts to record.
 * @param prune Zeroes weights of one linear's [out, in] matrix in place.
 * @returns The plan.
 */
export async function pruneLayerwise(
  ctx: MethodContext,
  notes: Record<string, number | string>,
  prune: (l: Linear, w: Float32Array) => void | Promise<void>,
): Promise<VariantPlan> {
  const plan = weightPlan(ctx.model, notes);
  let zeros = 0;
  for (const l of prunableLinears(analyzeGraph(ctx.model.graph!).linears)) {
    const w = readWeight(ctx.model, l);
    await prune(l, w);
    writeWeight(ctx.model, l, w);
    const kept = nonzeroFraction(w);
    zeros += w.length - Math.round(kept * w.length);
    plan.nodeScales!.push({ node: l.name, constant: kept });
  }
  const params = floatParamCount(ctx.model);
  plan.extra = {
    compression_ratio: Number((params / Math.max(1, params - zeros)).toFixed(4)),
  };
  return plan;
}
