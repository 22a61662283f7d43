/**
 * The decode engine's CPU reference: the same decoder, token by token with a KV cache, composed
 * of the kernels' CPU references. It checks the engine on models ORT cannot run (the synthetic
 * shapes) and feeds calibration: a hook sees every projection's input.
 *
 * @module
 */

import { addNormCpu } from "../../kernels/add_norm.ts";
import { ropeCacheCpu } from "../../kernels/rope_cache.ts";
import { attentionCpu } from "../../kernels/attention.ts";
import { gluCpu } from "../../kernels/glu.ts";
import { embedCpu } from "../../kernels/embed.ts";
import { type PredictedFfn, predictedFfnCpu } from "../../kernels/predicted_ffn.ts";
import type {
  DecoderSpec,
  HostLayer,
  HostLinear,
  HostWeights,
  PredictedRule,
  ProjectionName,
  SparsityPlan,
} from "./spec.ts";

function linear(l: HostLinear, x: Float32Array, n: number): Float32Array {
  const k = x.length;
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = l.b?.[r] ?? 0;
    const off = r * k;
    for (let c = 0; c < k; c++) s += l.w[off + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

/** Hooks of {@linkcode referenceDecode}. */
export interface ReferenceHooks {
  /** Sees (and may mask, in place) the input of each projection. */
  input?(layer: number, p: ProjectionName, x: Float32Array): void;
  /** Sees the gate activations act(g) of a gated FFN (before the product with u). */
  gate?(layer: number, actG: Float32Array): void;
  /** Sees the neurons a predicted FFN kept (ascending). */
  kept?(layer: number, idx: Uint32Array): void;
}

/** Options of {@linkcode referenceDecode}: hooks, and the model's own plan. */
export interface ReferenceOptions extends ReferenceHooks {
  /**
   * The plan whose `predicted` rules (Spark's FFN, part of the model) the reference computes;
   * its other rules are the engine's business (calibration masks inputs through the hooks).
   */
  plan?: SparsityPlan;
}

/** A block's gated FFN as `kernels/predicted_ffn.ts` takes it, for Spark's rule. */
function predictedFfnOf(spec: DecoderSpec, L: HostLayer, rule: PredictedRule): PredictedFfn {
  const { d, ff } = spec;
  if (spec.ffn !== "gated" || spec.act !== "silu") {
    throw new Error(`${spec.id}: the predicted FFN rule needs a gated SiLU FFN`);
  }
  if (L.up.b || L.down.b) throw new Error(`${spec.id}: the predicted FFN rule takes no biases`);
  const gate = L.up.w.subarray(0, ff * d);
  const weight = new Float32Array(ff * rule.r);
  for (let i = 0; i < ff; i++) weight.set(gate.subarray(i * d, i * d + rule.r), i * rule.r);
  return {
    d,
    h: ff,
    gate,
    up: L.up.w.subarray(ff * d),
    down: L.down.w,
    predictor: { kind: "slice", r: rule.r, weight },
    rule: { kind: "stat-topk", z: rule.z },
  };
}

/**
 * Runs the decoder over `ids` teacher-forced and returns the logits at every position.
 *
 * @param spec Architecture.
 * @param w Weights.
 * @param ids Token ids.
 * @param hooks Optional hooks and the model's plan.
 * @returns Logits per position.
 */
export function referenceDecode(
  spec: DecoderSpec,
  w: HostWeights,
  ids: readonly number[],
  hooks: ReferenceOptions = {},
): Float32Array[] {
  const predicted = w.layers.map((L, l) => {
    const rule = hooks.plan?.layers[l]?.up;
    return rule?.kind === "predicted" ? predictedFfnOf(spec, L, rule) : undefined;
  });
  const kvd = spec.kvHeads * spec.headDim;
  const caches = w.layers.map(() => ({
    k: new Float32Array(ids.length * kvd),
    v: new Float32Array(ids.length * kvd),
  }));
  const qn = (spec.heads + 2 * spec.kvHeads) * spec.headDim;
  const out: Float32Array[] = [];
  for (let pos = 0; pos < ids.length; pos++) {
    const x = embedCpu(w.embed, ids[pos]!, {
      d: spec.d,
      pos,
      ...(w.positions ? { positions: w.positions } : {}),
    });
    let pending: Float32Array | undefined;
    for (let l = 0; l < spec.layers; l++) {
      const L = w.layers[l]!;
      const h1 = addNormCpu(x, {
        kind: spec.norm,
        weight: L.norm1.w,
        ...(L.norm1.b ? { bias: L.norm1.b } : {}),
        eps: spec.eps,
        ...(pending ? { addend: pending } : {}),
      });
      hooks.input?.(l, "qkv", h1);
      const qkv = linear(L.qkv, h1, qn);
      const q = ropeCacheCpu(qkv, {
        heads: spec.heads,
        kvHeads: spec.kvHeads,
        headDim: spec.headDim,
        pos,
        ...(spec.positions.kind === "rope" ? { ropeBase: spec.positions.base } : {}),
        kcache: caches[l]!.k,
        vcache: caches[l]!.v,
      });
      const a = attentionCpu(q, {
        heads: spec.heads,
        kvHeads: spec.kvHeads,
        headDim: spec.headDim,
        kcache: caches[l]!.k,
        vcache: caches[l]!.v,
        len: pos + 1,
        scale: 1 / Math.sqrt(spec.headDim),
      });
      hooks.input?.(l, "o", a);
      const o = linear(L.o, a, spec.d);
      const h2 = addNormCpu(x, {
        kind: spec.norm,
        weight: L.norm2.w,
        ...(L.norm2.b ? { bias: L.norm2.b } : {}),
        eps: spec.eps,
        addend: o,
      });
      hooks.input?.(l, "up", h2);
      const pf = predicted[l];
      if (pf) {
        const r = predictedFfnCpu(pf, h2);
        hooks.kept?.(l, r.idx);
        pending = r.y;
        continue;
      }
      const gated = spec.ffn === "gated";
      const gu = linear(L.up, h2, (gated ? 2 : 1) * spec.ff);
      if (gated && hooks.gate) {
        hooks.gate(l, gluCpu(gu.slice(0, spec.ff), { ff: spec.ff, gated: false, act: spec.act }));
      }
      const h = gluCpu(gu, { ff: spec.ff, gated, act: spec.act });
      hooks.input?.(l, "down", h);
      pending = linear(L.down, h, spec.d);
    }
    const hf = addNormCpu(x, {
      kind: spec.norm,
      weight: w.finalNorm.w,
      ...(w.finalNorm.b ? { bias: w.finalNorm.b } : {}),
      eps: spec.eps,
      ...(pending ? { addend: pending } : {}),
    });
    out.push(linear(w.head, hf, spec.vocab));
  }
  return out;
}
