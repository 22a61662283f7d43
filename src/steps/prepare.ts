/**
 * Preparing a variant: the method rewrites a copy of the dense model (calibrating on the way),
 * its quality and densities are measured once on the accuracy target, and its effective FLOPs
 * follow from the measured densities. The result is shared by every target the variant is timed
 * on, and the variant's bytes are encoded once.
 *
 * @module
 */

import { effectiveFlops } from "../effective_flops.ts";
import type { Captured, SparsityMethod, VariantPlan } from "../method.ts";
import { encodeModel, type ModelProto } from "../onnx/model.ts";
import { cloneModel } from "../onnx/rewriter.ts";
import type { Variant } from "../plan.ts";
import type { ModelAnalysis } from "./analysis.ts";
import type { Quality } from "./quality.ts";

/** A variant ready to be timed. */
export interface PreparedVariant {
  /** The method's plan (rewritten model, sparsified layers, kernel plan). */
  plan: VariantPlan;
  /** The plan's model as ONNX bytes (the dense file's bytes for dense). */
  bytes: Uint8Array;
  /** Its measured quality. */
  quality: Quality;
  /** Its FLOPs given the measured densities. */
  flops: ReturnType<typeof effectiveFlops>;
}

/** What preparing a variant needs. */
export interface PrepareContext {
  /** The dense model's analysis. */
  analysis: ModelAnalysis;
  /** The dense model's file bytes. */
  denseBytes: Uint8Array;
  /** The dense model's quality (measured first). */
  denseQuality: Quality;
  /** Looks up a method by id. */
  method: (id: string) => SparsityMethod;
  /** The suite's seed. */
  seed: number;
  /** The calibration capture. */
  capture: (model: ModelProto, values: string[]) => Promise<Map<string, Captured>>;
  /** Measures a model's quality. */
  evaluate: (model: ModelProto, label: string, probed: readonly string[]) => Promise<Quality>;
  /** Labels the model in messages. */
  label: string;
}

/**
 * The dense baseline as a prepared variant.
 *
 * @param ctx Context (its `denseQuality` is the dense model's).
 * @returns The dense variant.
 */
export function preparedDense(ctx: Omit<PrepareContext, "method" | "capture">): PreparedVariant {
  const { analysis } = ctx;
  const plan: VariantPlan = { model: analysis.dense, sparse: [], selection: [] };
  return {
    plan,
    bytes: ctx.denseBytes,
    quality: ctx.denseQuality,
    flops: effectiveFlops(analysis.count, analysis.shapes, analysis.linears, plan, new Map()),
  };
}

/**
 * Prepares a sparse variant.
 *
 * @param v The variant.
 * @param ctx Context.
 * @returns The prepared variant.
 * @throws {RangeError} When the method needs a sparsity and the variant has none.
 */
export async function prepareVariant(v: Variant, ctx: PrepareContext): Promise<PreparedVariant> {
  const { analysis } = ctx;
  const method = ctx.method(v.method);
  if (method.needsSparsity && v.sparsity === null) {
    throw new RangeError(`Method ${v.method} needs a sparsity`);
  }
  const plan = await method.prepare({
    model: cloneModel(analysis.dense),
    sparsity: v.sparsity,
    params: v.params,
    seed: ctx.seed,
    capture: ctx.capture,
    valueShape: (name) => analysis.shapes.get(name)?.dims,
  });
  const probed = [
    ...plan.sparse.map((s) => s.densityOf),
    ...(plan.nodeScales ?? []).flatMap((s) => (s.probe ? [s.probe] : [])),
  ];
  const quality = await ctx.evaluate(plan.model, ctx.label, probed);
  return {
    plan,
    bytes: encodeModel(plan.model),
    quality,
    flops: effectiveFlops(
      analysis.count,
      analysis.shapes,
      analysis.linears,
      plan,
      quality.densities,
    ),
  };
}
