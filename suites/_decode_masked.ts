/**
 * ORT's form of an activation-sparse decode plan: the plan's thresholds written into the model's
 * ONNX graph as masks, x · 1[|x| > t] in front of each block projection, which is how the papers'
 * code runs TEAL (a dense matmul over the masked input). The decode suite times it on ORT beside
 * the dense graph, and its test checks that the engine's sparse kernels compute the same logits.
 *
 * @module
 */

import { analyzeGraph } from "../src/onnx/blocks.ts";
import type { ModelProto } from "../src/onnx/model.ts";
import { cloneModel, firstInGraph, Rewriter } from "../src/onnx/rewriter.ts";
import type { ProjectionName, SparsityPlan } from "../src/decode/spec.ts";

/** The engine's projections in the order their inputs appear in a block of the graph. */
const ORDER: readonly ProjectionName[] = ["qkv", "o", "up", "down"];

/**
 * A copy of a decoder's graph with the plan's magnitude thresholds as masks on the inputs of the
 * block linears. Each block must show four distinct linear inputs in graph order, q/k/v's, o's,
 * the FFN input (up and gate read one value) and down's, as the zoo LMs and `transformers`'
 * exports do; projections the plan leaves dense get no mask.
 *
 * @param model The decoder (full-sequence or decode-step graph); left unchanged.
 * @param plan The plan: only `dense` and `magnitude` rules have a graph form.
 * @returns The masked copy.
 * @throws {Error} When the graph's linears do not form four inputs per block, or a rule is not a
 *   constant threshold.
 */
export function maskedDecoderGraph(model: ModelProto, plan: SparsityPlan): ModelProto {
  const out = cloneModel(model);
  const { linears } = analyzeGraph(out.graph!);
  // The last linear is the LM head, which no plan sparsifies.
  const inBlocks = linears.slice(0, -1);
  const inputs = [...new Set(inBlocks.map((l) => l.input))];
  const layers = plan.layers.length;
  if (inputs.length !== layers * ORDER.length) {
    throw new Error(
      `${plan.method}: the graph has ${inputs.length} distinct block-linear inputs, not ${ORDER.length} per block for ${layers} blocks; only decoders with q/k/v, o, up(/gate), down linears have a masked form`,
    );
  }
  inputs.forEach((value, i) => {
    const layer = Math.floor(i / ORDER.length);
    const projection = ORDER[i % ORDER.length]!;
    const rule = plan.layers[layer]?.[projection] ?? { kind: "dense" as const };
    if (rule.kind === "dense") return;
    if (rule.kind !== "magnitude" || rule.scale) {
      throw new Error(
        `${plan.method}: block ${layer} ${projection} has a "${rule.kind}" rule; the masked graph takes constant magnitude thresholds only (TEAL's calibrated form)`,
      );
    }
    const readers = inBlocks.filter((l) => l.input === value).map((l) => l.node);
    const rw = new Rewriter(out, `${plan.method}/L${layer}/${projection}`);
    const keep = rw.node("Greater", [
      rw.node("Abs", [value])[0]!,
      rw.floatConst("threshold", [rule.threshold]),
    ])[0]!;
    rw.commit(firstInGraph(out, readers), value, rw.where(keep, value), readers);
  });
  return out;
}
