/**
 * What the decode engine runs: a decoder-only transformer's architecture, its weights (on the host
 * for imported models, on the GPU for all), and the plain description of where activation sparsity
 * applies (per layer and projection: a rule and its threshold). Methods translate their plans into
 * this description; the engine never sees a method.
 *
 * @module
 */

import type { FfnActivation } from "../../kernels/glu.ts";
import type { NormKind } from "../../kernels/add_norm.ts";

/** A decoder-only transformer's architecture. */
export interface DecoderSpec {
  /** Model id (for labels and reports). */
  id: string;
  /** Transformer blocks. */
  layers: number;
  /** Model width. */
  d: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  /** Dimensions per head. */
  headDim: number;
  /** FFN hidden width. */
  ff: number;
  /** Vocabulary size. */
  vocab: number;
  /** Longest sequence the model takes (learned position table length; a cap for RoPE). */
  maxPositions: number;
  /** Normalisation (pre-norm blocks and a final norm). */
  norm: NormKind;
  /** Normalisation epsilon. */
  eps: number;
  /** Learned absolute positions, or RoPE with its base. */
  positions: { kind: "learned" } | { kind: "rope"; base: number };
  /** Gated (act(g)·u) or plain (act(u)) FFN. */
  ffn: "gated" | "plain";
  /** FFN activation. */
  act: FfnActivation;
}

/** A linear layer's weights on the host, y = W x + b with W [out, in] row-major. */
export interface HostLinear {
  /** Weights [out, in]. */
  w: Float32Array;
  /** Bias [out]. */
  b?: Float32Array;
}

/** A norm's weights on the host. */
export interface HostNorm {
  /** Scale. */
  w: Float32Array;
  /** Shift (LayerNorm). */
  b?: Float32Array;
}

/** One block's weights on the host; q/k/v and gate/up are fused, in that order. */
export interface HostLayer {
  /** Pre-attention norm. */
  norm1: HostNorm;
  /** [q; k; v] projection, out = (heads + 2·kvHeads)·headDim. */
  qkv: HostLinear;
  /** Attention output projection. */
  o: HostLinear;
  /** Pre-FFN norm. */
  norm2: HostNorm;
  /** Up projection; gated FFNs: [gate; up], out = 2·ff. */
  up: HostLinear;
  /** Down projection. */
  down: HostLinear;
}

/** A whole model's weights on the host (imported models). */
export interface HostWeights {
  /** Token embedding [vocab, d]. */
  embed: Float32Array;
  /** Learned positions [maxPositions, d]. */
  positions?: Float32Array;
  /** Blocks. */
  layers: HostLayer[];
  /** Final norm. */
  finalNorm: HostNorm;
  /** LM head [vocab, d]. */
  head: HostLinear;
}

/** The projections whose inputs can be sparse. */
export const PROJECTIONS = ["qkv", "o", "up", "down"] as const;

/** A projection of a block. */
export type ProjectionName = (typeof PROJECTIONS)[number];

/**
 * Where a projection's input is sparse, and how its threshold is set:
 * - `dense`: every input row is read (the dense GEMV);
 * - `magnitude`: keep |x_j|·s_j > threshold, a constant (TEAL; WINA's threshold form with s = the
 *   weight's column norms);
 * - `value`: keep x_j > threshold (ReLU's zeros at 0);
 * - `fraction`: keep the (1 − sparsity)·n largest |x_j|·s_j, the threshold found per token on the
 *   GPU (top-k; WINA's top-k; the speed-only models, whose thresholds are set per token to hit the
 *   target exactly);
 * - `stat-topk`: keep x_j > mean(x) + z·std(x) per token (Spark's statistical top-k);
 * - `gate`: the down projection of a gated FFN: h_j = 0 where |act(g_j)| ≤ threshold (CATS), and
 *   the zeros are skipped;
 * - `predicted`: the up/gate projection of a gated FFN trained with Spark's predictor (set on
 *   `up`; `down` then reads only the kept neurons): the first r input dimensions and the gate's
 *   first r columns score every neuron, u = Wg[:, :r]·x[:r]; statistical top-k keeps u_i > θ,
 *   θ = mean(u) + z·std(u) (population std, z = Φ⁻¹(1 − k/ff)); only the kept neurons' gate and
 *   up rows are computed, act(Wg[i]·x)·(Wu[i]·x), and down reads only their rows. This is the
 *   model's own computation (a Spark model run densely is another model), so the importer
 *   returns it as the model's plan.
 */
export type ProjectionRule =
  | { kind: "dense" }
  | { kind: "magnitude"; threshold: number; scale?: Float32Array }
  | { kind: "value"; threshold: number }
  | { kind: "fraction"; sparsity: number; scale?: Float32Array }
  | { kind: "stat-topk"; z: number }
  | { kind: "gate"; threshold: number }
  | { kind: "predicted"; r: number; z: number };

/** Spark's predicted-FFN rule (see {@linkcode ProjectionRule}). */
export type PredictedRule = Extract<ProjectionRule, { kind: "predicted" }>;

/**
 * Whether a projection's rule keeps inputs by a constant threshold (or keeps them all): only such
 * a GEMV can normalise its input itself, since a per-token selection (fraction, statistical top-k)
 * needs the normalised input before the GEMV starts.
 *
 * @param rule The rule (absent: dense).
 * @returns True for no rule, `dense`, `magnitude` and `value`.
 */
export function hasConstantThreshold(rule: ProjectionRule | undefined): boolean {
  return !rule || rule.kind === "dense" || rule.kind === "magnitude" || rule.kind === "value";
}

/**
 * Bytes one decoding step reads: the LM head, every block's projections at their density, and the
 * KV cache of `context` positions (the embedding row and norm weights are left out: a few KB).
 *
 * @param spec The architecture.
 * @param context Positions in the KV cache.
 * @param options Bytes per weight and per cache element; the density of a layer's projection
 * (default 1).
 * @returns Bytes per token.
 */
export function stepBytes(
  spec: DecoderSpec,
  context: number,
  options: {
    weightBytes: number;
    kvBytes: number;
    density?: (layer: number, p: ProjectionName) => number;
  },
): number {
  const shapes = linearShapes(spec);
  let bytes = shapes.head.k * shapes.head.n * options.weightBytes +
    2 * context * spec.kvHeads * spec.headDim * options.kvBytes * spec.layers;
  for (let l = 0; l < spec.layers; l++) {
    for (const p of PROJECTIONS) {
      const rho = options.density?.(l, p) ?? 1;
      bytes += rho * shapes.block[p].k * shapes.block[p].n * options.weightBytes;
    }
  }
  return bytes;
}

/** The sparsity of every projection of every block (absent layers or projections: dense). */
export interface SparsityPlan {
  /** Method label for reports (e.g. "teal"). */
  method: string;
  /** Per block, per projection. */
  layers: Partial<Record<ProjectionName, ProjectionRule>>[];
}

/** The dense plan. */
export const DENSE_PLAN: SparsityPlan = { method: "dense", layers: [] };

/**
 * The same rule at every projection of every block.
 *
 * @param spec Architecture.
 * @param method Method label.
 * @param rule Rule, or a function of the block index and projection.
 * @returns The plan.
 */
export function uniformPlan(
  spec: Pick<DecoderSpec, "layers">,
  method: string,
  rule: ProjectionRule | ((layer: number, p: ProjectionName) => ProjectionRule),
): SparsityPlan {
  return {
    method,
    layers: Array.from({ length: spec.layers }, (_, l) =>
      Object.fromEntries(
        PROJECTIONS.map((p) => [p, typeof rule === "function" ? rule(l, p) : rule]),
      )),
  };
}

/**
 * Output width of a block's fused q/k/v projection.
 *
 * @param spec Architecture.
 * @returns (heads + 2·kvHeads)·headDim.
 */
export function qkvWidth(spec: DecoderSpec): number {
  return (spec.heads + 2 * spec.kvHeads) * spec.headDim;
}

/**
 * Parameters of the model's linears (blocks + LM head), for bytes per token.
 *
 * @param spec Architecture.
 * @returns Counts per projection of one block, and of the head.
 */
export function linearShapes(
  spec: DecoderSpec,
): { block: Record<ProjectionName, { k: number; n: number }>; head: { k: number; n: number } } {
  const inner = spec.heads * spec.headDim;
  return {
    block: {
      qkv: { k: spec.d, n: qkvWidth(spec) },
      o: { k: inner, n: spec.d },
      up: { k: spec.d, n: (spec.ffn === "gated" ? 2 : 1) * spec.ff },
      down: { k: spec.ff, n: spec.d },
    },
    head: { k: spec.d, n: spec.vocab },
  };
}
