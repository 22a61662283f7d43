/**
 * The measurements of the `kernels` suite, and the state one run of it shares between cells (the
 * copy ceiling, each shape's dense time, the weights of the current shape). A run's state lives
 * in one {@linkcode KernelsRun}, made when the suite plans its cells, never in the module.
 *
 * @module
 */

import type { CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { acquireGpu } from "../kernels/gpu_device.ts";
import { createRng } from "../lib/prng.ts";
import { summarize } from "../src/stats.ts";
import { cloneBuffer, type Dispatch, readBuffer, runOnce, storageBuffer } from "../kernels/host.ts";
import { type KernelTime, timeDispatches } from "../kernels/gpu_timing.ts";
import { createGemv, gemvCpu, gemvWeightBuffer, roundToHalf } from "../kernels/gemv.ts";
import { createSelect, selectCpu } from "../kernels/select.ts";
import {
  type ActiveSparseGemvInstance,
  activeWeightBuffer,
  createActiveSparseGemv,
  createReduce,
  sparseGemvCpu,
  transpose,
} from "../kernels/sparse_gemv.ts";
import { type Ceiling, measureCopyCeiling } from "../kernels/copy.ts";
import {
  activeSparseSweep,
  type ActiveSparseTuning,
  activeSparseTuning,
  activeSparseTuningLabel,
  GEMV_SWEEP,
  GEMV_SWEEP_CPU,
  type GemvTuning,
  gemvTuningLabel,
} from "../kernels/tuning.ts";
import { wallClock } from "../src/timing.ts";
import { relativeError } from "../kernels/relative_error.ts";
import { createSkipGemv, skipGemvTuning, skipGemvTuningLabel } from "../kernels/skip_gemv.ts";
import { matMulModel } from "./_matmul_model.ts";
import { recordedGemv, recordedSource } from "./_kernels_recorded.ts";

/** A GEMV shape: `k` inputs (the sparse side), `n` outputs. */
export interface Shape {
  /** Id used in cell keys. */
  id: string;
  /** Inputs. */
  k: number;
  /** Outputs. */
  n: number;
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
    const ms = candidates.length === 1 ? 0 : (await timeDispatches(device, c.reps, {
      samples: 1,
      targetMs: 20,
      timestamps: true,
      preRoll: true,
    })).ms;
    screened.push({ ...c, ms });
  }
  screened.sort((a, b) => a.ms - b.ms);
  let winner: { best: T; time: KernelTime } | undefined;
  for (const c of screened.slice(0, options.finalists)) {
    const time = await timeDispatches(device, c.reps, {
      samples: options.samples,
      timestamps: true,
      preRoll: true,
    });
    if (!winner || time.ms < winner.time.ms) winner = { best: c, time };
  }
  return { ...winner!, screened };
}

/** The threshold that leaves exactly the fraction `sparsity` of |x| at or below it (-1 at 0). */
function exactThreshold(x: Float32Array, sparsity: number): number {
  if (sparsity === 0) return -1;
  const sorted = Float32Array.from(x, Math.abs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sparsity * sorted.length) - 1)]!;
}

/** How a {@linkcode KernelsRun} chooses the dense GEMV's launch shape. */
export interface KernelsRunOptions {
  /**
   * Time the whole sweep even where a launch shape is recorded for the adapter (the suite's
   * `--variant gemv-sweep`), to derive the winners on a new GPU or after a kernel change.
   */
  fullSweep?: boolean;
  /** Where recorded launch shapes are looked up (default {@linkcode recordedGemv}). */
  lookup?: typeof recordedGemv;
}

/** One run of the `kernels` suite: its shared state and the measurement of each kind of cell. */
export class KernelsRun {
  readonly #fullSweep: boolean;
  readonly #lookup: typeof recordedGemv;
  #ceiling: Ceiling | undefined;
  readonly #denseMs = new Map<string, number>();
  /** The current shape's weights (and their transpose), kept: LLaMA's take seconds to make. */
  #weights: { id: string; w: Float32Array; wt?: Float32Array; wtHalf?: Float32Array } | undefined;
  /** The current shape's transposed weights on the GPU in one precision, one per rotation copy. */
  #sparseWeights: { id: string; buffers: GPUBuffer[] } | undefined;

  /** @param options How the dense GEMV's launch shape is chosen. */
  constructor(options: KernelsRunOptions = {}) {
    this.#fullSweep = options.fullSweep ?? false;
    this.#lookup = options.lookup ?? recordedGemv;
  }

  /** @returns The compute-shader copy ceiling, measured once per run. */
  async ceiling(): Promise<Ceiling> {
    if (!this.#ceiling) {
      const { device, facts } = await acquireGpu();
      this.#ceiling = await measureCopyCeiling(
        device,
        facts.isFallbackAdapter ? 64 << 20 : 1 << 30,
      );
    }
    return this.#ceiling;
  }

  /**
   * The dense time of a shape in a precision: measured in this run, or, on resume, by the
   * interrupted one.
   *
   * @param shape The shape.
   * @param ctx Run context.
   * @param precision Weight precision (default f32).
   * @returns Milliseconds, or undefined before the dense cell has run.
   */
  denseMs(
    shape: Shape,
    ctx: CustomSuiteContext,
    precision: "f32" | "f16" = "f32",
  ): number | undefined {
    const key = `${shape.id}/${precision === "f16" ? "gemv-f16" : "gemv"}`;
    if (!this.#denseMs.has(key)) {
      const done = ctx.finished?.find((c) => c.key.endsWith(`|${key}`) && c.status === "completed");
      if (done?.time_median_ms) this.#denseMs.set(key, done.time_median_ms);
    }
    return this.#denseMs.get(key);
  }

  #weightsOf(
    shape: Shape,
  ): { w: Float32Array; wt: () => Float32Array; wtHalf: () => Float32Array } {
    if (this.#weights?.id !== shape.id) {
      this.#weights = undefined; // let the previous shape's arrays go first
      this.#weights = { id: shape.id, w: random(shape.n * shape.k, 1) };
    }
    const cache = this.#weights;
    const wt = () => (cache.wt ??= transpose(cache.w, shape.n, shape.k));
    return { w: cache.w, wt, wtHalf: () => (cache.wtHalf ??= roundToHalf(wt())) };
  }

  #sparseWeightCopies(
    device: GPUDevice,
    shape: Shape,
    options: { copies: number; precision: "f32" | "f16" },
  ): GPUBuffer[] {
    const id = `${shape.id}/${options.precision}`;
    if (this.#sparseWeights?.id !== id) {
      for (const b of this.#sparseWeights?.buffers ?? []) b.destroy();
      this.#sparseWeights = { id, buffers: [] };
    }
    const { buffers } = this.#sparseWeights;
    while (buffers.length < options.copies) {
      const label = `${shape.id} ${options.precision} #${buffers.length}`;
      buffers.push(
        buffers.length === 0
          ? activeWeightBuffer(device, label, {
            ...shape,
            weightT: this.#weightsOf(shape).wt(),
            precision: options.precision,
          })
          : cloneBuffer(device, buffers[0]!, `${label} Wt`),
      );
    }
    return buffers.slice(0, options.copies);
  }

  /** @returns The copy ceiling's row. */
  async copyCell(): Promise<Partial<CellResult>> {
    const c = await this.ceiling();
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

  /**
   * The dense GEMV. Where a launch shape is recorded for the adapter, shape and precision
   * (`_kernels_recorded.ts`) and the run does not ask for the full sweep, only it and its
   * recorded neighbours are built; otherwise every launch shape of the adapter's sweep (timed
   * trials). Each is checked against the CPU reference before any is timed, then screened with
   * one short timing (when there are several), the fastest three timed in full and the fastest
   * of those kept. Besides the common timing fields, `extra` holds `kernel` (`gemv`,
   * `gemv-f16`), `shape` (`KxN`), `tuning` (the kept launch shape), `launch_source` (where the
   * candidates came from: `recorded (RUN, …)` or `timed trials`), `ideal_speedup` (1) and, when
   * several were screened, `sweep_gb_per_s` (each candidate's screening figure, fastest first).
   *
   * @param shape The shape.
   * @param ctx Run context and the precision.
   * @returns The row.
   */
  async denseGemvCell(
    shape: Shape,
    ctx: CustomSuiteContext & { precision: "f32" | "f16" },
  ): Promise<Partial<CellResult>> {
    const { precision } = ctx;
    const { device, facts } = await acquireGpu();
    const ceil = await this.ceiling();
    const { w } = this.#weightsOf(shape);
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
    const recorded = this.#fullSweep ? undefined : this.#lookup(facts, shape, { dtype: precision });
    const candidates = recorded
      ? [recorded.gemv, ...(recorded.neighbours ?? []).map((c) => c.gemv)]
      : facts.isFallbackAdapter
      ? GEMV_SWEEP_CPU
      : GEMV_SWEEP;
    const launchSource = recorded ? recordedSource(recorded) : "timed trials";
    // Every candidate is checked against the CPU reference before any is timed.
    const built: { tuning: GemvTuning; reps: Dispatch[][] }[] = [];
    try {
      for (const [i, tuning] of candidates.entries()) {
        ctx.progress(
          `kernels: gemv ${precision} ${shape.id} ${gemvTuningLabel(tuning)} (${
            i + 1
          }/${candidates.length}, ${launchSource})`,
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
      const { best, time, screened } = await fastest(device, built, {
        finalists: 3,
        samples: ctx.quick ? 3 : 5,
      });
      this.#denseMs.set(`${shape.id}/${precision === "f16" ? "gemv-f16" : "gemv"}`, time.ms);
      const t = timing(time, bytes, ceil);
      return {
        ...t,
        speedup: precision === "f32" ? 1 : (this.denseMs(shape, ctx) ?? NaN) / time.ms,
        flops_dense: 2 * shape.n * shape.k,
        flops_effective: 2 * shape.n * shape.k,
        weight_bytes_effective: weightBytes,
        extra: {
          ...t.extra,
          kernel: precision === "f16" ? "gemv-f16" : "gemv",
          shape: `${shape.k}x${shape.n}`,
          tuning: gemvTuningLabel(best.tuning),
          launch_source: launchSource,
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

  /**
   * The input-sparse GEMV at one sparsity (`sparse_gemv_active.wgsl`): the threshold form
   * (compaction, sweep and reduction in one dispatch) or the indexed form (select.wgsl's list,
   * then the kernel), f32 or f16 weights. The row is the adapter's deterministic choice
   * (`activeSparseTuning`); its sweep neighbours are checked and screened too and reported in
   * `sweep_gb_per_s`, never swapped in. Bytes are what the sparsity leaves to move: the kept
   * rows, x and y.
   *
   * @param shape The shape.
   * @param ctx Run context, the sparsity, the form and the weight precision.
   * @returns The row.
   */
  async sparseCell(
    shape: Shape,
    ctx: CustomSuiteContext & { sparsity: number; indexed: boolean; precision: "f32" | "f16" },
  ): Promise<Partial<CellResult>> {
    const { sparsity, indexed, precision } = ctx;
    const { device, facts } = await acquireGpu();
    const ceil = await this.ceiling();
    const weightsOf = this.#weightsOf(shape);
    const wt = weightsOf.wt();
    const x = random(shape.k, 3 + Math.round(sparsity * 100));
    const threshold = exactThreshold(x, sparsity);
    const rule = { kind: "magnitude" as const, threshold };
    const kept = selectCpu(x, rule);
    const want = sparseGemvCpu(precision === "f16" ? weightsOf.wtHalf() : wt, kept, { n: shape.n });
    const active = kept.idx.length;
    const elementBytes = precision === "f16" ? 2 : 4;
    const copies = copiesFor(
      shape.n * shape.k * elementBytes * Math.max(0.05, 1 - sparsity),
      facts.isFallbackAdapter,
    );
    const xBuf = storageBuffer(device, `${shape.id} x`, x);
    const sel = indexed
      ? await createSelect(device, { label: `${shape.id} select`, n: shape.k, rule, input: xBuf })
      : undefined;
    const weights = this.#sparseWeightCopies(device, shape, { copies, precision });
    const chosen = activeSparseTuning(facts, { ...shape, precision, density: 1 - sparsity });
    // Each candidate is checked against the CPU reference before any is timed.
    const candidates = indexed ? [chosen] : activeSparseSweep(chosen);
    const built: { tuning: ActiveSparseTuning; reps: Dispatch[][] }[] = [];
    for (const asked of candidates) {
      ctx.progress(
        `kernels: sparse ${precision}${indexed ? " (indexed)" : ""} ${shape.id} s=${sparsity} ${
          activeSparseTuningLabel(asked)
        }`,
      );
      const reps: Dispatch[][] = [];
      let first: ActiveSparseGemvInstance | undefined;
      for (const [c, weightBuffer] of weights.entries()) {
        const inst = await createActiveSparseGemv(device, {
          label: `${shape.id} ${precision} #${c}`,
          k: shape.k,
          n: shape.n,
          precision,
          weightBuffer,
          input: sel
            ? { kind: "list", idx: sel.idx, vals: sel.vals, count: sel.count }
            : { kind: "threshold", x: xBuf, rule },
          tuning: asked,
        });
        reps.push(sel ? [sel.dispatch, ...inst.dispatches] : inst.dispatches);
        first ??= inst;
      }
      await runOnce(device, reps[0]!);
      const err = relativeError(await first!.read(), want);
      if (!(err <= 1e-5)) {
        throw new Error(
          `sparse gemv ${precision} ${shape.id} s=${sparsity} ${
            activeSparseTuningLabel(first!.tuning)
          } differs from the CPU reference by ${err}`,
        );
      }
      built.push({ tuning: first!.tuning, reps });
    }
    const bytes = active * shape.n * elementBytes + (shape.k + shape.n) * 4;
    const screened: { tuning: ActiveSparseTuning; ms: number }[] = [];
    if (built.length > 1) {
      for (const b of built) {
        screened.push({
          tuning: b.tuning,
          ms: (await timeDispatches(device, b.reps, {
            samples: 1,
            targetMs: 20,
            timestamps: true,
            preRoll: true,
          })).ms,
        });
      }
      screened.sort((a, b) => a.ms - b.ms);
    }
    const time = await timeDispatches(device, built[0]!.reps, {
      samples: ctx.quick ? 3 : 5,
      timestamps: true,
      preRoll: true,
    });
    const t = timing(time, bytes, ceil);
    const dense = this.denseMs(shape, ctx, precision);
    return {
      ...t,
      sparsity_target: sparsity,
      sparsity_realized: 1 - active / shape.k,
      speedup: dense !== undefined ? dense / time.ms : null,
      flops_dense: 2 * shape.n * shape.k,
      flops_effective: 2 * shape.n * active + 2 * shape.k,
      flops_reduction: (shape.n * shape.k) / (shape.n * active + shape.k),
      weight_bytes_effective: active * shape.n * elementBytes,
      extra: {
        ...t.extra,
        kernel: `input-sparse${indexed ? "-indexed" : ""}${precision === "f16" ? "-f16" : ""}`,
        shape: `${shape.k}x${shape.n}`,
        tuning: activeSparseTuningLabel(built[0]!.tuning),
        dispatches: built[0]!.reps[0]!.length,
        ideal_speedup: Number((1 / (1 - sparsity)).toFixed(3)),
        ...(screened.length > 0
          ? {
            sweep_gb_per_s: screened.map((c) =>
              `${activeSparseTuningLabel(c.tuning)}:${(bytes / (c.ms * 1e6)).toPrecision(3)}`
            ).join(" "),
          }
          : {}),
      },
    };
  }

  /**
   * The decode engine's input-sparse GEMV at one sparsity (`skip_gemv.wgsl`, the form without
   * compaction: each warp tests one row and a skipped row issues no load; with `scan`, the form
   * that lists each split's kept rows first), f32 or f16, in its deterministic launch shape
   * (`skipGemvTuning`). It leaves split-K partials, which in a decode
   * step the next kernel sums; here a `reduce.wgsl` pass finishes them, and the row's time is
   * both dispatches (the kernel alone is in `extra.kernel_only_ms`). Checked against the CPU
   * reference before it is timed.
   *
   * @param shape The shape.
   * @param ctx Run context, the sparsity and the weight precision.
   * @returns The row.
   */
  async skipCell(
    shape: Shape,
    ctx: CustomSuiteContext & { sparsity: number; precision: "f32" | "f16"; scan?: boolean },
  ): Promise<Partial<CellResult>> {
    const { sparsity, precision } = ctx;
    const form = ctx.scan ? "scan" : "skip";
    const { device, facts } = await acquireGpu();
    const ceil = await this.ceiling();
    const weightsOf = this.#weightsOf(shape);
    const x = random(shape.k, 3 + Math.round(sparsity * 100));
    const threshold = exactThreshold(x, sparsity);
    const kept = selectCpu(x, { kind: "magnitude", threshold });
    const want = sparseGemvCpu(precision === "f16" ? weightsOf.wtHalf() : weightsOf.wt(), kept, {
      n: shape.n,
    });
    const active = kept.idx.length;
    const elementBytes = precision === "f16" ? 2 : 4;
    const copies = copiesFor(
      shape.n * shape.k * elementBytes * Math.max(0.05, 1 - sparsity),
      facts.isFallbackAdapter,
    );
    const xBuf = storageBuffer(device, `${shape.id} skip x`, x);
    const thresholds = storageBuffer(device, `${shape.id} skip t`, new Float32Array([threshold]));
    const weights = this.#sparseWeightCopies(device, shape, { copies, precision });
    const tuning = skipGemvTuning(facts, { k: shape.k, scan: ctx.scan ?? false });
    ctx.progress(
      `kernels: ${form} ${precision} ${shape.id} s=${sparsity} ${skipGemvTuningLabel(tuning)}`,
    );
    const full: Dispatch[][] = [];
    const kernelOnly: Dispatch[][] = [];
    let firstY: GPUBuffer | undefined;
    for (const [c, weightT] of weights.entries()) {
      const g = await createSkipGemv(device, {
        label: `${shape.id} ${form} ${precision} #${c}`,
        k: shape.k,
        n: shape.n,
        dtype: precision,
        weightT,
        x: xBuf,
        rule: { kind: "magnitude" },
        thresholds,
        slot: 0,
        ...tuning,
      });
      const r = await createReduce(device, `${shape.id} skip ${precision} #${c}`, {
        cols: shape.n,
        splits: g.splits,
        partials: g.partials,
      });
      full.push([g.dispatch, r.dispatch]);
      kernelOnly.push([g.dispatch]);
      firstY ??= r.y;
    }
    await runOnce(device, full[0]!);
    const got = new Float32Array(await readBuffer(device, firstY!, shape.n * 4));
    const err = relativeError(got, want);
    if (!(err <= 1e-5)) {
      throw new Error(
        `${form} gemv ${precision} ${shape.id} s=${sparsity} differs from the CPU reference by ${err}`,
      );
    }
    const samples = ctx.quick ? 3 : 5;
    const time = await timeDispatches(device, full, { samples, timestamps: true, preRoll: true });
    const alone = await timeDispatches(device, kernelOnly, {
      samples,
      timestamps: true,
      preRoll: true,
    });
    const bytes = active * shape.n * elementBytes + (shape.k + shape.n) * 4;
    const t = timing(time, bytes, ceil);
    const dense = this.denseMs(shape, ctx, precision);
    return {
      ...t,
      sparsity_target: sparsity,
      sparsity_realized: 1 - active / shape.k,
      speedup: dense !== undefined ? dense / time.ms : null,
      flops_dense: 2 * shape.n * shape.k,
      flops_effective: 2 * shape.n * active + 2 * shape.k,
      flops_reduction: (shape.n * shape.k) / (shape.n * active + shape.k),
      weight_bytes_effective: active * shape.n * elementBytes,
      extra: {
        ...t.extra,
        kernel: `input-sparse-${form}${precision === "f16" ? "-f16" : ""}`,
        shape: `${shape.k}x${shape.n}`,
        tuning: skipGemvTuningLabel(tuning),
        dispatches: 2,
        ideal_speedup: Number((1 / Math.max(1e-9, 1 - sparsity)).toFixed(3)),
        kernel_only_ms: alone.ms,
        kernel_only_speedup: dense !== undefined ? Number((dense / alone.ms).toFixed(3)) : null,
      },
    };
  }

  /**
   * The fixed cost of one dispatch in a chain: a one-workgroup GEMV (4 inputs, 1 output) timed
   * like the kernels. The input-sparse GEMV is one dispatch (two with select or a reduce pass),
   * so this bounds how much of a short dense GEMV it can save.
   *
   * @param ctx Run context.
   * @returns The row.
   */
  async dispatchFloorCell(ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
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
      preRoll: true,
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

  /**
   * ORT-web's WebGPU MatMul on the same GEMV, the peer.
   *
   * @param shape The shape.
   * @param ctx Run context.
   * @returns The row.
   */
  async ortMatMulCell(shape: Shape, ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
    const backend = await ctx.backend("ort-webgpu");
    const why = await backend.probe();
    if (why) return { status: "skipped", error: why };
    const ceil = await this.ceiling();
    const { w, wt } = this.#weightsOf(shape);
    const model = matMulModel(shape, wt());
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
      const ours = this.denseMs(shape, ctx);
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
}
