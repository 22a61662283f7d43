/**
 * The ONNX model as plain TypeScript objects: decode a `.onnx` file, edit it, encode it again.
 *
 * Field names follow `onnx.proto` in camelCase. Fields this project does not model are kept as raw
 * bytes, so a decode/encode round trip of a model exported by another tool is lossless.
 *
 * @module
 */

import {
  decodeMessage,
  define,
  encodeMessage,
  type Int,
  type Message,
  type MessageSchema,
  schema,
} from "./_protobuf.ts";

export type { Int };

/** ONNX `TensorProto.DataType` codes used in this project. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** A key/value pair (`StringStringEntryProto`). */
export interface StringEntry {
  /** Key. */
  key?: string;
  /** Value. */
  value?: string;
}

/** A tensor (`TensorProto`); initializers and `Constant` values. */
export interface TensorProto {
  /** Shape. */
  dims?: Int[];
  /** Element type, one of {@linkcode DataType}. */
  dataType?: number;
  /** Name (initializers are referenced by it). */
  name?: string;
  /** Little-endian element bytes; how torch and most exporters store data. */
  rawData?: Uint8Array;
  /** Float elements when not stored in `rawData`. */
  floatData?: number[];
  /** int32/int16/int8/uint8/bool/float16 elements when not in `rawData`. */
  int32Data?: number[];
  /** int64 elements when not in `rawData`. */
  int64Data?: Int[];
  /** double elements when not in `rawData`. */
  doubleData?: number[];
  /** uint64/uint32 elements when not in `rawData`. */
  uint64Data?: Int[];
  /** string elements. */
  stringData?: Uint8Array[];
  /** Where the data lives when `dataLocation` is external. */
  externalData?: StringEntry[];
  /** 0 default, 1 external. */
  dataLocation?: number;
  /** Free text. */
  docString?: string;
  /** Fields not modelled here, kept verbatim. */
  _unknown?: Uint8Array[];
}

/** One dimension of a tensor shape: a number, a symbolic name, or unknown. */
export interface Dimension {
  /** Known size. */
  dimValue?: Int;
  /** Symbolic size, e.g. "batch". */
  dimParam?: string;
  /** Denotation. */
  denotation?: string;
}

/** `TypeProto`; only tensor types are modelled, the rest is kept raw. */
export interface TypeProto {
  /** Tensor type. */
  tensorType?: { elemType?: number; shape?: { dim?: Dimension[] } };
  /** Denotation. */
  denotation?: string;
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** A named, typed value (`ValueInfoProto`): graph inputs, outputs and intermediate shapes. */
export interface ValueInfo {
  /** Value name. */
  name?: string;
  /** Type and shape. */
  type?: TypeProto;
  /** Free text. */
  docString?: string;
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** A node attribute (`AttributeProto`). */
export interface Attribute {
  /** Attribute name. */
  name?: string;
  /** `AttributeProto.AttributeType` code. */
  type?: number;
  /** Float value. */
  f?: number;
  /** Int value. */
  i?: Int;
  /** String value (bytes). */
  s?: Uint8Array;
  /** Tensor value. */
  t?: TensorProto;
  /** Subgraph value (If, Loop, Scan). */
  g?: GraphProto;
  /** Float list. */
  floats?: number[];
  /** Int list. */
  ints?: Int[];
  /** String list. */
  strings?: Uint8Array[];
  /** Tensor list. */
  tensors?: TensorProto[];
  /** Subgraph list. */
  graphs?: GraphProto[];
  /** Reference to a function attribute. */
  refAttrName?: string;
  /** Free text. */
  docString?: string;
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** One operator application (`NodeProto`). */
export interface NodeProto {
  /** Input value names ("" for an omitted optional input). */
  input?: string[];
  /** Output value names. */
  output?: string[];
  /** Node name. */
  name?: string;
  /** Operator, e.g. "MatMul". */
  opType?: string;
  /** Operator domain ("" is the default ONNX domain). */
  domain?: string;
  /** Attributes. */
  attribute?: Attribute[];
  /** Free text. */
  docString?: string;
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** A computation graph (`GraphProto`). */
export interface GraphProto {
  /** Nodes in topological order. */
  node?: NodeProto[];
  /** Graph name. */
  name?: string;
  /** Constant tensors (weights). */
  initializer?: TensorProto[];
  /** Free text. */
  docString?: string;
  /** Graph inputs. */
  input?: ValueInfo[];
  /** Graph outputs. */
  output?: ValueInfo[];
  /** Shapes of intermediate values, when an exporter recorded them. */
  valueInfo?: ValueInfo[];
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** An opset import (`OperatorSetIdProto`). */
export interface OpsetId {
  /** Domain ("" or "ai.onnx" for the default). */
  domain?: string;
  /** Opset version. */
  version?: Int;
}

/** A local function (`FunctionProto`), as the dynamo exporter may emit. */
export interface FunctionProto {
  /** Function name. */
  name?: string;
  /** Input names. */
  input?: string[];
  /** Output names. */
  output?: string[];
  /** Attribute names. */
  attribute?: string[];
  /** Body. */
  node?: NodeProto[];
  /** Opsets used by the body. */
  opsetImport?: OpsetId[];
  /** Function domain. */
  domain?: string;
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

/** A whole model (`ModelProto`). */
export interface ModelProto {
  /** IR version. */
  irVersion?: Int;
  /** Opset imports. */
  opsetImport?: OpsetId[];
  /** Producer, e.g. "pytorch". */
  producerName?: string;
  /** Producer version. */
  producerVersion?: string;
  /** Model domain. */
  domain?: string;
  /** Model version. */
  modelVersion?: Int;
  /** Free text. */
  docString?: string;
  /** The main graph. */
  graph?: GraphProto;
  /** Metadata. */
  metadataProps?: StringEntry[];
  /** Local functions. */
  functions?: FunctionProto[];
  /** Fields not modelled here. */
  _unknown?: Uint8Array[];
}

const S = {
  entry: schema(),
  tensor: schema(),
  segment: schema(),
  dim: schema(),
  shape: schema(),
  tensorType: schema(),
  type: schema(),
  valueInfo: schema(),
  attribute: schema(),
  node: schema(),
  graph: schema(),
  opset: schema(),
  fn: schema(),
  model: schema(),
} satisfies Record<string, MessageSchema>;

define(S.entry, { 1: { name: "key", kind: "string" }, 2: { name: "value", kind: "string" } });
define(S.segment, { 1: { name: "begin", kind: "int" }, 2: { name: "end", kind: "int" } });
define(S.tensor, {
  1: { name: "dims", kind: "int", repeated: true },
  2: { name: "dataType", kind: "int" },
  3: { name: "segment", kind: S.segment },
  4: { name: "floatData", kind: "float", repeated: true, packed: true },
  5: { name: "int32Data", kind: "int", repeated: true, packed: true },
  6: { name: "stringData", kind: "bytes", repeated: true },
  7: { name: "int64Data", kind: "int", repeated: true, packed: true },
  8: { name: "name", kind: "string" },
  9: { name: "rawData", kind: "bytes" },
  10: { name: "doubleData", kind: "double", repeated: true, packed: true },
  11: { name: "uint64Data", kind: "int", repeated: true, packed: true },
  12: { name: "docString", kind: "string" },
  13: { name: "externalData", kind: S.entry, repeated: true },
  14: { name: "dataLocation", kind: "int" },
  16: { name: "metadataProps", kind: S.entry, repeated: true },
});
define(S.dim, {
  1: { name: "dimValue", kind: "int" },
  2: { name: "dimParam", kind: "string" },
  3: { name: "denotation", kind: "string" },
});
define(S.shape, { 1: { name: "dim", kind: S.dim, repeated: true } });
define(S.tensorType, { 1: { name: "elemType", kind: "int" }, 2: { name: "shape", kind: S.shape } });
define(S.type, {
  1: { name: "tensorType", kind: S.tensorType },
  6: { name: "denotation", kind: "string" },
});
define(S.valueInfo, {
  1: { name: "name", kind: "string" },
  2: { name: "type", kind: S.type },
  3: { name: "docString", kind: "string" },
  4: { name: "metadataProps", kind: S.entry, repeated: true },
});
define(S.attribute, {
  1: { name: "name", kind: "string" },
  2: { name: "f", kind: "float" },
  3: { name: "i", kind: "int" },
  4: { name: "s", kind: "bytes" },
  5: { name: "t", kind: S.tensor },
  6: { name: "g", kind: S.graph },
  7: { name: "floats", kind: "float", repeated: true },
  8: { name: "ints", kind: "int", repeated: true },
  9: { name: "strings", kind: "bytes", repeated: true },
  10: { name: "tensors", kind: S.tensor, repeated: true },
  11: { name: "graphs", kind: S.graph, repeated: true },
  13: { name: "docString", kind: "string" },
  14: { name: "tp", kind: S.type },
  20: { name: "type", kind: "int" },
  21: { name: "refAttrName", kind: "string" },
});
define(S.node, {
  1: { name: "input", kind: "string", repeated: true },
  2: { name: "output", kind: "string", repeated: true },
  3: { name: "name", kind: "string" },
  4: { name: "opType", kind: "string" },
  5: { name: "attribute", kind: S.attribute, repeated: true },
  6: { name: "docString", kind: "string" },
  7: { name: "domain", kind: "string" },
  8: { name: "overload", kind: "string" },
  9: { name: "metadataProps", kind: S.entry, repeated: true },
});
define(S.graph, {
  1: { name: "node", kind: S.node, repeated: true },
  2: { name: "name", kind: "string" },
  5: { name: "initializer", kind: S.tensor, repeated: true },
  10: { name: "docString", kind: "string" },
  11: { name: "input", kind: S.valueInfo, repeated: true },
  12: { name: "output", kind: S.valueInfo, repeated: true },
  13: { name: "valueInfo", kind: S.valueInfo, repeated: true },
  16: { name: "metadataProps", kind: S.entry, repeated: true },
});
define(S.opset, { 1: { name: "domain", kind: "string" }, 2: { name: "version", kind: "int" } });
define(S.fn, {
  1: { name: "name", kind: "string" },
  4: { name: "input", kind: "string", repeated: true },
  5: { name: "output", kind: "string", repeated: true },
  6: { name: "attribute", kind: "string", repeated: true },
  7: { name: "node", kind: S.node, repeated: true },
  8: { name: "docString", kind: "string" },
  9: { name: "opsetImport", kind: S.opset, repeated: true },
  10: { name: "domain", kind: "string" },
  11: { name: "attributeProto", kind: S.attribute, repeated: true },
  12: { name: "valueInfo", kind: S.valueInfo, repeated: true },
  13: { name: "overload", kind: "string" },
  14: { name: "metadataProps", kind: S.entry, repeated: true },
});
define(S.model, {
  1: { name: "irVersion", kind: "int" },
  2: { name: "producerName", kind: "string" },
  3: { name: "producerVersion", kind: "string" },
  4: { name: "domain", kind: "string" },
  5: { name: "modelVersion", kind: "int" },
  6: { name: "docString", kind: "string" },
  7: { name: "graph", kind: S.graph },
  8: { name: "opsetImport", kind: S.opset, repeated: true },
  14: { name: "metadataProps", kind: S.entry, repeated: true },
  25: { name: "functions", kind: S.fn, repeated: true },
});

/**
 * Decodes an ONNX model, checking that it looks like one.
 *
 * @example Usage
 * ```ts ignore
 * const model = decodeModel(await Deno.readFile("models/mlp-relu-mnist.onnx"));
 * console.log(model.graph?.node?.length);
 * ```
 *
 * @param bytes The `.onnx` file contents.
 * @param options `source` names the file in error messages.
 * @returns The model.
 * @throws {SyntaxError} When the bytes are not a complete ONNX model.
 */
export function decodeModel(bytes: Uint8Array, options: { source?: string } = {}): ModelProto {
  const where = options.source ?? "model";
  let model: ModelProto;
  try {
    model = decodeMessage(bytes, S.model) as ModelProto;
  } catch (e) {
    throw new SyntaxError(
      `Cannot read ONNX ${where}: ${(e as Error).message} (corrupt or truncated file)`,
    );
  }
  if (model.graph === undefined || model.irVersion === undefined) {
    throw new SyntaxError(
      `Cannot read ONNX ${where}: no graph or IR version (not an ONNX model, or truncated)`,
    );
  }
  return model;
}

/**
 * Encodes a model back to `.onnx` bytes.
 *
 * @param model The model.
 * @returns The encoded bytes.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model as unknown as Message, S.model);
}
