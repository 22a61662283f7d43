/**
 * What `bench --model` prints about a model before it runs: FLOPs and parameters for the timed
 * (batch-1) input, the weight layers and activations found, and each feed-forward block.
 *
 * @module
 */

import { loadDataset } from "../../datasets/mod.ts";
import { analyzeGraph } from "../onnx/blocks.ts";
import { countFlops } from "../onnx/flops.ts";
import { importModel } from "../onnx/import.ts";
import { inferShapes } from "../onnx/shapes.ts";
import type { ModelSuite } from "../suite.ts";

const ACTIVATIONS = [
  "Relu",
  "Gelu",
  "Erf",
  "Tanh",
  "Sigmoid",
  "HardSwish",
  "HardSigmoid",
  "Softplus",
];

/**
 * Describes a user suite's model.
 *
 * @param suite The suite (its dataset gives the timed input's shapes).
 * @param root The repository root, for relative model paths.
 * @returns Lines to print.
 */
export async function describeUserModel(suite: ModelSuite, root: string): Promise<string[]> {
  const path = suite.model.path.startsWith("/") ? suite.model.path : `${root}${suite.model.path}`;
  const { model } = await importModel(await Deno.readFile(path), {
    source: suite.model.path,
    dir: path.replace(/\/[^/]*$/, ""),
  });
  const src = suite.dataset.source;
  const shapes: Record<string, number[]> = {};
  if (src?.kind === "random") { for (const i of src.inputs) shapes[i.name] = i.dims; }
  else {
    const d = await loadDataset(suite.dataset.id, src ? { source: src } : {});
    if (d.kind === "tensors") {
      const e = d.splits.evaluation;
      for (const [k, t] of Object.entries(e.inputs)) {
        shapes[k] = [t.dims[0]! / e.count, ...t.dims.slice(1)];
      }
    }
  }
  const count = countFlops(model, await inferShapes(model, shapes));
  const { ffn, attention, linears } = analyzeGraph(model.graph!);
  const ops = new Map<string, number>();
  for (const n of model.graph!.node ?? []) ops.set(n.opType!, (ops.get(n.opType!) ?? 0) + 1);
  const acts = ACTIVATIONS.filter((o) => ops.has(o)).map((o) => `${o} x${ops.get(o)}`);
  const g = (n: number) => n >= 1e9 ? `${(n / 1e9).toFixed(3)} G` : `${(n / 1e6).toFixed(3)} M`;
  return [
    `FLOPs (MatMul/Gemm/Conv, timed input): ${g(count.flops)}  other: ${
      g(count.flopsOther)
    }  params: ${(count.params / 1e6).toFixed(3)} M`,
    `weight layers: ${linears.length} MatMul/Gemm, ${ops.get("Conv") ?? 0} Conv; activations: ${
      acts.join(", ") || "none"
    }`,
    ...ffn.map((b) =>
      `  FFN ${
        b.gated ? "gated-" : ""
      }${b.activation} ${b.up.inFeatures} -> ${b.hiddenSize} -> ${b.down.outFeatures}  up ${b.up.name}${
        b.gate ? `, gate ${b.gate.name}` : ""
      }, down ${b.down.name}`
    ),
    `attention blocks: ${attention.length}`,
  ];
}
