/**
 * Importing a real export as the engine needs it, without changing what it computes: weights
 * held in `Constant` nodes (paddle2onnx, older torch exports) become initializers, so parameters
 * are counted and pruning can rewrite them; external data (`.onnx` + `.onnx.data`) is read in;
 * float16 models are run as float32 (inputs, outputs, casts and weights upcast, since the methods
 * and kernels work in float32); operators outside the standard domains, and opsets outside 9–21,
 * are refused or named with one line naming the node and op. A model that needs none of it keeps
 * its bytes, so the zoo's models are loaded exactly as they are pinned.
 *
 * @module
 */

import { AttrType } from "./graph.ts";
import {
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
  type TensorProto,
  type TypeProto,
} from "./model.ts";
import { floatTensor, numel, readFloats, tensorDims } from "./tensor_data.ts";

/** An imported model. */
export interface ImportedModel {
  /** The model as the engine runs it. */
  model: ModelProto;
  /** Its bytes (the file's own when nothing changed). */
  bytes: Uint8Array;
  /** What the import changed, one line each (printed by `bench --model`). */
  notes: string[];
}

/** Operator domains ONNX Runtime's CPU and web builds implement. */
const DOMAINS = new Set(["", "ai.onnx", "com.microsoft", "ai.onnx.ml"]);

/** Ops whose input 1 (and 2) are weights: Constant-held ones become initializers. */
const WEIGHTED = new Set(["MatMul", "Gemm", "Conv", "ConvTranspose", "Add", "Mul"]);

/**
 * Imports a model.
 *
 * @example Usage
 * ```ts ignore
 * const { model, notes } = await importModel(await Deno.readFile("m.onnx"), { source: "m.onnx", dir: "." });
 * ```
 *
 * @param bytes The `.onnx` file.
 * @param options `source` names it in errors; `dir` is where its external data files lie;
 *   `readFile` reads them (default: Deno's file read; a browser page hands in its own).
 * @returns The model, its bytes and notes.
 * @throws {Error} Naming the node and op of an operator outside the standard domains, or an external file that is missing.
 */
export async function importModel(
  bytes: Uint8Array,
  options: { source?: string; dir?: string; readFile?: (path: string) => Promise<Uint8Array> } = {},
): Promise<ImportedModel> {
  const where = options.source ?? "model";
  const model = decodeModel(bytes, { source: where });
  const graph = model.graph!;
  const notes: string[] = [];
  const local = new Set((model.functions ?? []).map((f) => `${f.domain ?? ""}|${f.name}`));
  for (const n of graph.node ?? []) {
    if (!DOMAINS.has(n.domain ?? "") && !local.has(`${n.domain ?? ""}|${n.opType}`)) {
      throw new Error(
        `${where}: node ${
          n.name || n.output?.[0]
        } (op ${n.opType}, domain ${n.domain}) is outside the standard ONNX domains; export it with standard ops`,
      );
    }
  }
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  const version = Number(opset?.version ?? 0);
  if (version && (version < 9 || version > 21)) {
    notes.push(`opset ${version} is outside the tested 9-21; results may fail on some targets`);
  }
  let changed = false;
  if (await inlineExternal(model, options.dir, { where, read: options.readFile ?? denoReadFile })) {
    changed = true;
    notes.push("external data read into the model");
  }
  const moved = constantsToInitializers(model);
  if (moved > 0) {
    changed = true;
    notes.push(`${moved} weights held in Constant nodes moved to initializers`);
  }
  if (upcastFloat16(model)) {
    changed = true;
    notes.push("float16 model run as float32 (weights, inputs, outputs and casts upcast)");
  }
  return { model, bytes: changed ? encodeModel(model) : bytes, notes };
}

/**
 * Deno's file read, looked up when called, so this module loads (and type-checks for the DOM) in a
 * browser page too.
 */
function denoReadFile(path: string): Promise<Uint8Array> {
  const deno = (globalThis as { Deno?: { readFile(p: string): Promise<Uint8Array> } }).Deno;
  return deno ? deno.readFile(path) : Promise.reject(new Error(`no file reader for ${path}`));
}

async function inlineExternal(
  model: ModelProto,
  dir: string | undefined,
  io: { where: string; read: (path: string) => Promise<Uint8Array> },
): Promise<boolean> {
  const where = io.where;
  const externals = (model.graph!.initializer ?? []).filter((t) =>
    t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0
  );
  if (externals.length === 0) return false;
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const t of externals) {
    const entry = (k: string) => t.externalData?.find((e) => e.key === k)?.value;
    const location = entry("location");
    if (!location || location.includes("..") || location.startsWith("/")) {
      throw new Error(`${where}: initializer ${t.name} has external data without a plain location`);
    }
    if (!files.has(location)) {
      const path = `${dir ?? "."}/${location}`;
      try {
        files.set(location, await io.read(path));
      } catch {
        throw new Error(
          `${where}: initializer ${t.name} needs external data file ${location}; put it beside the model`,
        );
      }
    }
    const file = files.get(location)!;
    const offset = Number(entry("offset") ?? 0);
    const length = Number(entry("length") ?? file.length - offset);
    if (offset + length > file.length) {
      throw new Error(`${where}: ${location} is too short for initializer ${t.name}`);
    }
    total += length;
    if (total > 2 ** 31 - 2 ** 26) {
      throw new Error(
        `${where}: over 2 GB of weights; ONNX Runtime's JavaScript bindings load models from one buffer, so export a smaller model`,
      );
    }
    t.rawData = file.slice(offset, offset + length);
    delete t.externalData;
    delete t.dataLocation;
  }
  return true;
}

function constantsToInitializers(model: ModelProto): number {
  const graph = model.graph!;
  const consumers = new Map<string, { op: string; index: number }[]>();
  for (const n of graph.node ?? []) {
    (n.input ?? []).forEach((v, index) => {
      if (v) (consumers.get(v) ?? consumers.set(v, []).get(v)!).push({ op: n.opType ?? "", index });
    });
  }
  const isWeight = (name: string) =>
    (consumers.get(name) ?? []).some((c) => WEIGHTED.has(c.op) && c.index >= 1);
  const candidates = (graph.node ?? []).filter((n) => {
    if (n.opType !== "Constant" || (n.output?.length ?? 0) !== 1) return false;
    const t = n.attribute?.find((a) => a.name === "value")?.t;
    return t !== undefined && isFloat(t.dataType) && numel(tensorDims(t)) >= 2 &&
      isWeight(n.output![0]!);
  });
  // Only exports that hold their matmul/conv weights this way are rewritten.
  const holdsWeights = candidates.some((n) =>
    (consumers.get(n.output![0]!) ?? []).some((c) => c.op !== "Add" && c.op !== "Mul")
  );
  if (!holdsWeights) return 0;
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const moved = new Set<string>();
  graph.initializer ??= [];
  for (const n of candidates) {
    const name = n.output![0]!;
    if (outputs.has(name)) continue;
    const t = n.attribute!.find((a) => a.name === "value")!.t!;
    graph.initializer.push({ ...t, name });
    moved.add(name);
  }
  graph.node = (graph.node ?? []).filter((n) =>
    !(n.opType === "Constant" && moved.has(n.output![0]!))
  );
  return moved.size;
}

function isFloat(t: number | undefined): boolean {
  return t === DataType.FLOAT || t === DataType.FLOAT16 || t === DataType.DOUBLE;
}

function upcastFloat16(model: ModelProto): boolean {
  const graph = model.graph!;
  const inits = graph.initializer ?? [];
  const anyHalf = inits.some((t) => t.dataType === DataType.FLOAT16) ||
    [...(graph.input ?? []), ...(graph.output ?? [])].some((v) =>
      v.type?.tensorType?.elemType === DataType.FLOAT16
    );
  if (!anyHalf) return false;
  const upcast = (t: TensorProto): TensorProto =>
    t.dataType === DataType.FLOAT16
      ? { ...floatTensor(t.name ?? "", tensorDims(t), readFloats(t)) }
      : t;
  graph.initializer = inits.map(upcast);
  const retype = (type: TypeProto | undefined) => {
    if (type?.tensorType?.elemType === DataType.FLOAT16) type.tensorType.elemType = DataType.FLOAT;
  };
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    retype(v.type);
  }
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.name === "to" && Number(a.i) === DataType.FLOAT16) a.i = DataType.FLOAT;
      if (a.t && a.t.dataType === DataType.FLOAT16) a.t = upcast(a.t);
      if (a.type === AttrType.TENSOR && a.t) a.t = upcast(a.t);
    }
  }
  return true;
}
