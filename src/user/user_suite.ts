/**
 * A suite for a user's model: `bench --model FILE.onnx` and `suite new` build a
 * {@linkcode ModelSuite} from the model file and a data spec (`random[:N]`, a folder of `.npy`
 * arrays, or a shipped dataset id), with the model and data pinned by content so the same cells
 * can be rerun anywhere. The methods are picked from what the graph holds: every activation method
 * when it has feed-forward blocks, every weight-pruning method when it has linear layers besides
 * the head.
 *
 * @module
 */

import type { TargetId } from "../backend.ts";
import type {
  BuiltinDatasetId,
  DatasetSource,
  RandomInputSpec,
  TensorDataset,
} from "../../datasets/types.ts";
import { DATASET_IDS } from "../../datasets/types.ts";
import { sha256Hex } from "../../lib/sha256.ts";
import { analyzeGraph, type FfnBlock, type Linear } from "../onnx/blocks.ts";
import { GraphIndex } from "../onnx/graph.ts";
import { importModel } from "../onnx/import.ts";
import { DataType, type ModelProto } from "../onnx/model.ts";
import { graphInputs, type InputSpec } from "../onnx/shapes.ts";
import { defineSuite, type ModelSuite, type VariantSpec } from "../suite.ts";

/** Activation methods run on every detected FFN block (WINA also on its threshold form). */
export const ACTIVATION_METHODS = ["teal", "wina", "cats", "stat-topk", "topk"] as const;
/** Weight-pruning methods run on every linear layer but the head. */
export const PRUNING_METHODS = ["magnitude", "wanda", "sparsegpt"] as const;
/** The default sparsity grid, and the one `--quick` keeps. */
export const USER_GRID = { full: [0.25, 0.5, 0.7, 0.9], quick: [0.5] } as const;
/** The CPU targets a user's model is timed on by default. */
export const USER_TARGETS: readonly TargetId[] = ["ort-wasm", "ort-node"];

/** What the user gave on the command line. */
export interface UserModelSpec {
  /** Path of the `.onnx` file as given. */
  model: string;
  /** `random`, `random:N`, a folder of `.npy` files, or a shipped dataset id. */
  data: string;
  /** Shapes of inputs with dynamic dimensions, `NAME → dims` (batch dimension included). */
  shapes?: Record<string, number[]>;
  /** The output compared (default: the graph's first). */
  output?: string;
  /** Suite id (default: from the file name). */
  id?: string;
  /** Seed (default 1). */
  seed?: number;
  /** Image preprocessing of a shipped image dataset: mean and standard deviation. */
  normalize?: { mean: number; std: number };
}

/** A built suite and what was found, for printing before it runs. */
export interface UserSuite {
  /** The suite. */
  suite: ModelSuite;
  /** The model's path as the suite pins it (absolute, or relative to the repository). */
  modelPath: string;
  /** Lines describing the model, the data and the plan. */
  findings: string[];
}

/**
 * Builds the suite of a user's model.
 *
 * @param spec What the user gave.
 * @param io `root`: the repository root (paths inside it are pinned relative to it); `cwd`: where relative paths start.
 * @returns The suite and its findings.
 * @throws {Error} With one line naming the fix: a missing file, an unresolved dynamic dimension, an unknown output or dataset.
 */
export async function buildUserSuite(
  spec: UserModelSpec,
  io: {
    root: string;
    cwd: string;
    loadTensors?: (source: DatasetSource) => Promise<TensorDataset>;
  },
): Promise<UserSuite> {
  const absolute = spec.model.startsWith("/") ? spec.model : `${io.cwd}/${spec.model}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(absolute);
  } catch {
    throw new Error(`Cannot read model ${spec.model}: no such file (give --model PATH.onnx)`);
  }
  const dir = absolute.replace(/\/[^/]*$/, "");
  const imported = await importModel(bytes, { source: spec.model, dir });
  const model = imported.model;
  const modelPath = normalisePath(absolute, io.root);
  const base = spec.model.replace(/^.*\//, "").replace(/\.onnx$/, "").toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "model";
  const seed = spec.seed ?? 1;
  const inputs = graphInputs(model);
  const outputs = (model.graph!.output ?? []).map((o) => o.name!);
  // The compared output defaults to the first floating-point one (an argmax or a mask is no
  // distribution to compare).
  const floatOutput = (model.graph!.output ?? []).find((o) =>
    ([DataType.FLOAT, DataType.FLOAT16, undefined] as (number | undefined)[]).includes(
      o.type?.tensorType?.elemType,
    )
  )?.name;
  const output = spec.output ?? floatOutput ?? outputs[0];
  if (!output || !outputs.includes(output)) {
    throw new Error(
      `Model has no output "${spec.output}" (outputs: ${outputs.join(", ")}); use --output NAME`,
    );
  }
  const data = await dataSource(spec, { model, inputs, seed, root: io.root, cwd: io.cwd });
  const { ffn, linears } = analyzeGraph(model.graph!);
  const variants = pickVariants(ffn, linears);
  const labelled = data.scoring !== "none";
  const staticBatch = inputs.some((i) => typeof i.dims[0] === "number");
  const suite = defineSuite({
    kind: "model",
    id: spec.id ?? `user-${base}`,
    title: `${spec.model.replace(/^.*\//, "")} on ${data.label}`,
    description: `A user's model: ${
      variants.length ? "every applicable method" : "dense only"
    }; quality against the dense model's own outputs${
      labelled ? ` and ${data.metric}` : ""
    }; speed on the CPU targets.`,
    model: { id: base, path: modelPath, sha256: await sha256Hex(bytes) },
    dataset: {
      id: data.id,
      package: data.package,
      version: data.version,
      hash: data.hash,
      evaluation: { split: "evaluation", samples: data.evaluation },
      calibration: { split: "calibration", samples: data.calibration },
      source: data.source,
    },
    task: {
      kind: "tensors",
      inputs: inputs.map((i) => i.name),
      output,
      scoring: data.scoring,
    },
    metric: data.metric,
    targets: [...USER_TARGETS],
    accuracyTarget: "ort-node",
    variants: variants.map((v) => ({ ...v, sparsity: [...USER_GRID.full] })),
    timing: { warmupRuns: 3, minRuns: 20, minTimeMs: 500, maxRuns: 200, maxTimeMs: 8000 },
    seed,
    // A model with a fixed batch dimension is fed one sample at a time.
    evalBatch: staticBatch ? 1 : 8,
    quick: {
      evaluationSamples: Math.min(data.evaluation, 16),
      calibrationSamples: Math.min(data.calibration, 8),
      variants: variants.map((v) => ({ ...v, sparsity: [...USER_GRID.quick] })),
      timing: { warmupRuns: 2, minRuns: 10, minTimeMs: 0, maxRuns: 10, maxTimeMs: 3000 },
    },
    inDefault: false,
  });
  const findings = [
    `model ${modelPath} (sha256 ${suite.model.sha256.slice(0, 12)}…, opset ${opset(model)}, ${
      (bytes.length / 1e6).toFixed(1)
    } MB)`,
    ...imported.notes.map((n) => `  import: ${n}`),
    `inputs: ${
      data.shapes.map((s) => `${s.name}=${s.dims.join("x")} ${s.type} (${s.fill})`).join(", ")
    }`,
    `output compared: ${output}`,
    `data: ${data.label} (${data.evaluation} evaluation, ${data.calibration} calibration samples; hash ${
      data.hash.slice(0, 12)
    }…)`,
    `metric: ${data.metric}${
      labelled ? "" : " (no labels: top-1 agreement with dense)"
    }; also mean KL and relative output error vs dense; gate ${
      data.metric === "cer" ? "1 - CER" : data.metric
    } >= 99 % of dense`,
    `FFN blocks: ${ffn.length}${
      ffn.length
        ? ` (${[...new Set(ffn.map((b) => (b.gated ? "gated-" : "") + b.activation))].join(", ")})`
        : ""
    }; linear layers: ${linears.length}`,
    `methods: ${
      [...new Set(variants.map((v) => v.method))].join(", ") || "none apply (dense only)"
    }`,
    `targets: ${USER_TARGETS.join(", ")}`,
  ];
  return { suite, modelPath, findings };
}

function opset(model: ModelProto): number {
  return Number(
    (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 0,
  );
}

/**
 * A path as a suite pins it: relative to the repository when inside it, else absolute.
 *
 * @param absolute The absolute path.
 * @param root The repository root (ends with `/`).
 * @returns The pinned path.
 */
export function normalisePath(absolute: string, root: string): string {
  const parts: string[] = [];
  for (const p of absolute.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  const clean = `/${parts.join("/")}`;
  return clean.startsWith(root) ? clean.slice(root.length) : clean;
}

function pickVariants(ffn: readonly FfnBlock[], linears: readonly Linear[]): VariantSpec[] {
  const out: VariantSpec[] = [];
  if (ffn.length > 0) {
    for (const m of ACTIVATION_METHODS) {
      out.push({ method: m });
      if (m === "wina") out.push({ method: m, params: { select: "threshold" } });
    }
  }
  // The head (the last linear) stays dense, so pruning needs one more.
  if (linears.length >= 2) { for (const m of PRUNING_METHODS) out.push({ method: m }); }
  return out;
}

interface DataPlan {
  id: TensorDataset["id"];
  package: string;
  version: string;
  hash: string;
  label: string;
  source: DatasetSource;
  evaluation: number;
  calibration: number;
  scoring: "none" | "class" | "ctc" | "mask";
  metric: ModelSuite["metric"];
  shapes: { name: string; dims: number[]; type: string; fill: string }[];
}

async function dataSource(
  spec: UserModelSpec,
  ctx: { model: ModelProto; inputs: InputSpec[]; seed: number; root: string; cwd: string },
): Promise<DataPlan> {
  const { loadTensorSource } = await import("../../datasets/tensor_source.ts");
  const { loadDataset } = await import("../../datasets/mod.ts");
  const load = (s: DatasetSource) =>
    loadTensorSource(s, { root: ctx.root, load: (id, o) => loadDataset(id, o) });
  const random = spec.data.match(/^random(?::(\d+))?$/);
  if (random) {
    const n = Number(random[1] ?? 16);
    if (!(n >= 1)) throw new RangeError(`--inputs random:${random[1]}: give at least 1 sample`);
    const inputs = randomSpecs(ctx.model, ctx.inputs, spec.shapes ?? {});
    const source: DatasetSource = {
      kind: "random",
      inputs,
      evaluation: n,
      calibration: Math.max(4, Math.min(n, 8)),
      seed: ctx.seed,
    };
    const d = await load(source);
    return {
      id: "random",
      package: "random",
      version: d.version,
      hash: d.hash,
      label: `${n} seeded random inputs`,
      source,
      evaluation: n,
      calibration: source.calibration,
      scoring: "none",
      metric: "agreement",
      shapes: inputs.map((i) => ({ name: i.name, dims: i.dims, type: i.type, fill: i.fill })),
    };
  }
  if ((DATASET_IDS as readonly string[]).includes(spec.data)) {
    return await builtinSource(spec, ctx, load);
  }
  const dir = spec.data.startsWith("/") ? spec.data : `${ctx.cwd}/${spec.data}`;
  let isDir = false;
  try {
    isDir = (await Deno.stat(dir)).isDirectory;
  } catch { /* reported below */ }
  if (!isDir) {
    throw new Error(
      `--data ${spec.data} is neither a folder of .npy files nor a dataset id (${
        DATASET_IDS.join(", ")
      }); or use --inputs random`,
    );
  }
  const probe = await load({ kind: "npy", dir: normalisePath(dir, ctx.root), calibration: 0 })
    .catch((e) => {
      throw e;
    });
  const count = probe.splits.evaluation.count;
  const calibration = Math.max(1, Math.min(8, Math.floor(count / 4)));
  const source: DatasetSource = { kind: "npy", dir: normalisePath(dir, ctx.root), calibration };
  const d = await load(source);
  for (const i of ctx.inputs) {
    if (!d.splits.evaluation.inputs[i.name]) {
      throw new Error(`--data ${spec.data}: no ${i.name}.npy for graph input "${i.name}"`);
    }
  }
  const scoring = d.labelKind === "class" ? "class" : "none";
  return {
    id: "npy",
    package: "npy",
    version: d.version,
    hash: d.hash,
    label: `${spec.data} (.npy)`,
    source,
    evaluation: count - calibration,
    calibration,
    scoring,
    metric: scoring === "class" ? "accuracy" : "agreement",
    shapes: ctx.inputs.map((i) => {
      const t = d.splits.evaluation.inputs[i.name]!;
      return { name: i.name, dims: [1, ...t.dims.slice(1)], type: t.type, fill: "data" };
    }),
  };
}

async function builtinSource(
  spec: UserModelSpec,
  ctx: { model: ModelProto; inputs: InputSpec[] },
  load: (s: DatasetSource) => Promise<TensorDataset>,
): Promise<DataPlan> {
  const id = spec.data as BuiltinDatasetId;
  if (ctx.inputs.length !== 1) {
    throw new Error(
      `--data ${id} feeds one input; the model has ${ctx.inputs.length} (${
        ctx.inputs.map((i) => i.name).join(", ")
      }): use --data DIR of .npy files`,
    );
  }
  const input = ctx.inputs[0]!;
  const tensorSet = id === "ocr-lines" || id === "ocr-pages";
  const dims = tensorSet
    ? []
    : input.dims.map((d, i) =>
      typeof d === "number" ? d : spec.shapes?.[input.name]?.[i] ?? (i === 0 ? 1 : NaN)
    );
  if (dims.some((d) => Number.isNaN(d))) {
    throw new Error(
      `Input "${input.name}" has dynamic dimensions: give its shape with --shape ${input.name}=${
        input.dims.map((d) => (typeof d === "number" ? d : 1)).join("x")
      }`,
    );
  }
  let source: DatasetSource;
  if (id === "english-text") {
    source = { kind: "builtin", id, input: input.name, context: dims[dims.length - 1]! };
  } else if (tensorSet) {
    source = { kind: "builtin", id, input: input.name };
  } else {
    const flatten = dims.length === 2;
    const size: [number, number] = flatten
      ? [Math.round(Math.sqrt(dims[1]!)), Math.round(Math.sqrt(dims[1]!))]
      : [dims[dims.length - 2]!, dims[dims.length - 1]!];
    source = {
      kind: "builtin",
      id,
      input: input.name,
      image: {
        size,
        channels: flatten ? 1 : dims.length === 4 ? dims[1]! : 1,
        mean: spec.normalize?.mean ?? 0,
        std: spec.normalize?.std ?? 1,
        flatten,
      },
    };
  }
  const d = await load(source);
  const scoring = d.labelKind === "class"
    ? "class"
    : d.labelKind === "sequence"
    ? "ctc"
    : d.labelKind === "mask"
    ? "mask"
    : "none";
  const count = d.splits.evaluation.count;
  const metric = scoring === "class"
    ? "accuracy"
    : scoring === "ctc"
    ? "cer"
    : scoring === "mask"
    ? "iou"
    : "agreement";
  const t = d.splits.evaluation.inputs[input.name]!;
  return {
    id,
    package: d.package,
    version: d.version,
    hash: d.hash,
    label: `${id}`,
    source,
    evaluation: count,
    calibration: Math.min(d.splits.calibration.count, 64),
    scoring,
    metric,
    shapes: [{ name: input.name, dims: [1, ...t.dims.slice(1)], type: t.type, fill: id }],
  };
}

/**
 * Random input specs for a model: dynamic dimensions from `shapes`, the batch dimension 1, a
 * dynamic sequence length of an integer input 32; integer inputs named like masks get ones, like
 * positions 0, 1, 2, …, like token types zeros, other integer inputs ids below the vocabulary of
 * the embedding table that reads them; float inputs N(0, 1).
 *
 * @param model The model.
 * @param inputs Its graph inputs.
 * @param shapes Shapes given with `--shape`.
 * @returns The specs.
 * @throws {RangeError} Naming the input and the `--shape` to give for an unresolved dimension.
 */
export function randomSpecs(
  model: ModelProto,
  inputs: readonly InputSpec[],
  shapes: Record<string, number[]>,
): RandomInputSpec[] {
  const idx = new GraphIndex(model.graph!);
  return inputs.map((input) => {
    const isInt = input.elemType === DataType.INT64 || input.elemType === DataType.INT32;
    const given = shapes[input.name];
    const dims = given ?? input.dims.map((d, i) => {
      if (typeof d === "number") return d;
      if (i === 0) return 1;
      if (isInt && i === input.dims.length - 1) return 32;
      throw new RangeError(
        `Input "${input.name}" has dynamic dimensions (${
          input.dims.filter((x) => typeof x === "string").join(", ")
        }): give its shape with --shape ${input.name}=${
          input.dims.map((x) => (typeof x === "number" ? x : 1)).join("x")
        }`,
      );
    });
    if (given && given.length !== input.dims.length) {
      throw new RangeError(
        `--shape ${input.name}=${
          given.join("x")
        } has ${given.length} dimensions; the input has ${input.dims.length}`,
      );
    }
    if (!isInt) {
      if (input.elemType !== DataType.FLOAT && input.elemType !== DataType.FLOAT16) {
        throw new RangeError(
          `Input "${input.name}" has element type ${input.elemType}: only float and int inputs can be drawn at random; give --data DIR`,
        );
      }
      return { name: input.name, type: "float32", dims, fill: "normal" };
    }
    const type = input.elemType === DataType.INT32 ? "int32" : "int64";
    const name = input.name.toLowerCase();
    if (name.includes("mask")) return { name: input.name, type, dims, fill: "ones" };
    if (name.includes("position")) return { name: input.name, type, dims, fill: "positions" };
    if (name.includes("token_type") || name.includes("segment")) {
      return { name: input.name, type, dims, fill: "zeros" };
    }
    return { name: input.name, type, dims, fill: "ids", high: vocabulary(idx, input.name) };
  });
}

/** The row count of the embedding table an id input indexes (through casts), or 2. */
function vocabulary(idx: GraphIndex, input: string): number {
  const seen = new Set<string>();
  const queue = [input];
  while (queue.length > 0) {
    const v = queue.shift()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const n of idx.graph.node ?? []) {
      if (!(n.input ?? []).includes(v)) continue;
      if (n.opType === "Gather" && n.input?.[1] === v) {
        const table = idx.constant(n.input[0]!);
        const rows = Number(table?.dims?.[0] ?? 0);
        if (rows > 0) return rows;
      }
      if (["Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten"].includes(n.opType ?? "")) {
        queue.push(...(n.output ?? []));
      }
    }
  }
  return 2;
}
