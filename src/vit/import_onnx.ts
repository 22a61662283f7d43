/**
 * Reads a ViT classifier out of an ONNX graph into a {@linkcode VitSpec}, by data flow (the
 * project's block finder gives the linears, attention and FFN blocks; the norms, patch embedding,
 * class token, positional embedding and head are found next to them). Pruned graphs import as
 * pruned specs: sliced heads and neurons give smaller matrices, and a Gather of the residual
 * stream along the tokens after a block (CoreMatching's core tokens) becomes `gatherAfter`.
 *
 * @module
 */

import { analyzeGraph, type Linear } from "../onnx/blocks.ts";
import { attrFloat, attrInt, attrInts, type GraphIndex } from "../onnx/graph.ts";
import type { ModelProto, NodeProto } from "../onnx/model.ts";
import type { VitBlock, VitLinear, VitNorm, VitSpec } from "./spec.ts";

function fail(why: string): never {
  throw new Error(`Not a ViT the wgsl encoder imports: ${why}`);
}

function floats(
  idx: GraphIndex,
  name: string,
  what: string,
): { data: Float32Array; dims: number[] } {
  return idx.constantFloats(name) ?? fail(`${what} (${name}) is not a float constant`);
}

function linear(idx: GraphIndex, l: Linear): VitLinear {
  const w = floats(idx, l.weight, `the weight of ${l.name}`).data;
  let weight = w;
  if (!l.weightTransposed) {
    weight = new Float32Array(w.length);
    for (let i = 0; i < l.inFeatures; i++) {
      for (let o = 0; o < l.outFeatures; o++) {
        weight[o * l.inFeatures + i] = w[i * l.outFeatures + o]!;
      }
    }
  }
  return {
    weight,
    ...(l.bias ? { bias: floats(idx, l.bias, `the bias of ${l.name}`).data } : {}),
    outFeatures: l.outFeatures,
    inFeatures: l.inFeatures,
  };
}

function norm(idx: GraphIndex, node: NodeProto | undefined, what: string): VitNorm {
  if (node?.opType !== "LayerNormalization") fail(`${what} is not a LayerNormalization`);
  if (attrInt(node, "axis", -1) !== -1) fail(`${what} does not normalise the last axis`);
  const [, w, b] = node.input ?? [];
  const weight = floats(idx, w!, `${what} scale`).data;
  return {
    weight,
    bias: b ? floats(idx, b, `${what} shift`).data : new Float32Array(weight.length),
    eps: attrFloat(node, "epsilon", 1e-5),
  };
}

/** A scalar constant of a node's other input, if it has one. */
function scalarOperand(idx: GraphIndex, node: NodeProto, value: string): number | undefined {
  const other = node.input?.find((i) => i !== value);
  const c = other ? idx.constantFloats(other) : undefined;
  return c && c.data.length === 1 ? c.data[0] : undefined;
}

/** The factor between Q·Kᵀ and the Softmax (a Div or Mul by a constant, or none). */
function scoreScale(idx: GraphIndex, scores: NodeProto, softmax: NodeProto): number {
  let scale = 1;
  let v = softmax.input![0]!;
  while (v !== scores.output![0]) {
    const n = idx.producer.get(v);
    const s = n ? scalarOperand(idx, n, n.input![0]!) : undefined;
    if (!n || s === undefined || (n.opType !== "Div" && n.opType !== "Mul")) {
      fail(`the attention scores reach ${softmax.name ?? "a Softmax"} through ${n?.opType ?? v}`);
    }
    scale *= n.opType === "Div" ? 1 / s : s;
    v = n.input![0]!;
  }
  return scale;
}

/** Heads and head size from the Reshape that splits q into [batch, tokens, heads, head size]. */
function headsOf(idx: GraphIndex, q: Linear): { heads: number; headDim: number } {
  const r = idx.soleConsumer(q.output);
  const dims = r?.opType === "Reshape" ? idx.constantInts(r.input![1]!) : undefined;
  if (!dims || dims.length !== 4) fail(`${q.name} is not split into heads by a 4-d Reshape`);
  const heads = dims[2]! > 0 ? dims[2]! : q.outFeatures / dims[3]!;
  const headDim = q.outFeatures / heads;
  if (!Number.isInteger(heads) || !Number.isInteger(headDim)) {
    fail(`${q.name}: ${q.outFeatures} features do not split into the reshape's heads`);
  }
  return { heads, headDim };
}

/** The residual Add reading `value`, and its other input. */
function residual(idx: GraphIndex, value: string, what: string): { sum: string; base: string } {
  const add = (idx.consumers.get(value) ?? []).find((n) => n.opType === "Add");
  if (!add) fail(`no residual Add after ${what}`);
  return { sum: add.output![0]!, base: add.input!.find((i) => i !== value)! };
}

/** Follows a value through a Gather along the tokens, if one reads it. */
function gatherOf(idx: GraphIndex, value: string): NodeProto | undefined {
  const p = idx.producer.get(value);
  return p?.opType === "Gather" && attrInt(p, "axis", 0) === 1 ? p : undefined;
}

/**
 * Imports a ViT classifier (batch 1).
 *
 * @param model The decoded model.
 * @returns The spec.
 * @throws {Error} Naming the first part of the graph that does not fit.
 */
export function importVit(model: ModelProto): VitSpec {
  const { idx, ffn, attention } = analyzeGraph(model.graph!);
  if (attention.length === 0 || attention.length !== ffn.length) {
    fail(`${attention.length} attention and ${ffn.length} FFN blocks (want equal, at least 1)`);
  }
  const blocks: VitBlock[] = [];
  let gatherAfter: VitSpec["gatherAfter"];
  let stream: string | undefined; // the residual stream entering the next block
  let embedded = "";
  for (let i = 0; i < attention.length; i++) {
    const a = attention[i]!;
    const f = ffn[i]!;
    if (!a.q || !a.k || !a.v || !a.out) fail(`attention block ${i} lacks a q, k, v or out linear`);
    if (a.q.input !== a.k.input || a.q.input !== a.v.input) {
      fail(`block ${i}: q, k, v read different values`);
    }
    if (f.gated) fail(`block ${i} has a gated FFN`);
    if (f.activation !== "relu" && f.activation !== "gelu") {
      fail(`block ${i}: activation ${f.activation}`);
    }
    const ln1 = idx.producer.get(a.q.input);
    const x = ln1?.input?.[0] ?? fail(`block ${i}: no norm before attention`);
    if (stream === undefined) embedded = x;
    else if (x !== stream) {
      const g = gatherOf(idx, x);
      if (!g || g.input![0] !== stream || gatherAfter) {
        fail(`block ${i} does not read the stream of block ${i - 1}`);
      }
      gatherAfter = { block: i - 1, indices: g.input![1]! };
    }
    const mid = residual(idx, a.out.output, a.out.name);
    if (mid.base !== x) fail(`block ${i}: the attention residual does not add its input`);
    const ln2 = idx.producer.get(f.up.input);
    if (ln2?.input?.[0] !== mid.sum) {
      fail(`block ${i}: the FFN norm does not read the attention residual`);
    }
    stream = residual(idx, f.down.output, f.down.name).sum;
    const q = linear(idx, a.q);
    const k = linear(idx, a.k);
    const v = linear(idx, a.v);
    const d = q.outFeatures;
    const stack = (part: (l: VitLinear) => Float32Array | undefined, n: number) => {
      const out = new Float32Array(3 * n);
      [q, k, v].forEach((l, j) => out.set(part(l) ?? new Float32Array(n), j * n));
      return out;
    };
    blocks.push({
      norm1: norm(idx, ln1, `block ${i} norm1`),
      qkv: {
        weight: stack((l) => l.weight, d * q.inFeatures),
        bias: stack((l) => l.bias, d),
        outFeatures: 3 * d,
        inFeatures: q.inFeatures,
      },
      ...headsOf(idx, a.q),
      scale: scoreScale(idx, a.scores, a.softmax),
      proj: linear(idx, a.out),
      norm2: norm(idx, ln2, `block ${i} norm2`),
      up: linear(idx, f.up),
      down: linear(idx, f.down),
      act: f.activation,
    });
  }

  // Embedding: Add(Concat(Expand(cls), patches), pos); patches = Transpose(Reshape(Conv(pixels))).
  const addPos = idx.producer.get(embedded);
  if (addPos?.opType !== "Add") fail("the first block does not read patches + positions");
  const posName = addPos.input!.find((n) => idx.constantFloats(n)) ??
    fail("no positional embedding");
  const cat = idx.producer.get(addPos.input!.find((n) => n !== posName)!);
  if (cat?.opType !== "Concat" || cat.input!.length !== 2) {
    fail("no Concat of class token and patches");
  }
  const expand = idx.producer.get(cat.input![0]!);
  const clsName = expand?.opType === "Expand" ? expand.input![0]! : cat.input![0]!;
  const cls = floats(idx, clsName, "the class token").data;
  let v = cat.input![1]!;
  let conv = idx.producer.get(v);
  while (
    conv && (conv.opType === "Transpose" || conv.opType === "Reshape" || conv.opType === "Flatten")
  ) {
    v = conv.input![0]!;
    conv = idx.producer.get(v);
  }
  if (conv?.opType !== "Conv") fail("the patches do not come from a Conv");
  const cw = floats(idx, conv.input![1]!, "the patch weight");
  const [width, channels, ph, pw] = cw.dims as [number, number, number, number];
  const strides = attrInts(conv, "strides") ?? [1, 1];
  const pads = attrInts(conv, "pads") ?? [0, 0, 0, 0];
  if (ph !== pw || strides[0] !== ph || strides[1] !== pw || pads.some((p) => p !== 0)) {
    fail("the patch Conv is not a square kernel with stride = kernel and no padding");
  }
  const pixels = model.graph!.input?.find((i) => i.name === conv.input![0]);
  const shape = pixels?.type?.tensorType?.shape?.dim?.map((d) => Number(d.dimValue ?? 0));
  if (!shape || shape.length !== 4 || !shape[2] || !shape[3]) {
    fail("the image input has no static [N, C, H, W] shape");
  }
  const pos = floats(idx, posName, "the positional embedding").data;
  const tokens = pos.length / width;
  if (tokens !== 1 + Math.floor(shape[2] / ph) * Math.floor(shape[3] / pw)) {
    fail(`${tokens} positions for ${shape[2]}x${shape[3]} pixels in ${ph}x${pw} patches`);
  }

  // Head: logits = Linear(LayerNorm(Gather(stream, 0, axis 1))).
  const out = model.graph!.output?.[0]?.name ?? fail("no graph output");
  const { linears } = analyzeGraph(model.graph!);
  const headLinear = linears.find((l) => l.output === out) ??
    fail(`${out} is not a linear's output`);
  const finalNorm = idx.producer.get(headLinear.input);
  const select = gatherOf(idx, finalNorm?.input?.[0] ?? "");
  if (!select || select.input![0] !== stream || idx.constantInts(select.input![1]!)?.[0] !== 0) {
    fail("the head does not read the final norm of the class token");
  }
  return {
    image: { channels, height: shape[2], width: shape[3] },
    patchSize: ph,
    patch: {
      weight: cw.data,
      ...(conv.input![2] ? { bias: floats(idx, conv.input![2], "the patch bias").data } : {}),
      outFeatures: width,
      inFeatures: channels * ph * pw,
    },
    cls,
    pos,
    tokens,
    width,
    blocks,
    norm: norm(idx, finalNorm, "the final norm"),
    head: linear(idx, headLinear),
    ...(gatherAfter ? { gatherAfter } : {}),
  };
}
