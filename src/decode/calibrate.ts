/**
 * Sparsity plans for imported models, from activations on calibration text (the CPU reference
 * decoder's projection inputs), in the engine's plain description:
 * - `teal`: per projection input, t with P(|x| < t) = s (TEAL's rule; calibrated on the dense
 *   model's activations, as TEAL's histograms are);
 * - `wina`: the same on |x_j|·‖W[:, j]‖₂ (WINA's score, threshold form);
 * - `cats`: the down projection only, t with P(|act(g)| < t) = s on the gate (CATS), gated FFNs;
 * - `topk`: keep the (1 − s)·n largest |x| of every projection input, per token;
 * - `stat-topk`: the down projection's input, keep h > mean + z·std with z = Φ⁻¹(s), per token
 *   (Spark's statistical top-k);
 * - `relu`: the down projection's input, keep h > 0 (ReLU's zeros; exact only for ReLU FFNs).
 *
 * @module
 */

import { normalQuantile } from "../stats.ts";
import { referenceDecode } from "./reference.ts";
import type { GpuWeights } from "./weights.ts";
import { createDecoder, type DecoderOptions, thresholdSlot } from "./engine.ts";
import { fillCaches } from "./measure.ts";
import { readBuffer } from "../../kernels/host.ts";
import {
  type DecoderSpec,
  DENSE_PLAN,
  type HostWeights,
  type ProjectionName,
  type ProjectionRule,
  PROJECTIONS,
  type SparsityPlan,
  uniformPlan,
} from "./spec.ts";

/** Methods the engine can run. */
export const DECODE_METHODS = [
  "dense",
  "teal",
  "wina",
  "cats",
  "topk",
  "stat-topk",
  "relu",
] as const;

/** A method id. */
export type DecodeMethod = (typeof DECODE_METHODS)[number];

function quantile(values: Float32Array, q: number): number {
  const s = Float32Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))]!;
}

/**
 * Builds a plan for a method at a sparsity.
 *
 * @param method Method id.
 * @param sparsity Target in [0, 1).
 * @param model Architecture, host weights (for calibration) and GPU weights (column norms).
 * @param calibration Token windows to calibrate on (methods with constant thresholds).
 * @returns The plan.
 * @throws {RangeError} For an unknown method or a method the architecture cannot take.
 */
export function planFor(
  method: string,
  sparsity: number,
  model: { spec: DecoderSpec; host?: HostWeights; gpu: GpuWeights },
  calibration: readonly (readonly number[])[],
): SparsityPlan {
  const { spec } = model;
  if (method === "dense" || sparsity <= 0) return DENSE_PLAN;
  if (!(sparsity < 1)) throw new RangeError(`sparsity ${sparsity} is outside [0, 1)`);
  switch (method) {
    case "topk":
      return uniformPlan(spec, "topk", { kind: "fraction", sparsity });
    case "stat-topk":
      return downOnly(spec, "stat-topk", { kind: "stat-topk", z: normalQuantile(sparsity) });
    case "relu":
      return downOnly(spec, "relu", { kind: "value", threshold: 0 });
  }
  if (!["teal", "wina", "cats"].includes(method)) {
    throw new RangeError(`Unknown method "${method}" (known: ${DECODE_METHODS.join(", ")})`);
  }
  if (model.gpu.synthetic || !model.host) {
    // Speed-only weights have no meaningful activations to calibrate on: thresholds are set per
    // token to drop exactly the target fraction, by the method's score.
    return uniformPlan(spec, method, (l, p) => ({
      kind: "fraction",
      sparsity,
      ...(method === "wina" && model.gpu.layers[l]![p].columnNorms
        ? { scale: model.gpu.layers[l]![p].columnNorms! }
        : {}),
    }));
  }
  if (method === "cats" && spec.ffn !== "gated") {
    throw new RangeError("cats needs a gated FFN (its rule is on act(gate))");
  }
  const seen: Float32Array[][][] = spec.layers > 0
    ? Array.from({ length: spec.layers }, () => PROJECTIONS.map(() => []))
    : [];
  const gates: Float32Array[][] = Array.from({ length: spec.layers }, () => []);
  for (const ids of calibration) {
    referenceDecode(spec, model.host, ids, {
      input(l, p, x) {
        const scale = method === "wina" ? model.gpu.layers[l]![p].columnNorms : undefined;
        seen[l]![PROJECTIONS.indexOf(p)]!.push(
          Float32Array.from(x, (v, j) => Math.abs(v) * (scale?.[j] ?? 1)),
        );
      },
      gate(l, g) {
        gates[l]!.push(Float32Array.from(g, Math.abs));
      },
    });
  }
  const concat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  if (method === "cats") {
    return {
      method,
      layers: gates.map((g) => ({
        down: { kind: "gate", threshold: quantile(concat(g), sparsity) },
      })),
    };
  }
  return {
    method,
    layers: seen.map((perP, l) =>
      Object.fromEntries(
        PROJECTIONS.map((p: ProjectionName, i) => {
          const rule: ProjectionRule = {
            kind: "magnitude",
            threshold: quantile(concat(perP[i]!), sparsity),
            ...(method === "wina" ? { scale: model.gpu.layers[l]![p].columnNorms! } : {}),
          };
          return [p, rule];
        }),
      )
    ),
  };
}

function downOnly(spec: DecoderSpec, method: string, rule: ProjectionRule): SparsityPlan {
  return { method, layers: Array.from({ length: spec.layers }, () => ({ down: rule })) };
}

/**
 * TEAL's constant thresholds for a speed-only model, calibrated on the GPU on the model's own
 * activations (as the PyTorch peer does): one decoding step at `context` with per-token exact
 * thresholds, whose values become the constant per-projection thresholds of the returned plan.
 * Later tokens then land near, not exactly on, the target; the decoder's counters measure it.
 *
 * @param device The device.
 * @param weights The model's weights (with the transposed layout).
 * @param options Target, context, cache capacity, decoder options.
 * @returns The plan.
 */
export async function calibrateOnGpu(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions & { sparsity: number; context: number; method?: string },
): Promise<SparsityPlan> {
  const spec = weights.spec;
  const method = options.method ?? "teal";
  const probe = await createDecoder(device, weights, {
    ...options,
    plan: uniformPlan(spec, method, { kind: "fraction", sparsity: options.sparsity }),
  });
  await fillCaches(device, probe, 100);
  probe.setState({ pos: options.context, wrapStart: 0, wrapEnd: probe.maxContext, prompt: 0 });
  await probe.run(1);
  const t = new Float32Array(
    await readBuffer(device, probe.thresholds, probe.thresholds.size),
  );
  probe.destroy();
  return {
    method,
    layers: Array.from({ length: spec.layers }, (_, l) =>
      Object.fromEntries(
        PROJECTIONS.map((p) => [p, { kind: "magnitude", threshold: t[thresholdSlot(l, p)]! }]),
      )),
  };
}
