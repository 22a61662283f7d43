/**
 * `kernels`: the WGSL kernels on their own, at the zoo models' FFN shapes and LLaMA-7B's
 * (4096×11008 up, 11008×4096 down). Per shape: the dense GEMV (f32, and f16 when the adapter has
 * `shader-f16`), the input-sparse GEMV (selection + sparse pass + reduce, all timed) over a
 * sparsity sweep, and ORT-web's WebGPU MatMul on the same GEMV as the peer. Every kernel is
 * checked against its CPU reference on fresh random inputs before it is timed; every figure comes
 * with bytes moved, GB/s and the percentage of the compute-shader copy ceiling measured in the
 * same run.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { summarize } from "../src/stats.ts";
import {
  cloneBuffer,
  type Dispatch,
  type KernelTime,
  runOnce,
  storageBuffer,
  timeDispatches,
} from "../kernels/host.ts";
import { createGemv, gemvCpu, gemvWeightBuffer, roundToHalf } from "../kernels/gemv.ts";
import { createSelect, selectCpu } from "../kernels/select.ts";
import {
  createMaskedSparseGemv,
  createSparseGemv,
  sparseGemvCpu,
  sparseWeightBuffer,
  transpose,
} from "../kernels/sparse_gemv.ts";
import { type Ceiling, measureCopyCeiling } from "../kernels/copy.ts";
import {
  defaultTuning,
  GEMV_SWEEP,
  GEMV_SWEEP_CPU,
  type GemvTuning,
  gemvTuningLabel,
} from "../kernels/tuning.ts";
import { createBackend } from "../src/backends/mod.ts";
import { DataType, encodeModel } from "../src/onnx/model.ts";
import { floatTensor } from "../src/onnx/tensor_data.ts";
import { wallClock } from "../src/timing.ts";
import { relativeError } from "../kernels/relative_error.ts";

/** A GEMV shape: `k` inputs (the sparse side), `n` outputs. */
interface Shape {
  id: string;
  k: number;
  n: number;
}

const ZOO_SHAPES: Shape[] = [
  { id: "mlp-fc2-512x512", k: 512, n: 512 },
  { id: "vit-up-128x512", k: 128, n: 512 },
  { id: "vit-down-512x128", k: 512, n: 128 },
  { id: "lm-up-192x640", k: 192, n: 640 },
  { id: "lm-down-640x192", k: 640, n: 192 },
];
const LLAMA_SHAPES: Shape[] = [
  { id: "llama7b-up-4096x11008", k: 4096, n: 11008 },
  { id: "llama7b-down-11008x4096", k: 11008, n: 4096 },
];
const SPARSITIES = [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95];
const QUICK_SPARSITIES = [0.5, 0.9];

function shapesFor(quick: boolean): Shape[] {
  return quick ? [ZOO_SHAPES[4]!] : [...LLAMA_SHAPES, ...ZOO_SHAPES];
}

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  // A plain loop: Float32Array.from with a mapping function takes seconds at LLaMA's 45 M.
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    out[i] = Math.abs(v) < 1e-3 ? 0.5 : v;
  }
  return out;
}

/** The current shape's weights (and their transpose), kept: LLaMA's take seconds to make. */
let weightCache: { id: string; w: Float32Array; wt?: Float32Array } | undefined;

function weightsOf(shape: Shape): { w: Float32Array; wt: () => Float32Array } {
  if (weightCache?.id !== shape.id) {
    weightCache = undefined; // let the previous shape's arrays go first
    weightCache = { id: shape.id, w: random(shape.n * shape.k, 1) };
  }
  const cache = weightCache;
  return { w: cache.w, wt: () => (cache.wt ??= transpose(cache.w, shape.n, shape.k)) };
}

/** State shared by the cells of one run: the ceiling and each shape's dense time. */
const state: {
  ceiling?: Ceiling;
  denseMs: Map<string, number>;
} = {
  denseMs: new Map(),
};

async function ceiling(): Promise<Ceiling> {
  if (!state.ceiling) {
    const { device, facts } = await acquireGpu();
    state.ceiling = await measureCopyCeiling(device, facts.isFallbackAdapter ? 64 << 20 : 1 << 30);
  }
  return state.ceiling;
}

/** A launch shape of the masked sparse GEMV (see `sparse_gemv_masked.wgsl`). */
interface MaskedTuning {
  unroll: number;
  /** Compact kept rows in workgroup memory first (the GPU form). */
  compact: boolean;
  /** vec4 columns per thread of the uncompacted form. */
  columnsPerThread?: number;
  workgroupSize?: number;
  /** Split-K count as a fraction of the default (which aims at 2,048 workgroups). */
  splitScale?: number;
}

/** The masked sparse GEMV launch shapes the suite tries on a GPU. */
const MASKED_SWEEP: readonly MaskedTuning[] = [
  { unroll: 4, compact: true },
  { unroll: 2, compact: true },
  { unroll: 4, compact: true, workgroupSize: 128 },
  { unroll: 4, compact: true, splitScale: 0.25 },
  { unroll: 4, compact: true, splitScale: 4 },
  { unroll: 4, compact: true, workgroupSize: 64, splitScale: 0.25 },
  // The uncompacted form that the previous H200 run measured, for comparison.
  { unroll: 4, compact: false, splitScale: 0.25 },
];

/** The current shape's transposed weights on the GPU, one per rotation copy, kept across cells. */
let sparseWeightCache: { id: string; buffers: GPUBuffer[] } | undefined;

function sparseWeights(device: GPUDevice, shape: Shape, copies: number): GPUBuffer[] {
  if (sparseWeightCache?.id !== shape.id) {
    for (const b of sparseWeightCache?.buffers ?? []) b.destroy();
    sparseWeightCache = { id: shape.id, buffers: [] };
  }
  const { buffers } = sparseWeightCache;
  while (buffers.length < copies) {
    const label = `${shape.id} #${buffers.length}`;
    buffers.push(
      buffers.length === 0
        ? sparseWeightBuffer(device, label, { ...shape, weightT: weightsOf(shape).wt() })
        : cloneBuffer(device, buffers[0]!, `${label} Wt`),
    );
  }
  return buffers.slice(0, copies);
}

/** Copies of a weight so the rotation exceeds the GPU's L2 (none on CPU adapters). */
function copiesFor(bytes: number, fallback: boolean): number {
  return fallback ? 1 : Math.max(1, Math.min(32, Math.ceil((256 << 20) / bytes)));
}

function timing(
  t: Pick<KernelTime, "ms" | "samplesMs"> & Partial<KernelTime>,
  bytes: number,
  ceil: Ceiling,
): Partial<CellResult> {
  const s = summarize(t.samplesMs);
  const gbPerS = bytes / (t.ms * 1e6);
  return {
    time_median_ms: t.ms,
    time_p10_ms: s.p10Ms,
    time_p90_ms: s.p90Ms,
    time_mad_ms: s.madMs,
    runs: s.count,
    outliers: s.outliers,
    samples_ms: t.samplesMs,
    extra: {
      bytes_moved: bytes,
      gb_per_s: Number(gbPerS.toFixed(2)),
      pct_of_ceiling: Number(((100 * gbPerS) / ceil.gbPerS).toFixed(1)),
      ceiling_gb_per_s: Number(ceil.gbPerS.toFixed(2)),
      ...(t.source ? { timing: t.source } : {}),
      ...(t.ticksPerRep !== undefined
        ? { ticks_per_rep: Math.round(t.ticksPerRep), ns_per_tick: Number(t.nsPerTick!.toFixed(3)) }
        : {}),
    },
  };
}

/**
 * The fastest of several validated launch shapes: each is screened with one short timing, the
 * `finalists` fastest are timed in full, and the fastest of those wins (a lone candidate is
 * timed in full directly). Also returns every screening time, fastest first.
 */
async function fastest<T extends { reps: Dispatch[][] }>(
  device: GPUDevice,
  candidates: readonly T[],
  options: { finalists: number; samples: number },
): Promise<{ best: T; time: KernelTime; screened: (T & { ms: number })[] }> {
  const screened: (T & { ms: number })[] = [];
  for (const c of candidates) {
    const ms = candidates.length === 1
      ? 0
      : (await timeDispatches(device, c.reps, { samples: 1, targetMs: 20 })).ms;
    screened.push({ ...c, ms });
  }
  screened.sort((a, b) => a.ms - b.ms);
  let winner: { best: T; time: KernelTime } | undefined;
  for (const c of screened.slice(0, options.finalists)) {
    const time = await timeDispatches(device, c.reps, {
      samples: options.samples,
      timestamps: true,
    });
    if (!winner || time.ms < winner.time.ms) winner = { best: c, time };
  }
  return { ...winner!, screened };
}

async function denseGemvCell(
  shape: Shape,
  precision: "f32" | "f16",
  ctx: CustomSuiteContext,
): Promise<Partial<CellResult>> {
  const { device, facts } = await acquireGpu();
  const ceil = await ceiling();
  const { w } = weightsOf(shape);
  const x = random(shape.k, 2);
  const want = gemvCpu(precision === "f16" ? roundToHalf(w) : w, x, {
    rows: shape.n,
    cols: shape.k,
  });
  const weightBytes = shape.n * shape.k * (precision === "f16" ? 2 : 4);
  const bytes = weightBytes + (shape.k + shape.n) * 4;
  const copies = copiesFor(weightBytes, facts.isFallbackAdapter);
  const weights: GPUBuffer[] = [];
  for (let c = 0; c < copies; c++) {
    const label = `${shape.id} ${precision} #${c}`;
    weights.push(
      c === 0
        ? gemvWeightBuffer(device, { label, rows: shape.n, cols: shape.k, weight: w, precision })
        : cloneBuffer(device, weights[0]!, label),
    );
  }
  const candidates = facts.isFallbackAdapter ? GEMV_SWEEP_CPU : GEMV_SWEEP;
  // Every candidate is checked against the CPU reference before any is timed.
  const built: { tuning: GemvTuning; reps: Dispatch[][] }[] = [];
  try {
    for (const [i, tuning] of candidates.entries()) {
      ctx.progress(
        `kernels: gemv ${precision} ${shape.id} ${gemvTuningLabel(tuning)} (${
          i + 1
        }/${candidates.length})`,
      );
      const instances = [];
      for (const [c, weightBuffer] of weights.entries()) {
        const g = await createGemv(device, {
          label: `${shape.id} ${precision} #${c}`,
          rows: shape.n,
          cols: shape.k,
          weight: w,
          weightBuffer,
          precision,
          ...tuning,
        });
        g.writeInput(x);
        instances.push(g);
      }
      await runOnce(device, [instances[0]!.dispatch]);
      const err = relativeError(await instances[0]!.read(), want);
      if (!(err <= (precision === "f16" ? 1e-2 : 1e-5))) {
        throw new Error(
          `gemv ${precision} ${shape.id} ${
            gemvTuningLabel(tuning)
          } differs from the CPU reference by ${err}`,
        );
      }
      built.push({ tuning, reps: instances.map((g) => [g.dispatch]) });
    }
    const { best: winner, time, screened } = await fastest(device, built, {
      finalists: 3,
      samples: ctx.quick ? 3 : 5,
    });
    const best = { tuning: winner.tuning, time };
    if (precision === "f32") {
      state.denseMs.set(shape.id, best.time.ms);
    }
    const t = timing(best.time, bytes, ceil);
    return {
      ...t,
      speedup: precision === "f32" ? 1 : (state.denseMs.get(shape.id) ?? NaN) / best.time.ms,
      flops_dense: 2 * shape.n * shape.k,
      flops_effective: 2 * shape.n * shape.k,
      weight_bytes_effective: weightBytes,
      extra: {
        ...t.extra,
        kernel: precision === "f16" ? "gemv-f16" : "gemv",
        shape: `${shape.k}x${shape.n}`,
        tuning: gemvTuningLabel(best.tuning),
        ideal_speedup: 1,
        // The screening figures of every candidate (GB/s from one short slope each).
        ...(screened.length > 1
          ? {
            sweep_gb_per_s: screened.map((c) =>
              `${gemvTuningLabel(c.tuning)}:${(bytes / (c.ms * 1e6)).toPrecision(3)}`
            ).join(" "),
          }
          : {}),
      },
    };
  } finally {
    for (const b of weights) b.destroy();
  }
}

async function sparseCell(
  shape: Shape,
  sparsity: number,
  indexed: boolean,
  ctx: CustomSuiteContext,
): Promise<Partial<CellResult>> {
  const { device, facts } = await acquireGpu();
  const ceil = await ceiling();
  const tuning = defaultTuning(facts).sparse;
  const wt = weightsOf(shape).wt();
  const x = random(shape.k, 3 + Math.round(sparsity * 100));
  // The threshold that leaves exactly the target fraction of |x| at or below it.
  const sorted = Float32Array.from(x, Math.abs).sort();
  const threshold = sparsity === 0
    ? -1
    : sorted[Math.min(sorted.length - 1, Math.floor(sparsity * sorted.length) - 1)]!;
  const rule = { kind: "magnitude" as const, threshold };
  const kept = selectCpu(x, rule);
  const want = sparseGemvCpu(wt, kept, { n: shape.n });
  const active = kept.idx.length;
  const copies = copiesFor(
    shape.n * shape.k * 4 * Math.max(0.05, 1 - sparsity),
    facts.isFallbackAdapter,
  );
  const xBuf = storageBuffer(device, `${shape.id} x`, x);
  const sel = indexed
    ? await createSelect(device, { label: `${shape.id} select`, n: shape.k, rule, input: xBuf })
    : undefined;
  const weights = sparseWeights(device, shape, copies);
  // Each candidate is checked against the CPU reference before any is timed.
  const candidates: (MaskedTuning | undefined)[] = indexed
    ? [undefined]
    : facts.isFallbackAdapter
    ? [
      { unroll: 1, compact: false },
      { unroll: 4, compact: false },
      { unroll: 1, compact: false, columnsPerThread: 2 },
      { unroll: 1, compact: false, columnsPerThread: 4 },
    ]
    : [...MASKED_SWEEP];
  const built: { label: string; reps: Dispatch[][]; splits: number }[] = [];
  for (const masked of candidates) {
    const wg = masked?.workgroupSize ?? tuning.workgroupSize;
    const label = `WG=${wg}${
      masked
        ? `,U=${masked.unroll},${masked.compact ? "compact" : "branchy"}${
          masked.columnsPerThread ? `,CPT=${masked.columnsPerThread}` : ""
        }`
        : ""
    }`;
    ctx.progress(
      `kernels: sparse${indexed ? " (indexed)" : ""} ${shape.id} s=${sparsity} ${label}`,
    );
    const reps: Dispatch[][] = [];
    let first: { read(): Promise<Float32Array> } | undefined;
    let splits = 0;
    for (const [c, weightBuffer] of weights.entries()) {
      const inst = sel
        ? await createSparseGemv(device, {
          label: `${shape.id} #${c}`,
          k: shape.k,
          n: shape.n,
          weightT: wt,
          weightBuffer,
          idx: sel.idx,
          vals: sel.vals,
          count: sel.count,
          ...tuning,
        })
        : await createMaskedSparseGemv(device, {
          label: `${shape.id} #${c}`,
          k: shape.k,
          n: shape.n,
          weightT: wt,
          weightBuffer,
          x: xBuf,
          rule,
          ...tuning,
          workgroupSize: wg,
          ...(masked?.splitScale ? { splitScale: masked.splitScale } : {}),
          unroll: masked!.unroll,
          compact: masked!.compact,
          ...(masked!.columnsPerThread ? { columnsPerThread: masked!.columnsPerThread } : {}),
        });
      reps.push(sel ? [sel.dispatch, ...inst.dispatches] : inst.dispatches);
      first ??= inst;
      splits = inst.splits;
    }
    await runOnce(device, reps[0]!);
    const err = relativeError(await first!.read(), want);
    if (!(err <= 1e-5)) {
      throw new Error(
        `sparse gemv ${shape.id} s=${sparsity} ${label} differs from the CPU reference by ${err}`,
      );
    }
    built.push({ label, reps, splits });
  }
  const { best: { splits, label }, time } = await fastest(device, built, {
    finalists: 1,
    samples: ctx.quick ? 3 : 5,
  });
  const selectBytes = indexed ? shape.k * 4 + active * 8 : 0;
  const bytes = shape.k * 4 + selectBytes + active * shape.n * 4 + 2 * splits * shape.n * 4 +
    shape.n * 4;
  const t = timing(time, bytes, ceil);
  const dense = state.denseMs.get(shape.id);
  return {
    ...t,
    sparsity_target: sparsity,
    sparsity_realized: 1 - active / shape.k,
    speedup: dense !== undefined ? dense / time.ms : null,
    flops_dense: 2 * shape.n * shape.k,
    flops_effective: 2 * shape.n * active + 2 * shape.k,
    flops_reduction: (shape.n * shape.k) / (shape.n * active + shape.k),
    weight_bytes_effective: active * shape.n * 4,
    extra: {
      ...t.extra,
      kernel: indexed ? "input-sparse-indexed" : "input-sparse",
      shape: `${shape.k}x${shape.n}`,
      tuning: `${label},splits=${splits}`,
      ideal_speedup: Number((1 / (1 - sparsity)).toFixed(3)),
    },
  };
}

/**
 * The fixed cost of one dispatch in a chain: a one-workgroup GEMV (4 inputs, 1 output) timed
 * like the kernels. A sparse GEMV is two or three dispatches (select, sparse pass, reduce), so
 * this bounds how much of a short dense GEMV it can save.
 */
async function dispatchFloorCell(ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
  const { device } = await acquireGpu();
  const g = await createGemv(device, {
    label: "dispatch floor",
    rows: 1,
    cols: 4,
    weight: new Float32Array([1, 2, 3, 4]),
    threadsPerRow: 1,
    rowsPerWorkgroup: 1,
  });
  g.writeInput(new Float32Array([1, 1, 1, 1]));
  await runOnce(device, [g.dispatch]);
  const [y] = await g.read();
  if (y !== 10) throw new Error(`dispatch floor: the 1×4 GEMV returned ${y}, not 10`);
  ctx.progress("kernels: dispatch floor");
  const time = await timeDispatches(device, [[g.dispatch]], {
    samples: ctx.quick ? 3 : 5,
    timestamps: true,
  });
  const s = summarize(time.samplesMs);
  return {
    time_median_ms: time.ms,
    time_p10_ms: s.p10Ms,
    time_p90_ms: s.p90Ms,
    time_mad_ms: s.madMs,
    runs: s.count,
    outliers: s.outliers,
    samples_ms: time.samplesMs,
    extra: { kernel: "dispatch-floor", timing: time.source },
  };
}

async function ortMatMulCell(shape: Shape, ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
  const backend = await createBackend("ort-webgpu");
  const why = await backend.probe();
  if (why) return { status: "skipped", error: why };
  const ceil = await ceiling();
  const { w, wt } = weightsOf(shape);
  // MatMul(x, W) with W stored [k, n], as torch exports a Linear applied to a 2-D input.
  const model = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "gemv",
      node: [{ name: "matmul", opType: "MatMul", input: ["x", "W"], output: ["y"] }],
      initializer: [floatTensor("W", [shape.k, shape.n], wt())],
      input: [{
        name: "x",
        type: {
          tensorType: {
            elemType: DataType.FLOAT,
            shape: { dim: [{ dimValue: 1 }, { dimValue: shape.k }] },
          },
        },
      }],
      output: [{
        name: "y",
        type: {
          tensorType: {
            elemType: DataType.FLOAT,
            shape: { dim: [{ dimValue: 1 }, { dimValue: shape.n }] },
          },
        },
      }],
    },
  });
  const x = random(shape.k, 2);
  const feeds = { x: { type: "float32" as const, data: x, dims: [1, shape.k] } };
  ctx.progress(`kernels: ORT-web MatMul ${shape.id}`);
  const loaded = await backend.load(model, { label: `MatMul ${shape.id}`, feeds });
  try {
    const got = (await loaded.run(feeds)).y!.data as Float32Array;
    const err = relativeError(got, gemvCpu(w, x, { rows: shape.n, cols: shape.k }));
    if (!(err <= 1e-4)) {
      throw new Error(`ORT MatMul ${shape.id} differs from the CPU reference by ${err}`);
    }
    const sampler = loaded.sampler(feeds, "ort");
    const samples: number[] = [];
    for (let i = 0; i < (ctx.quick ? 3 : 5); i++) samples.push(await sampler.sample(wallClock));
    samples.sort((a, b) => a - b);
    const ms = samples[Math.floor(samples.length / 2)]!;
    const bytes = shape.n * shape.k * 4 + (shape.k + shape.n) * 4;
    const t = timing({ ms, samplesMs: samples }, bytes, ceil);
    const ours = state.denseMs.get(shape.id);
    return {
      ...t,
      cold_ms: loaded.coldMs,
      sync_latency_ms: await loaded.syncLatencyMs(feeds),
      speedup: ours !== undefined ? ours / ms : null,
      flops_dense: 2 * shape.n * shape.k,
      flops_effective: 2 * shape.n * shape.k,
      extra: {
        ...t.extra,
        kernel: "ort-matmul",
        shape: `${shape.k}x${shape.n}`,
        wgsl_gemv_vs_ort: ours !== undefined ? Number((ms / ours).toFixed(2)) : null,
      },
    };
  } finally {
    await loaded.release();
  }
}

export default defineSuite({
  kind: "custom",
  id: "kernels",
  title: "WGSL kernels: dense and input-sparse GEMV vs the copy ceiling and ORT-web's MatMul",
  description:
    "Dense GEMV (f32/f16) and input-sparse GEMV across sparsities at the zoo's FFN shapes and LLaMA-7B's, with GB/s and % of the compute-copy ceiling; ORT-web WebGPU MatMul as the peer.",
  targets: ["wgsl", "ort-webgpu"],
  inDefault: true,
  seed: 1,
  files: [
    "kernels/gemv.wgsl",
    "kernels/gemv_weights_f32.wgsl",
    "kernels/gemv_weights_f16.wgsl",
    "kernels/select.wgsl",
    "kernels/sparse_gemv.wgsl",
    "kernels/sparse_gemv_masked.wgsl",
    "kernels/sparse_gemv_compact.wgsl",
    "kernels/reduce.wgsl",
    "kernels/copy.wgsl",
  ],
  async plan(ctx): Promise<CustomCell[]> {
    const cells: CustomCell[] = [];
    if (!ctx.targets.includes("wgsl")) return cells;
    const gpu = await acquireGpu().catch(() => undefined);
    cells.push({ key: "copy", target: "wgsl", method: "copy", label: "copy ceiling" });
    cells.push({
      key: "dispatch-floor",
      target: "wgsl",
      method: "dispatch-floor",
      label: "dispatch floor",
    });
    for (const shape of shapesFor(ctx.quick)) {
      cells.push({
        key: `${shape.id}/gemv`,
        target: "wgsl",
        method: "gemv",
        label: `gemv ${shape.id}`,
      });
      if (gpu?.hasF16) {
        cells.push({
          key: `${shape.id}/gemv-f16`,
          target: "wgsl",
          method: "gemv-f16",
          label: `gemv f16 ${shape.id}`,
        });
      }
      for (const s of ctx.quick ? QUICK_SPARSITIES : SPARSITIES) {
        cells.push({
          key: `${shape.id}/input-sparse@${s}`,
          target: "wgsl",
          method: "input-sparse",
          label: `sparse ${shape.id} s=${s}`,
        });
      }
      for (const s of QUICK_SPARSITIES) {
        cells.push({
          key: `${shape.id}/input-sparse-indexed@${s}`,
          target: "wgsl",
          method: "input-sparse-indexed",
          label: `indexed sparse ${shape.id} s=${s}`,
        });
      }
      if (ctx.targets.includes("ort-webgpu")) {
        cells.push({
          key: `${shape.id}/ort-matmul`,
          target: "ort-webgpu",
          method: "ort-matmul",
          label: `ORT MatMul ${shape.id}`,
        });
      }
    }
    return cells;
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (cell.key === "copy") {
      const c = await ceiling();
      return {
        time_median_ms: c.ms,
        extra: {
          kernel: "copy",
          bytes_moved: c.bytes,
          gb_per_s: Number(c.gbPerS.toFixed(2)),
          pct_of_ceiling: 100,
          ceiling_gb_per_s: Number(c.gbPerS.toFixed(2)),
          timing: c.source,
        },
      };
    }
    if (cell.key === "dispatch-floor") return await dispatchFloorCell(ctx);
    const [shapeId, kind] = cell.key.split("/") as [string, string];
    const shape = [...ZOO_SHAPES, ...LLAMA_SHAPES].find((s) => s.id === shapeId)!;
    // On resume, the dense time of a shape may come from the interrupted run.
    if (!state.denseMs.has(shape.id)) {
      const done = ctx.finished?.find((c) =>
        c.key.endsWith(`|${shape.id}/gemv`) && c.status === "completed"
      );
      if (done?.time_median_ms) state.denseMs.set(shape.id, done.time_median_ms);
    }
    if (kind === "gemv") return await denseGemvCell(shape, "f32", ctx);
    if (kind === "gemv-f16") return await denseGemvCell(shape, "f16", ctx);
    if (kind === "ort-matmul") return await ortMatMulCell(shape, ctx);
    const s = Number(kind.split("@")[1]);
    return await sparseCell(shape, s, kind.startsWith("input-sparse-indexed"), ctx);
  },
});
