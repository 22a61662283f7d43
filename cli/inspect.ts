/**
 * `deno task inspect <model.onnx> [--json] [--shape NAME=1x32]...`: FLOPs and parameters per
 * layer and in total, and the feed-forward and attention blocks found, for any ONNX model (the
 * input shapes come from the model's static shapes or from --shape).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { analyzeGraph } from "../src/onnx/blocks.ts";
import { countFlops } from "../src/onnx/flops.ts";
import { decodeModel } from "../src/onnx/model.ts";
import { inferShapes, resolveInputShapes } from "../src/onnx/shapes.ts";

const HELP = `Usage: deno task inspect <model.onnx> [--json] [--shape NAME=DxDxD]...

Prints per-layer and total FLOPs (2 x multiply-accumulates; MatMul, Gemm and Conv, attention
matmuls included) and parameters, the element-wise/normalisation FLOPs apart, and the detected
FFN blocks (up / gate / activation / down) and attention blocks.

  --json          one JSON object: flops, flops_other, params, layers, ffn, attention
  --shape N=AxB   shape of input N (needed for dynamic dimensions), e.g. --shape input_ids=1x32`;

/** What `inspect --json` prints. */
export interface InspectReport {
  /** File inspected. */
  file: string;
  /** Input shapes used. */
  inputs: Record<string, number[]>;
  /** MatMul/Gemm/Conv FLOPs (the figure comparable with PyTorch's FlopCounterMode). */
  flops: number;
  /** Element-wise and normalisation FLOPs. */
  flops_other: number;
  /** Parameters (elements of floating-point initializers). */
  params: number;
  /** Nodes with FLOPs, in graph order. */
  layers: { name: string; op: string; flops: number; out: number[] }[];
  /** FFN blocks. */
  ffn: {
    up: string;
    gate: string | null;
    down: string;
    activation: string;
    gated: boolean;
    d_model: number;
    d_hidden: number;
  }[];
  /** Attention blocks (projection names, null when not found). */
  attention: {
    q: string | null;
    k: string | null;
    v: string | null;
    out: string | null;
    softmax: string;
  }[];
}

/**
 * Inspects a model.
 *
 * @param file Path of the .onnx file.
 * @param shapes Input shapes given on the command line.
 * @returns The report.
 */
export async function inspectModel(
  file: string,
  shapes: Record<string, number[]> = {},
): Promise<InspectReport> {
  let bytes: Uint8Array;
  try {
    if ((await Deno.stat(file)).isDirectory) {
      throw new Error(`Cannot read ${file}: it is a directory; give the path of an .onnx file`);
    }
    bytes = await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`Cannot read ${file}: no such file`);
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new Error(`Cannot read ${file}: permission denied`);
    }
    throw e;
  }
  const model = decodeModel(bytes, { source: file });
  const inputs = resolveInputShapes(model, shapes);
  const valueShapes = await inferShapes(model, inputs);
  const count = countFlops(model, valueShapes);
  const { ffn, attention } = analyzeGraph(model.graph!);
  return {
    file,
    inputs,
    flops: count.flops,
    flops_other: count.flopsOther,
    params: count.params,
    layers: count.nodes.filter((n) => n.flops > 0).map((n) => ({
      name: n.name,
      op: n.opType,
      flops: n.flops,
      out: n.outDims,
    })),
    ffn: ffn.map((b) => ({
      up: b.up.name,
      gate: b.gate?.name ?? null,
      down: b.down.name,
      activation: b.gated ? `gated-${b.activation}` : b.activation,
      gated: b.gated,
      d_model: b.up.inFeatures,
      d_hidden: b.hiddenSize,
    })),
    attention: attention.map((a) => ({
      q: a.q?.name ?? null,
      k: a.k?.name ?? null,
      v: a.v?.name ?? null,
      out: a.out?.name ?? null,
      softmax: a.softmax.name ?? "",
    })),
  };
}

/**
 * Parses `NAME=1x32` shape flags.
 *
 * @param flags The flag values.
 * @returns Shapes by input name.
 */
export function parseShapeFlags(flags: readonly string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const f of flags) {
    const m = f.match(/^([^=]+)=(\d+(?:x\d+)*)$/);
    if (!m) throw new RangeError(`Invalid --shape "${f}": use NAME=DxDxD, e.g. input_ids=1x32`);
    const dims = m[2]!.split("x").map(Number);
    if (dims.some((d) => d < 1)) {
      throw new RangeError(`Invalid --shape "${f}": every dimension must be at least 1`);
    }
    out[m[1]!] = dims;
  }
  return out;
}

function fmt(n: number): string {
  return n >= 1e9
    ? `${(n / 1e9).toFixed(3)} G`
    : n >= 1e6
    ? `${(n / 1e6).toFixed(3)} M`
    : n >= 1e3
    ? `${(n / 1e3).toFixed(1)} k`
    : `${n}`;
}

/**
 * Runs the CLI.
 *
 * @param args Arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        json: { type: "boolean", default: false },
        shape: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    (values.help ? console.log : console.error)(HELP);
    return values.help ? 0 : 2;
  }
  let report: InspectReport;
  try {
    report = await inspectModel(positionals[0]!, parseShapeFlags(values.shape));
  } catch (e) {
    // The whole message on one line: shape errors carry their detail after the first line.
    const lines = (e as Error).message.split("\n").map((l) => l.trim()).filter(Boolean);
    console.error(`Error: ${lines.join("; ")}`);
    return 1;
  }
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  console.log(
    `${report.file}  inputs: ${
      Object.entries(report.inputs).map(([k, v]) => `${k}=${v.join("x")}`).join(", ")
    }`,
  );
  console.log(
    `FLOPs (MatMul/Gemm/Conv): ${fmt(report.flops)}  other: ${fmt(report.flops_other)}  params: ${
      fmt(report.params)
    }\n`,
  );
  for (const l of report.layers) {
    console.log(
      `  ${l.op.padEnd(20)} ${fmt(l.flops).padStart(12)}  [${l.out.join("x")}]  ${l.name}`,
    );
  }
  console.log(`\nFFN blocks: ${report.ffn.length}`);
  for (const b of report.ffn) {
    console.log(
      `  ${b.activation.padEnd(12)} ${b.d_model} -> ${b.d_hidden} -> ${b.d_model}  up ${b.up}${
        b.gate ? `, gate ${b.gate}` : ""
      }, down ${b.down}`,
    );
  }
  console.log(`Attention blocks: ${report.attention.length}`);
  for (const a of report.attention) console.log(`  q ${a.q}, k ${a.k}, v ${a.v}, out ${a.out}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
