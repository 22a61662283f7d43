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
  /** What each block's linear layer does ("block 2 FFN down"), by layer name. */
  roles: Record<string, string>;
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
  const graph = analyzeGraph(dense.graph!);
  return {
    dense,
    shapes,
    count: countFlops(dense, shapes),
    linears: graph.linears,
    roles: layerRoles(graph),
  };
}

/**
 * What each linear layer of the model's blocks does, in words a reader knows ("block 2 FFN
 * down", "block 1 attention q"), keyed by the layer's name; blocks are counted from 1 in graph
 * order.
 *
 * @param graph The graph's analysis.
 * @returns Roles by layer name.
 */
export function layerRoles(
  graph: Pick<ReturnType<typeof analyzeGraph>, "ffn" | "attention">,
): Record<string, string> {
  const roles: Record<string, string> = {};
  graph.ffn.forEach((b, i) => {
    // A layer in two blocks (an MLP's middle layer: one block's down, the next one's up) keeps
    // its first role: the hidden activation it reads belongs to the earlier block.
    roles[b.up.name] ??= `block ${i + 1} FFN up`;
    if (b.gate) roles[b.gate.name] ??= `block ${i + 1} FFN gate`;
    roles[b.down.name] ??= `block ${i + 1} FFN down`;
  });
  graph.attention.forEach((a, i) => {
    for (const [part, l] of [["q", a.q], ["k", a.k], ["v", a.v], ["out", a.out]] as const) {
      if (l) roles[l.name] ??= `block ${i + 1} attention ${part}`;
    }
  });
  return roles;
}
