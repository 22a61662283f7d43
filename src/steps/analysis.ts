/**
 * The dense model analysed once per suite: value shapes for the timed input, the FLOPs count,
 * and the linear layers. Every variant's effective FLOPs and every backend that needs the graph
 * read this analysis instead of decoding and analysing the model again.
 *
 * @module
 */

import type { Backend, TensorMap } from "../backend.ts";
import { analyzeGraph, type Linear } from "../onnx/blocks.ts";
import { countFlops, type FlopCount } from "../onnx/flops.ts";
import type { ModelProto } from "../onnx/model.ts";
import { inferShapes, type ShapeRun, type ValueShape } from "../onnx/shapes.ts";

/** The dense model's analysis. */
export interface ModelAnalysis {
  /** The decoded dense model (never mutated: methods get clones). */
  dense: ModelProto;
  /** Every value's shape for the timed input. */
  shapes: Map<string, ValueShape>;
  /** FLOPs of the timed input. */
  count: FlopCount;
  /** The MatMul/Gemm layers with their weights. */
  linears: Linear[];
}

/**
 * Shape inference on a backend's CPU runtime (a browser page's ORT-web wasm), for
 * {@linkcode analyseModel}'s `run`. Outputs of element types the backends do not read (bool)
 * fail the run.
 *
 * @param backend The backend.
 * @returns The shape runner.
 */
export function shapeRunOn(backend: Backend): ShapeRun {
  return async (model, feeds) => {
    const loaded = await backend.load(model, {
      label: "shape inference",
      feeds: feeds as unknown as TensorMap,
    });
    try {
      return await loaded.run(feeds as unknown as TensorMap);
    } finally {
      await loaded.release();
    }
  };
}

/**
 * Analyses the dense model for the timed input.
 *
 * @param dense The decoded dense model.
 * @param feeds The timed input.
 * @param options `run`: the runtime that finds the shapes (default onnxruntime-node).
 * @returns The analysis.
 */
export async function analyseModel(
  dense: ModelProto,
  feeds: TensorMap,
  options: { run?: ShapeRun } = {},
): Promise<ModelAnalysis> {
  const shapes = await inferShapes(
    dense,
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])),
    options,
  );
  return {
    dense,
    shapes,
    count: countFlops(dense, shapes),
    linears: analyzeGraph(dense.graph!).linears,
  };
}
