/**
 * The frame the weight-pruning methods share: the plan they return (the kernels read the variant's
 * own weights), layer-by-layer pruning of linears and convs in graph order, and the compression figures they report.
 *
 * @module
 */

import type { MethodContext, VariantPlan } from "../src/method.ts";
import { analyzeGraph, type Linear } from "../src/onnx/blocks.ts";
import { DataType, type ModelProto } from "../src/onnx/model.ts";
import {
  type ConvLayer,
  findConvs,
  isDepthwise,
  readConvWeight,
  writeConvWeight,
} from "./_conv.ts";
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
 * Zeroes the smallest |w| of a weight in place: those below the value at rank floor(n · s).
 *
 * @param w The weights (rewritten in place).
 * @param s The fraction to zero.
 * @param threshold A threshold to use instead (magnitude's global scope).
 */
export function zeroSmallest(w: Float32Array, s: number, threshold?: number): void {
  const t = threshold ??
    (Float32Array.from(w, Math.abs).sort()[Math.floor(w.length * s)] ?? Infinity);
  w.forEach((v, i) => {
    if (Math.abs(v) < t) w[i] = 0;
  });
}

/** How a method prunes each kind of layer. */
export interface LayerPruners {
  /** Facts to record. */
  notes: Record<string, number | string>;
  /** Zeroes weights of one linear's [out, in] matrix in place. */
  linear: (l: Linear, w: Float32Array) => void | Promise<void>;
  /** Zeroes weights of one conv's [out, in/groups · kh · kw] filter matrix in place. */
  conv: (c: ConvLayer, w: Float32Array) => void | Promise<void>;
  /**
   * The sparsity at which depthwise convs (one input channel per group, rows of kh·kw) are pruned
   * per layer by magnitude instead of by `conv`, for methods whose per-row scores or Hessians
   * mean little on rows that short; counted in the note `depthwise_convs_by_magnitude`.
   */
  depthwiseByMagnitude?: number;
}

/**
 * Prunes the prunable linears (all but the head) and the 2-D convs one by one in graph order:
 * each weight, read as [out, in] (a conv's as [out, in/groups · kh · kw]), is handed to its
 * pruner, which zeroes entries in place (it may capture calibration inputs on `ctx.model`, pruned
 * so far), and written back. Each pruned layer's FLOPs scale with its nonzero fraction;
 * `compression_ratio` is all float parameters over those left nonzero.
 *
 * @param ctx The method context (its model is pruned in place).
 * @param pruners The pruners and notes.
 * @returns The plan.
 */
export async function pruneLayerwise(
  ctx: MethodContext,
  pruners: LayerPruners,
): Promise<VariantPlan> {
  const plan = weightPlan(ctx.model, pruners.notes);
  const order = new Map((ctx.model.graph!.node ?? []).map((n, i) => [n, i]));
  const layers: ({ kind: "linear"; l: Linear } | { kind: "conv"; c: ConvLayer })[] = [
    ...prunableLinears(analyzeGraph(ctx.model.graph!).linears).map((l) => ({
      kind: "linear" as const,
      l,
    })),
    ...findConvs(ctx.model).map((c) => ({ kind: "conv" as const, c })),
  ];
  const at = (x: (typeof layers)[number]) => order.get(x.kind === "linear" ? x.l.node : x.c.node)!;
  layers.sort((a, b) => at(a) - at(b));
  let zeros = 0;
  let byMagnitude = 0;
  for (const layer of layers) {
    let w: Float32Array;
    let name: string;
    if (layer.kind === "linear") {
      w = readWeight(ctx.model, layer.l);
      await pruners.linear(layer.l, w);
      writeWeight(ctx.model, layer.l, w);
      name = layer.l.name;
    } else {
      w = readConvWeight(ctx.model, layer.c);
      if (pruners.depthwiseByMagnitude !== undefined && isDepthwise(layer.c)) {
        zeroSmallest(w, pruners.depthwiseByMagnitude);
        byMagnitude++;
      } else await pruners.conv(layer.c, w);
      writeConvWeight(ctx.model, layer.c, w);
      name = layer.c.name;
    }
    const kept = nonzeroFraction(w);
    zeros += w.length - Math.round(kept * w.length);
    plan.nodeScales!.push({ node: name, constant: kept });
  }
  if (pruners.depthwiseByMagnitude !== undefined) {
    pruners.notes.depthwise_convs_by_magnitude = byMagnitude;
  }
  const params = floatParamCount(ctx.model);
  plan.extra = {
    compression_ratio: Number((params / Math.max(1, params - zeros)).toFixed(4)),
  };
  return plan;
}
