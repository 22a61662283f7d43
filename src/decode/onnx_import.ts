/**
 * Imports a decoder-only transformer from ONNX by recognising its architecture in the graph, not
 * by names: the embedding is a Gather of a constant [vocab, d] table; positions are a learned
 * table added to it (GPT-2, the zoo LMs; a folded [1, T, d] constant when the exporter fixed the
 * length) or RoPE (LLaMA; the base read from inv_freq behind a Cos node, or from a folded cos
 * table); the blocks are the attention and FFN blocks that `src/onnx/blocks.ts` finds (q/k/v/o,
 * GPT-2's fused c_attn, k and v behind RoPE and the grouped-query repeat; up [+ gate] →
 * activation → down); the norms are LayerNormalization nodes or RMSNorm decompositions feeding
 * them; the head is the linear after the last norm. Checked against ORT on the zoo LMs and on
 * GPT-2 and LLaMA exported by transformers with both torch exporters. What cannot be mapped fails
 * with one line naming what is missing.
 *
 * @module
 */

import { analyzeGraph, type Linear } from "../onnx/blocks.ts";
import { attrFloat, type GraphIndex } from "../onnx/graph.ts";
import type { ModelProto, NodeProto } from "../onnx/model.ts";
import type { FfnActivation } from "../../kernels/glu.ts";
import type {
  DecoderSpec,
  HostLayer,
  HostLinear,
  HostNorm,
  HostWeights,
  PredictedRule,
  SparsityPlan,
} from "./spec.ts";

/** What the importer recognised: the architecture, the weights, and which linear is which. */
export interface ImportedDecoder {
  /** Architecture. */
  spec: DecoderSpec;
  /** Weights. */
  weights: HostWeights;
  /** Per block: the graph's linear names behind each projection (q, k, v fused as qkv). */
  linearNames: Record<"q" | "k" | "v" | "o" | "up" | "gate" | "down", string | undefined>[];
  /**
   * The sparsity the model computes itself (Spark's predicted FFN): every decoder of this model
   * must run it, or it runs another model. Absent for dense models.
   */
  plan?: SparsityPlan;
}

/** An FFN block as the importer maps it: up [+ gate] → activation → down, maybe predicted. */
interface MappedFfn {
  up: Linear;
  down: Linear;
  gated: boolean;
  activation: string;
  hiddenSize: number;
  /** The [gate; up] (or up) weights. */
  weights: HostLinear;
  gateName?: string;
  /** The gate's linears (one, or Spark's two slices). */
  gateLinears: Linear[];
  /** Spark's rule, when the gate is a predictor slice plus the rest. */
  predicted?: PredictedRule;
}

/** A constant's floats, through the Identity nodes exporters put on deduplicated initializers. */
function constFloats(
  idx: GraphIndex,
  name: string,
): { data: Float32Array; dims: number[] } | undefined {
  let v = name;
  for (let i = 0; i < 4; i++) {
    const c = idx.constantFloats(v);
    if (c) return c;
    const p = idx.producer.get(v);
    if (p?.opType !== "Identity") return undefined;
    v = p.input![0]!;
  }
  return undefined;
}

function fail(what: string): never {
  throw new Error(`Cannot map this model onto the decode engine: ${what}`);
}

function linearWeights(idx: GraphIndex, l: Linear): HostLinear {
  const c = constFloats(idx, l.weight) ?? fail(`weight ${l.weight} of ${l.name} is not constant`);
  const { inFeatures: k, outFeatures: n } = l;
  let w: Float32Array;
  if (l.weightTransposed) w = c.data;
  else {
    w = new Float32Array(n * k);
    for (let i = 0; i < k; i++) for (let o = 0; o < n; o++) w[o * k + i] = c.data[i * n + o]!;
  }
  const b = l.bias ? constFloats(idx, l.bias)?.data : undefined;
  return b ? { w, b } : { w };
}

/** Stacks linears that read the same input ([q; k; v], [gate; up]); missing biases are zeros. */
function fuse(parts: HostLinear[], k: number): HostLinear {
  const w = new Float32Array(parts.reduce((s, p) => s + p.w.length, 0));
  const b = new Float32Array(w.length / k);
  let o = 0;
  for (const p of parts) {
    w.set(p.w, o);
    if (p.b) b.set(p.b, o / k);
    o += p.w.length;
  }
  return parts.some((p) => p.b) ? { w, b } : { w };
}

/** The LayerNormalization node whose output reaches `value` through shape-only ops. */
function normBefore(idx: GraphIndex, value: string): NodeProto | undefined {
  let v = value;
  for (let d = 0; d < 4; d++) {
    const p = idx.producer.get(v);
    if (!p) return undefined;
    if (p.opType === "LayerNormalization") return p;
    if (!["Cast", "Identity", "Reshape", "Squeeze", "Unsqueeze"].includes(p.opType ?? "")) {
      return undefined;
    }
    v = p.input![0]!;
  }
  return undefined;
}

function normWeights(idx: GraphIndex, n: NodeProto): HostNorm {
  const w = constFloats(idx, n.input![1]!)?.data ?? fail(`norm ${n.name} has no constant scale`);
  const b = n.input![2] ? constFloats(idx, n.input![2])?.data : undefined;
  return b ? { w, b } : { w };
}

function headsOf(idx: GraphIndex, q: Linear, d: number, scoresScale: number | undefined): number {
  for (const c of idx.consumers.get(q.output) ?? []) {
    if (c.opType !== "Reshape") continue;
    const shape = idx.constantInts(c.input![1]!);
    if (shape && shape.length === 4 && shape[2]! > 0) return shape[2]!;
    const cat = idx.producer.get(c.input![1]!);
    if (cat?.opType === "Concat" && cat.input!.length === 4) {
      const h = idx.constantInts(cat.input![2]!);
      if (h?.length === 1 && h[0]! > 0) return h[0]!;
    }
  }
  if (scoresScale !== undefined) {
    const hd = Math.round(scoresScale * scoresScale);
    if (hd > 0 && d % hd === 0) return d / hd;
  }
  return fail(
    "the head count (no Reshape of q to [batch, seq, heads, head_dim] and no score scale)",
  );
}

function scoreScale(idx: GraphIndex, sm: NodeProto): number | undefined {
  let v = sm.input![0]!;
  for (let d = 0; d < 4; d++) {
    const p = idx.producer.get(v);
    if (!p) return undefined;
    const consts = (p.input ?? []).map((i) => constFloats(idx, i)).filter((c) =>
      c?.data.length === 1
    );
    if (p.opType === "Div" && consts[0]) return consts[0].data[0];
    if (p.opType === "Mul" && consts[0]) return 1 / consts[0].data[0]!;
    const next = (p.input ?? []).find((i) => !idx.constant(i));
    if (!next) return undefined;
    v = next;
  }
  return undefined;
}

/** A norm found before a linear: LayerNormalization, or RMSNorm decomposed by the exporter. */
function findNorm(
  idx: GraphIndex,
  value: string,
  d: number,
): { kind: "layer" | "rms"; eps: number; weights: HostNorm } | undefined {
  const ln = normBefore(idx, value);
  if (ln) {
    return { kind: "layer", eps: attrFloat(ln, "epsilon", 1e-5), weights: normWeights(idx, ln) };
  }
  // RMSNorm: w · (x · 1/sqrt(mean(x²) + eps)), through Casts: the weight is a constant [d]
  // multiplied in last, and the subgraph behind it holds Pow (or Mul x·x), ReduceMean and the
  // scalar eps added before Sqrt.
  let v = value;
  let mul: NodeProto | undefined;
  for (let i = 0; i < 3; i++) {
    const p = idx.producer.get(v);
    if (!p) return undefined;
    if (p.opType === "Mul") {
      mul = p;
      break;
    }
    if (p.opType !== "Cast" && p.opType !== "Identity") return undefined;
    v = p.input![0]!;
  }
  if (!mul) return undefined;
  const wName = mul.input!.find((i) => constFloats(idx, i)?.data.length === d);
  if (!wName) return undefined;
  const seen = new Set<string>();
  const stack = [mul.input!.find((i) => i !== wName)!];
  let reduce = false;
  let eps: number | undefined;
  while (stack.length && seen.size < 24) {
    const cur = stack.pop()!;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const p = idx.producer.get(cur);
    if (!p) continue;
    if (p.opType === "ReduceMean") reduce = true;
    if (p.opType === "Add") {
      const c = p.input!.map((i) => constFloats(idx, i)).find((t) => t?.data.length === 1);
      if (c && reduce === false) eps ??= c.data[0];
      if (c) eps = c.data[0];
    }
    if (p.opType === "LayerNormalization" || p.opType === "MatMul" || p.opType === "Gemm") {
      continue;
    }
    for (const i of p.input ?? []) if (i && !idx.constant(i)) stack.push(i);
  }
  if (!reduce || eps === undefined) return undefined;
  return { kind: "rms", eps, weights: { w: constFloats(idx, wName)!.data } };
}

/** RoPE's base from the inv_freq constant behind the Cos node: inv_freq[i] = base^(−2i/hd). */
function findRopeBase(idx: GraphIndex, nodes: readonly NodeProto[]): number | undefined {
  const cos = nodes.find((n) => n.opType === "Cos");
  if (!cos) return ropeBaseFromTable(idx, nodes);
  const stack = [cos.input![0]!];
  const seen = new Set<string>();
  while (stack.length && seen.size < 32) {
    const cur = stack.pop()!;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const c = constFloats(idx, cur);
    if (c && c.data.length >= 2 && c.data[0] === 1 && c.data[1]! < 1 && c.data[1]! > 0) {
      // f32 inv_freq carries rounding: 6 significant digits recover the configured base.
      return Number(Math.pow(c.data[1]!, -c.data.length).toPrecision(6));
    }
    for (const i of idx.producer.get(cur)?.input ?? []) if (i) stack.push(i);
  }
  return undefined;
}

/**
 * RoPE's base from a cos table the exporter constant-folded ([…, positions, hd], multiplied into
 * q and k): row 0 is all ones, row 1 holds cos(inv_freq) twice over.
 */
function ropeBaseFromTable(idx: GraphIndex, nodes: readonly NodeProto[]): number | undefined {
  for (const n of nodes) {
    if (n.opType !== "Mul") continue;
    for (const i of n.input ?? []) {
      const t = constFloats(idx, i);
      const hd = t?.dims.at(-1) ?? 0;
      if (!t || hd < 4 || hd % 2 !== 0 || (t.dims.at(-2) ?? 0) < 2) continue;
      if (!t.data.subarray(0, hd).every((v) => v === 1)) continue;
      const f0 = Math.acos(t.data[hd]!);
      const f1 = Math.acos(t.data[hd + 1]!);
      if (Math.abs(f0 - 1) > 1e-4 || !(f1 > 0 && f1 < 1)) continue;
      // acos of an f32 cosine is good to ~1e-6, so five significant digits of the base.
      return Number(Math.pow(f1, -hd / 2).toPrecision(5));
    }
  }
  return undefined;
}

/**
 * The k and v projections of an attention block whose finder lost them behind RoPE or a
 * grouped-query repeat: the other linears reading q's input; k is the one the scores reach.
 */
function findKv(
  idx: GraphIndex,
  linears: readonly Linear[],
  a: { q?: Linear; scores: NodeProto },
): { k?: Linear; v?: Linear } {
  const others = linears.filter((l) => l !== a.q && l.input === a.q!.input);
  if (others.length !== 2) return {};
  const reaches = (from: string, target: string) => {
    const stack = [from];
    const seen = new Set<string>();
    while (stack.length && seen.size < 64) {
      const cur = stack.pop()!;
      if (cur === target) return true;
      if (seen.has(cur)) continue;
      seen.add(cur);
      for (const i of idx.producer.get(cur)?.input ?? []) if (i && !idx.constant(i)) stack.push(i);
    }
    return false;
  };
  const k = others.find((l) => reaches(a.scores.input![1]!, l.output));
  const v = others.find((l) => l !== k);
  return k && v ? { k, v } : {};
}

/** The constant Slice of `node` along the last axis: [start, end), or undefined. */
function lastAxisSlice(
  idx: GraphIndex,
  node: NodeProto | undefined,
  width: number,
): { data: string; start: number; end: number } | undefined {
  if (node?.opType !== "Slice") return undefined;
  const [data, starts, ends, axes, steps] = node.input ?? [];
  const s = starts ? idx.constantInts(starts) : undefined;
  const e = ends ? idx.constantInts(ends) : undefined;
  const a = axes ? idx.constantInts(axes) : undefined;
  const st = steps ? idx.constantInts(steps) : [1];
  if (!data || s?.length !== 1 || e?.length !== 1 || st?.[0] !== 1) return undefined;
  // The last axis is -1 or the rank's last index (2 for [batch, seq, d]).
  if (a && a[0] !== -1 && a[0] !== 2) return undefined;
  return { data, start: s[0]!, end: Math.min(e[0]!, width) };
}

/**
 * Spark's FFN blocks (see the module doc), in graph order: for each predictor linear over
 * x[..., :r], the remaining gate columns over x[..., r:], the up linear over x, the statistical
 * top-k mask on the predictor's scores and the down linear reading the masked hidden values.
 */
function findSparkFfns(idx: GraphIndex, linears: readonly Linear[]): MappedFfn[] {
  const out: MappedFfn[] = [];
  const sliceOf = (l: Linear, width: number) =>
    lastAxisSlice(idx, idx.producer.get(l.input), width);
  for (const pred of linears) {
    const ps = sliceOf(pred, 1 << 30);
    if (!ps || ps.start !== 0) continue;
    const r = pred.inFeatures;
    const rest = linears.find((l) => {
      const s = sliceOf(l, 1 << 30);
      return l !== pred && s?.data === ps.data && s.start === r &&
        l.outFeatures === pred.outFeatures;
    });
    if (!rest) continue;
    const d = r + rest.inFeatures;
    const ff = pred.outFeatures;
    const consumers = idx.consumers.get(pred.output) ?? [];
    const greater = consumers.find((c) => c.opType === "Greater" && c.input![0] === pred.output);
    const gateSum = consumers.find((c) =>
      c.opType === "Add" && c.input!.includes(rest.output) && c.input!.includes(pred.output)
    );
    if (!greater || !gateSum) continue;
    // θ = mean(u) + std(u)·z: the Add behind Greater's threshold holds the Mul by the scalar z.
    const add = idx.producer.get(greater.input![1]!);
    let z: number | undefined;
    for (const i of add?.opType === "Add" ? add.input! : []) {
      const m = idx.producer.get(i);
      if (m?.opType !== "Mul") continue;
      const c = m.input!.map((v) => constFloats(idx, v)).find((t) => t?.data.length === 1);
      if (c) z = c.data[0];
    }
    if (z === undefined) fail(`Spark FFN at ${pred.name}: no scalar z in its threshold`);
    const up = linears.find((l) =>
      l.input === ps.data && l.inFeatures === d && l.outFeatures === ff
    ) ?? fail(`Spark FFN at ${pred.name}: no up projection over the same input`);
    // The down linear reads the hidden values behind the mask: walk back from each linear's
    // input through element-wise ops to the Greater node.
    const reaches = (from: string) => {
      const stack = [from];
      const seen = new Set<string>();
      while (stack.length && seen.size < 16) {
        const cur = stack.pop()!;
        if (seen.has(cur)) continue;
        seen.add(cur);
        const p = idx.producer.get(cur);
        if (p === greater) return true;
        if (!p || !["Mul", "Cast", "Sigmoid", "Where"].includes(p.opType ?? "")) continue;
        for (const i of p.input ?? []) if (i && !idx.constant(i)) stack.push(i);
      }
      return false;
    };
    const down = linears.find((l) =>
      l.inFeatures === ff && l.outFeatures === d && reaches(l.input)
    ) ??
      fail(`Spark FFN at ${pred.name}: no down projection reading the masked hidden values`);
    const silu = (idx.consumers.get(gateSum.output![0]!) ?? []).some((c) => c.opType === "Sigmoid");
    const pw = linearWeights(idx, pred);
    const rw = linearWeights(idx, rest);
    if (pw.b || rw.b) fail(`Spark FFN at ${pred.name}: a gate with a bias`);
    const gate = new Float32Array(ff * d);
    for (let i = 0; i < ff; i++) {
      gate.set(pw.w.subarray(i * r, (i + 1) * r), i * d);
      gate.set(rw.w.subarray(i * (d - r), (i + 1) * (d - r)), i * d + r);
    }
    out.push({
      up,
      down,
      gated: true,
      activation: silu ? "silu" : "other",
      hiddenSize: ff,
      weights: fuse([{ w: gate }, linearWeights(idx, up)], d),
      gateName: `${pred.name}+${rest.name}`,
      gateLinears: [pred, rest],
      predicted: { kind: "predicted", r, z },
    });
  }
  return out;
}

const ACTIVATIONS: Record<string, FfnActivation | undefined> = {
  relu: "relu",
  gelu: "gelu",
  "gelu-tanh": "gelu-tanh",
  silu: "silu",
};

/**
 * Recognises a decoder-only transformer and reads its weights.
 *
 * @param model The ONNX model.
 * @param options An id for labels.
 * @returns Architecture, weights and linear names.
 * @throws {Error} One line naming what could not be mapped.
 */
export function importDecoder(model: ModelProto, options: { id: string }): ImportedDecoder {
  const graph = model.graph ?? fail("the model has no graph");
  const { idx, linears, ffn: plainFfn, attention } = analyzeGraph(graph);
  if (attention.length === 0) fail("no attention block (Q·Kᵀ → Softmax → ·V) found");
  const spark = plainFfn.length === 0 ? findSparkFfns(idx, linears) : [];
  const ffn: MappedFfn[] = spark.length ? spark : plainFfn.map((f) => ({
    up: f.up,
    down: f.down,
    gated: f.gated,
    activation: f.activation,
    hiddenSize: f.hiddenSize,
    weights: f.gated
      ? fuse([linearWeights(idx, f.gate!), linearWeights(idx, f.up)], f.up.inFeatures)
      : linearWeights(idx, f.up),
    ...(f.gate ? { gateName: f.gate.name } : {}),
    gateLinears: f.gate ? [f.gate] : [],
  }));
  if (ffn.length !== attention.length) {
    fail(`${attention.length} attention blocks but ${ffn.length} FFN blocks`);
  }
  const gather =
    (graph.node ?? []).find((n) =>
      n.opType === "Gather" && (constFloats(idx, n.input![0]!)?.dims.length ?? 0) === 2
    ) ?? fail("no token embedding (a Gather of a constant [vocab, d] table)");
  const embedT = constFloats(idx, gather.input![0]!)!;
  const [vocab, d] = embedT.dims as [number, number];
  let positions: Float32Array | undefined;
  let maxPositions = 0;
  for (const c of idx.consumers.get(gather.output![0]!) ?? []) {
    if (c.opType !== "Add") continue;
    const other = c.input!.find((i) => i !== gather.output![0]);
    // Walk back through Slice/Gather/Reshape to a constant [positions, d] table.
    let v = other;
    for (let i = 0; v && i < 4; i++) {
      const t = constFloats(idx, v);
      // [positions, d], or [1, positions, d] where the exporter folded the lookup of the
      // exported sequence's positions into a constant (then only those positions exist).
      const rows = t?.dims.length === 2
        ? t.dims[0]!
        : t?.dims.length === 3 && t.dims[0] === 1
        ? t.dims[1]!
        : 0;
      if (t && rows > 0 && t.dims.at(-1) === d) {
        positions = t.data;
        maxPositions = rows;
        break;
      }
      v = idx.producer.get(v)?.input?.[0];
    }
  }
  const ropeBase = positions ? undefined : findRopeBase(idx, graph.node ?? []);
  if (!positions && ropeBase === undefined) {
    fail("no learned position table added to the embedding and no RoPE (Cos/Sin of inv_freq)");
  }
  const blockLinears = new Set<Linear>();
  const layers: HostLayer[] = [];
  const names: ImportedDecoder["linearNames"] = [];
  let heads = 0;
  let eps = 1e-5;
  let normKind: "layer" | "rms" = "layer";
  let kvWidth = 0;
  let ffnKind: "gated" | "plain" = "plain";
  let act: FfnActivation = "gelu";
  let ff = 0;
  for (let l = 0; l < attention.length; l++) {
    const a = attention[l]!;
    const f = ffn[l]!;
    if (a.q && (!a.k || !a.v)) Object.assign(a, findKv(idx, linears, a));
    if (!a.q || !a.k || !a.v || !a.out) fail(`attention block ${l} lacks its q/k/v/o projections`);
    for (const lin of [a.q, a.k, a.v, a.out, f.up, f.down, ...f.gateLinears]) {
      blockLinears.add(lin);
    }
    // GPT-2's c_attn computes [q; k; v] in one linear, split afterwards.
    const fusedQkv = a.q === a.k && a.k === a.v;
    if (fusedQkv && a.q.outFeatures !== 3 * d) {
      fail(`block ${l}: a fused q/k/v projection of width ${a.q.outFeatures}, not 3·${d}`);
    }
    if (a.q.input !== a.k.input || a.q.input !== a.v.input) {
      fail(`block ${l}: q, k and v read different inputs`);
    }
    const n1 = findNorm(idx, a.q.input, d) ??
      fail(`block ${l}: no LayerNormalization or RMSNorm before q/k/v`);
    const n2 = findNorm(idx, f.up.input, d) ??
      fail(`block ${l}: no LayerNormalization or RMSNorm before the FFN`);
    eps = n1.eps;
    if (l > 0 && n1.kind !== normKind) fail(`block ${l} mixes LayerNorm and RMSNorm`);
    normKind = n1.kind;
    const h = headsOf(idx, a.q, d, scoreScale(idx, a.softmax));
    kvWidth = fusedQkv ? d : a.k.outFeatures;
    if (heads && h !== heads) fail(`block ${l} has ${h} heads, block 0 ${heads}`);
    heads = h;
    ffnKind = f.gated ? "gated" : "plain";
    act = ACTIVATIONS[f.activation] ??
      fail(`block ${l}: FFN activation ${f.activation} is not supported`);
    ff = f.hiddenSize;
    layers.push({
      norm1: n1.weights,
      qkv: fusedQkv
        ? linearWeights(idx, a.q)
        : fuse([linearWeights(idx, a.q), linearWeights(idx, a.k), linearWeights(idx, a.v)], d),
      o: linearWeights(idx, a.out),
      norm2: n2.weights,
      up: f.weights,
      down: linearWeights(idx, f.down),
    });
    names.push({
      q: a.q.name,
      k: a.k.name,
      v: a.v.name,
      o: a.out.name,
      up: f.up.name,
      gate: f.gateName,
      down: f.down.name,
    });
  }
  const rest = linears.filter((l) => !blockLinears.has(l));
  const head = rest.find((l) => l.outFeatures === vocab && l.inFeatures === d) ??
    fail("no LM head (a linear from d to the vocabulary after the last block)");
  const nf = findNorm(idx, head.input, d) ?? fail("no final norm before the LM head");
  const spec: DecoderSpec = {
    id: options.id,
    layers: layers.length,
    d,
    heads,
    kvHeads: kvWidth / (d / heads),
    headDim: d / heads,
    ff,
    vocab,
    maxPositions: positions ? maxPositions : 4096,
    norm: normKind,
    eps,
    positions: ropeBase === undefined ? { kind: "learned" } : { kind: "rope", base: ropeBase },
    ffn: ffnKind,
    act,
  };
  return {
    spec,
    weights: {
      embed: embedT.data,
      ...(positions ? { positions } : {}),
      layers,
      finalNorm: nf.weights,
      head: linearWeights(idx, head),
    },
    linearNames: names,
    ...(spark.length
      ? { plan: { method: "spark", layers: spark.map((f) => ({ up: f.predicted! })) } }
      : {}),
  };
}
