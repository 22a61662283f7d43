/**
 * The SAE's decoder as an input-sparse GEMV: recon = W_dec z + b_dec with z the 2,048 latents of
 * one evaluation sequence, of which at most 32 are nonzero (≥ 98.4 % input sparsity), timed dense
 * against sparse on each target, the two interleaved so that the machine's drift falls on both:
 *
 * - ORT (wasm, node, WebGPU): the dense form is one MatMul z[1, 2048] · W[2048, 64] plus the
 *   bias; the sparse form takes the active list (indices and values, as a top-k SAE produces them)
 *   and gathers its rows: Gather(W, idx) → [32, 64], MatMul vals[1, 32] · rows, plus the bias.
 * - wgsl: the project's dense GEMV (its fastest launch shape from a short screening, like the
 *   kernels suite's) against the active-list input-sparse GEMV (`createActiveSparseGemv`, the
 *   kernel compacting z > 0 itself, one dispatch), both validated against their CPU references
 *   on this z before any timing (and, as a second row, the same kernel reading the active list as
 *   the SAE's top-k leaves it, with no compaction); timed as {@linkcode DECODES_PER_REP} decodes per repetition
 *   (per-decode figures are the repetition's time divided by that count).
 *
 * @module
 */

import { DataType, encodeModel, type ValueInfo } from "../src/onnx/model.ts";
import { floatTensor } from "../src/onnx/tensor_data.ts";
import type { TensorMap } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import { measureInterleaved, type TimingPolicy, wallClock } from "../src/timing.ts";
import { bootstrapRatioCi, summarize } from "../src/stats.ts";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { type Dispatch, runOnce, storageBuffer } from "../kernels/host.ts";
import { createDispatchSampler, timeDispatches } from "../kernels/gpu_timing.ts";
import { createGemv, gemvCpu } from "../kernels/gemv.ts";
import { GEMV_SWEEP, GEMV_SWEEP_CPU, gemvTuningLabel } from "../kernels/tuning.ts";
import { activeSparseTuning, activeSparseTuningLabel } from "../kernels/tuning.ts";
import {
  type ActiveInput,
  createActiveSparseGemv,
  sparseGemvCpu,
  transpose,
} from "../kernels/sparse_gemv.ts";
import { relativeError } from "../kernels/relative_error.ts";

/** Decoder GEMVs in one timed repetition on the WGSL target. */
export const DECODES_PER_REP = 32;

/** The decoder and one input. */
export interface DecoderCase {
  /** W_dec transposed: [latents, width], row j = latent j's direction. */
  decT: Float32Array;
  /** b_dec [width]. */
  bias: Float32Array;
  /** Latents (inputs). */
  latents: number;
  /** Hidden width (outputs). */
  width: number;
  /** One latent vector z [latents], mostly zeros. */
  z: Float32Array;
}

/** Dense and sparse times of the decoder on one target. */
export interface DecoderTiming {
  /** Dense samples, ms per run, paired with `sparseMs`. */
  denseMs: number[];
  /** Sparse samples. */
  sparseMs: number[];
  /** How the samples were taken. */
  source: string;
  /** Rounds left out because a sample was not positive (wall-slope samples under load). */
  droppedRounds?: number;
  /** The kernels or graphs used, in words. */
  forms: { dense: string; sparse: string };
  /** Relative error of each form against the CPU reference. */
  errors: { dense: number; sparse: number };
}

function io(name: string, dims: number[], elemType: number = DataType.FLOAT): ValueInfo {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}

/**
 * The two ORT graphs of the decoder: dense `y = z · W + b` and sparse
 * `y = vals · Gather(W, idx) + b`.
 *
 * @param c The decoder.
 * @param active Active inputs of the sparse graph.
 * @returns The two models' bytes.
 */
export function decoderModels(
  c: Pick<DecoderCase, "decT" | "bias" | "latents" | "width">,
  active: number,
): { dense: Uint8Array; sparse: Uint8Array } {
  const inits = [
    floatTensor("W", [c.latents, c.width], c.decT),
    floatTensor("b", [c.width], c.bias),
  ];
  const model = (name: string, node: ReturnType<typeof nodes>, input: ValueInfo[]) =>
    encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: { name, node, initializer: inits, input, output: [io("y", [1, c.width])] },
    });
  const nodes = (first: { opType: string; input: string[]; output: string[] }[]) =>
    first.map((n, i) => ({ name: `n${i}`, ...n }));
  return {
    dense: model(
      "sae-decoder-dense",
      nodes([
        { opType: "MatMul", input: ["z", "W"], output: ["zw"] },
        { opType: "Add", input: ["zw", "b"], output: ["y"] },
      ]),
      [io("z", [1, c.latents])],
    ),
    sparse: model(
      "sae-decoder-sparse",
      nodes([
        { opType: "Gather", input: ["W", "idx"], output: ["rows"] },
        { opType: "MatMul", input: ["vals", "rows"], output: ["zw"] },
        { opType: "Add", input: ["zw", "b"], output: ["y"] },
      ]),
      [io("idx", [active], DataType.INT64), io("vals", [1, active])],
    ),
  };
}

/**
 * The active list of z: indices and values of its nonzeros.
 *
 * @param z A vector.
 * @returns Indices and values, ascending index.
 */
export function activeList(z: Float32Array): { idx: Uint32Array; vals: Float32Array } {
  const idx: number[] = [];
  z.forEach((v, i) => {
    if (v !== 0) idx.push(i);
  });
  return { idx: Uint32Array.from(idx), vals: Float32Array.from(idx, (i) => z[i]!) };
}

/**
 * The CPU reference of the decoder: y = Σ_j z_j · decT[j, :] + b.
 *
 * @param c The decoder and its input.
 * @returns y.
 */
export function decoderCpu(c: DecoderCase): Float32Array {
  return sparseGemvCpu(c.decT, activeList(c.z), { n: c.width, bias: c.bias });
}

/**
 * Times the decoder on an ORT target, dense and sparse graphs interleaved.
 *
 * @param target `ort-wasm`, `ort-node` or `ort-webgpu`.
 * @param c The decoder and its input.
 * @param policy Timing policy.
 * @returns The timing, or a reason the target cannot run here.
 */
export async function timeOrtDecoder(
  target: string,
  c: DecoderCase,
  policy: TimingPolicy,
): Promise<DecoderTiming | string> {
  const backend = await createBackend(target);
  const why = await backend.probe();
  if (why) return why;
  const list = activeList(c.z);
  const models = decoderModels(c, list.idx.length);
  const denseFeeds: TensorMap = { z: { type: "float32", data: c.z, dims: [1, c.latents] } };
  const sparseFeeds: TensorMap = {
    idx: { type: "int64", data: BigInt64Array.from(list.idx, BigInt), dims: [list.idx.length] },
    vals: { type: "float32", data: list.vals, dims: [1, list.idx.length] },
  };
  const dense = await backend.load(models.dense, { label: "sae decoder dense", feeds: denseFeeds });
  const sparse = await backend.load(models.sparse, {
    label: "sae decoder sparse",
    feeds: sparseFeeds,
  });
  try {
    const want = decoderCpu(c);
    const errors = {
      dense: relativeError((await dense.run(denseFeeds)).y!.data as Float32Array, want),
      sparse: relativeError((await sparse.run(sparseFeeds)).y!.data as Float32Array, want),
    };
    if (!(errors.dense <= 1e-4 && errors.sparse <= 1e-4)) {
      throw new Error(
        `the ORT decoder graphs on ${target} differ from the CPU reference (dense ${errors.dense}, sparse ${errors.sparse})`,
      );
    }
    const times = await measureInterleaved(
      [dense.sampler(denseFeeds, "dense"), sparse.sampler(sparseFeeds, "sparse")],
      policy,
      { clock: wallClock },
    );
    return {
      denseMs: times.samples[0]!,
      sparseMs: times.samples[1]!,
      source: target === "ort-webgpu" ? "wall-slope" : "wall",
      forms: { dense: "MatMul + Add", sparse: "Gather + MatMul + Add" },
      errors,
    };
  } finally {
    await dense.release();
    await sparse.release();
  }
}

/**
 * Times the decoder on the project's WGSL kernels: the dense GEMV against the input-sparse one.
 *
 * @param c The decoder and its input.
 * @param options Rounds of paired samples.
 * @returns The timing.
 */
export async function timeWgslDecoder(
  c: DecoderCase,
  options: { rounds: number; input?: "threshold" | "list" },
): Promise<DecoderTiming> {
  const { device, facts } = await acquireGpu();
  const want = decoderCpu(c);
  const w = transpose(c.decT, c.latents, c.width); // [width, latents], the dense GEMV's layout
  const wantDense = gemvCpu(w, c.z, { rows: c.width, cols: c.latents, bias: c.bias });
  if (!(relativeError(wantDense, want) <= 1e-6)) {
    throw new Error("the dense and sparse CPU references of the decoder disagree");
  }
  // The dense GEMV's fastest launch shape: every candidate checked, then screened briefly.
  let dense: { reps: Dispatch[][]; label: string; ms: number; err: number } | undefined;
  for (const tuning of facts.isFallbackAdapter ? GEMV_SWEEP_CPU : GEMV_SWEEP) {
    const g = await createGemv(device, {
      label: `sae decoder ${gemvTuningLabel(tuning)}`,
      rows: c.width,
      cols: c.latents,
      weight: w,
      bias: c.bias,
      ...tuning,
    });
    g.writeInput(c.z);
    await runOnce(device, [g.dispatch]);
    const err = relativeError(await g.read(), want);
    if (!(err <= 1e-5)) {
      throw new Error(
        `dense GEMV ${gemvTuningLabel(tuning)} differs from the CPU reference by ${err}`,
      );
    }
    const ms = (await timeDispatches(device, [Array(DECODES_PER_REP).fill(g.dispatch)], {
      samples: 1,
      targetMs: 20,
    })).ms;
    if (!dense || ms < dense.ms) {
      dense = { reps: [[g.dispatch]], label: gemvTuningLabel(tuning), ms, err };
    }
  }
  const active = activeList(c.z).idx.length;
  const tuning = activeSparseTuning(facts, {
    k: c.latents,
    n: c.width,
    precision: "f32",
    density: active / c.latents,
  });
  // The threshold form compacts z > 0 in the kernel; the list form reads the active list as the
  // SAE's top-k leaves it (indices and values), so nothing scans the 2,048 inputs.
  const list = activeList(c.z);
  const input: ActiveInput = options.input === "list"
    ? {
      kind: "list",
      idx: storageBuffer(device, "sae decoder idx", list.idx),
      vals: storageBuffer(device, "sae decoder vals", list.vals),
      count: storageBuffer(device, "sae decoder count", Uint32Array.of(list.idx.length)),
    }
    : {
      kind: "threshold",
      x: storageBuffer(device, "sae decoder z", c.z),
      rule: { kind: "value", threshold: 0 },
    };
  const sparse = await createActiveSparseGemv(device, {
    label: "sae decoder sparse",
    k: c.latents,
    n: c.width,
    weightT: c.decT,
    bias: c.bias,
    input,
    tuning,
  });
  await runOnce(device, sparse.dispatches);
  const sparseErr = relativeError(await sparse.read(), want);
  if (!(sparseErr <= 1e-5)) {
    throw new Error(`input-sparse GEMV differs from the CPU reference by ${sparseErr}`);
  }
  // A repetition is DECODES_PER_REP decodes in one pass: one decode (µs) is far below Deno's
  // ~10 ms sleep in a synchronisation, which would swamp the sampler's batch sizing.
  const batchOf = (
    d: readonly Dispatch[],
  ) => [Array.from({ length: DECODES_PER_REP }, () => d).flat()];
  const timestamps = true;
  const dS = await createDispatchSampler(device, batchOf(dense!.reps[0]!), {
    targetMs: 50,
    timestamps,
  });
  const sS = await createDispatchSampler(device, batchOf(sparse.dispatches), {
    targetMs: 50,
    timestamps,
  });
  const denseMs: number[] = [];
  const sparseMs: number[] = [];
  let source = "";
  for (let r = 0; r < options.rounds; r++) {
    for (const s of r % 2 === 0 ? [dS, sS] : [sS, dS]) {
      const got = await s.sample();
      source = got.source;
      (s === dS ? denseMs : sparseMs).push(got.ms / DECODES_PER_REP);
    }
  }
  // A wall-slope sample of 0 (the larger batch no slower than the smaller, under load) measures
  // nothing: its round is left out, and counted.
  const kept = denseMs.map((d, i) => d > 0 && sparseMs[i]! > 0);
  return {
    denseMs: denseMs.filter((_, i) => kept[i]),
    sparseMs: sparseMs.filter((_, i) => kept[i]),
    droppedRounds: kept.filter((k) => !k).length,
    source,
    forms: {
      dense: `gemv ${dense!.label}`,
      sparse: `input-sparse${options.input === "list" ? " (list)" : ""} ${
        activeSparseTuningLabel(sparse.tuning)
      }`,
    },
    errors: { dense: dense!.err, sparse: sparseErr },
  };
}

/**
 * The speedup of sparse over dense with its paired bootstrap interval, and each side's summary.
 *
 * @param t A timing.
 * @returns Figures for the result rows.
 */
export function decoderSpeedup(t: DecoderTiming): {
  speedup: { value: number; low: number; high: number };
  dense: ReturnType<typeof summarize>;
  sparse: ReturnType<typeof summarize>;
} {
  const ci = bootstrapRatioCi(t.denseMs, t.sparseMs, { seed: 1 });
  return {
    speedup: { value: ci.estimate, low: ci.low, high: ci.high },
    dense: summarize(t.denseMs),
    sparse: summarize(t.sparseMs),
  };
}
