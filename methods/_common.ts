/**
 * Helpers the activation-sparsity methods share: which linears belong to blocks, calibration
 * quantiles, and the mask chains they splice into graphs.
 *
 * @module
 */

import { analyzeGraph, type FfnBlock, type Linear } from "../src/onnx/blocks.ts";
import type { Captured, MethodContext } from "../src/method.ts";
import type { ModelProto, NodeProto } from "../src/onnx/model.ts";
import { firstInGraph, Rewriter } from "../src/onnx/rewriter.ts";

/**
 * The linears inside FFN and attention blocks (everything a "whole block" method like TEAL
 * sparsifies), each with the value it reads; the classifier head and embeddings are left out.
 * A model without detected blocks (a plain MLP) uses all linears but the last.
 *
 * @param model The model.
 * @returns Linears in graph order.
 */
export function blockLinears(model: ModelProto): Linear[] {
  const { linears, ffn, attention } = analyzeGraph(model.graph!);
  const inBlocks = new Set<Linear>();
  for (const b of ffn) [b.up, b.gate, b.down].forEach((l) => l && inBlocks.add(l));
  for (const a of attention) [a.q, a.k, a.v, a.out].forEach((l) => l && inBlocks.add(l));
  const chosen = linears.filter((l) => [...inBlocks].some((b) => b.node === l.node));
  return chosen.length > 0 ? chosen : linears.slice(0, -1);
}

/**
 * The FFN blocks of a model.
 *
 * @param model The model.
 * @returns Blocks.
 * @throws {Error} When there are none, since FFN methods have nothing to act on.
 */
export function ffnBlocks(model: ModelProto): FfnBlock[] {
  const { ffn } = analyzeGraph(model.graph!);
  if (ffn.length === 0) {
    throw new Error("No feed-forward block found in the model (up → activation → down)");
  }
  return ffn;
}

/**
 * The q-quantile of |x| over all elements (what TEAL's threshold is: P(|x| < t) = q).
 *
 * @param data Values.
 * @param q Probability in [0, 1).
 * @returns The quantile.
 */
export function absQuantile(data: Float32Array, q: number): number {
  const abs = Float32Array.from(data, Math.abs).sort();
  return quantileOfSorted(abs, q);
}

/**
 * The q-quantile of sorted values (linear interpolation).
 *
 * @param sorted Ascending values.
 * @param q Probability.
 * @returns The quantile.
 */
export function quantileOfSorted(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) throw new RangeError("Cannot calibrate: no calibration values");
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Every node that reads `value`.
 *
 * @param model The model.
 * @param value Value name.
 * @returns The readers.
 */
export function readersOf(model: ModelProto, value: string): NodeProto[] {
  return (model.graph?.node ?? []).filter((n) => n.input?.includes(value));
}

/**
 * Replaces `value`, for the given readers (default: all), with `value · 1[|value| > t]`.
 *
 * @param model The model (rewritten in place).
 * @param value The value to mask.
 * @param threshold t.
 * @param options `readers` limits who sees the masked value; `prefix` names the new nodes.
 * @returns The masked value's name.
 */
export function maskByMagnitude(
  model: ModelProto,
  value: string,
  threshold: number,
  options: { readers?: NodeProto[]; prefix: string },
): string {
  const readers = options.readers ?? readersOf(model, value);
  const rw = new Rewriter(model, options.prefix);
  const abs = rw.node("Abs", [value])[0]!;
  const keep = rw.node("Greater", [abs, rw.floatConst("threshold", [threshold])])[0]!;
  const masked = rw.where(keep, value);
  rw.commit(firstInGraph(model, readers), value, masked, readers);
  return masked;
}

/**
 * Replaces `value` (for its readers) with a version keeping, per row (token), the k largest
 * entries of `score`: value · 1[score ≥ k-th largest score].
 *
 * @param model The model (rewritten in place).
 * @param value The value to mask.
 * @param score The per-element score (may be `value` itself).
 * @param k Entries to keep per row.
 * @param options `readers`, `prefix`.
 * @returns The masked value's name.
 */
export function maskTopK(
  model: ModelProto,
  value: string,
  score: string,
  k: number,
  options: { readers?: NodeProto[]; prefix: string },
): string {
  const readers = options.readers ?? readersOf(model, value);
  const rw = new Rewriter(model, options.prefix);
  const keep = rw.node("GreaterOrEqual", [score, kthLargest(rw, score, k)])[0]!;
  const masked = rw.where(keep, value);
  rw.commit(firstInGraph(model, readers), value, masked, readers);
  return masked;
}

/**
 * Adds nodes computing the k-th largest entry of each row (last axis) of `value`, kept as a
 * size-1 last axis so it broadcasts against the row: TopK, then the slice of its k-th value.
 *
 * @param rw The rewriter the nodes go into.
 * @param value The value to rank.
 * @param k Rank (1 = largest).
 * @returns The k-th largest value's name.
 */
export function kthLargest(rw: Rewriter, value: string, k: number): string {
  const [top] = rw.node("TopK", [value, rw.intConst("k", [k])], {
    attrs: { axis: -1, largest: 1, sorted: 1 },
    intAttrs: ["axis", "largest", "sorted"],
    outputs: 2,
  });
  return rw.node("Slice", [
    top!,
    rw.intConst("start", [k - 1]),
    rw.intConst("end", [k]),
    rw.intConst("axis", [-1]),
  ])[0]!;
}

/**
 * The number of entries to keep for a target sparsity: round((1 − s) · d), at least 1.
 *
 * @param width d.
 * @param sparsity s.
 * @returns k.
 */
export function keepCount(width: number, sparsity: number): number {
  return Math.max(1, Math.round((1 - sparsity) * width));
}

/**
 * Calibrates items one after another in graph order, capturing each item's value on the model as
 * rewritten so far, so every threshold sees the activations the sparse model really produces
 * (upstream masks shift downstream distributions).
 *
 * @param ctx The method context (its model is rewritten in place by `apply`).
 * @param items What to calibrate, in graph order.
 * @param valueOf The value each item calibrates on.
 * @param apply Calibrates one item from its captured value and rewrites the model.
 */
export async function calibrateInOrder<T>(
  ctx: MethodContext,
  items: readonly T[],
  valueOf: (item: T) => string,
  apply: (item: T, captured: Captured) => void,
): Promise<void> {
  for (const item of items) {
    const value = valueOf(item);
    const got = (await ctx.capture(ctx.model, [value])).get(value);
    if (!got) throw new Error(`Calibration captured nothing for ${value}`);
    apply(item, got);
  }
}
