/**
 * Input-sparse GEMV for decoding (`skip_gemv.wgsl`, f32 or f16 transposed weights): the rule's
 * threshold is read from a GPU buffer, so per-token thresholds need no host round trip, and the
 * split-K partials are left for the next kernel to sum. CPU reference included.
 *
 * @module
 */

import source from "./skip_gemv.wgsl" with { type: "text" };
import f32Prelude from "./skip_gemv_f32.wgsl" with { type: "text" };
import f16Prelude from "./skip_gemv_f16.wgsl" with { type: "text" };
import partialsOut from "./skip_gemv_out_partials.wgsl" with { type: "text" };
import residualOut from "./skip_gemv_out_residual.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** Rows a staged split may hold (8 KiB of workgroup memory). */
const STAGE_MAX = 2048;

/** The rule on an input: `magnitude` keeps |x_j|·s_j > t, `value` keeps x_j > t. */
export type SkipRule = { kind: "magnitude"; scale?: Float32Array } | { kind: "value" };

/**
 * CPU reference: partials summed, y[n] = Σ_{j kept} h_j · wt[j, n], where h = x, or with
 * `normIn` h_j = x_j · g_j / sqrt(mean(x²) + eps) (RMSNorm applied on the fly).
 *
 * @param wt Transposed weight [k, n] (as stored: f16 values already rounded).
 * @param x Input [k].
 * @param options Width, rule, threshold and the fused norm.
 * @returns y and the number of inputs kept.
 */
export function skipGemvCpu(
  wt: Float32Array,
  x: Float32Array,
  options: {
    n: number;
    rule: SkipRule;
    threshold: number;
    normIn?: { eps: number; gain: Float32Array };
  },
): { y: Float32Array; kept: number } {
  const acc = new Float64Array(options.n);
  let kept = 0;
  let rstd = 1;
  if (options.normIn) {
    let ss = 0;
    for (const v of x) ss += v * v;
    rstd = 1 / Math.sqrt(ss / x.length + options.normIn.eps);
  }
  for (let j = 0; j < x.length; j++) {
    const v = options.normIn ? x[j]! * options.normIn.gain[j]! * rstd : x[j]!;
    const key = options.rule.kind === "value"
      ? v
      : Math.fround(Math.abs(v) * (options.rule.scale?.[j] ?? 1));
    if (!(key > options.threshold)) continue;
    kept++;
    for (let c = 0; c < options.n; c++) acc[c]! += v * wt[j * options.n + c]!;
  }
  return { y: Float32Array.from(acc), kept };
}

/** Launch shape. */
export interface SkipGemvTuning {
  /** Threads per workgroup (default 256). */
  workgroupSize?: number;
  /** Threads along the columns of a tile (the rest share rows; default 64, at most WG). */
  lanes?: number;
  /** Rows per split (default 128): fewer rows, more workgroups and more partials traffic. */
  rowsPerSplit?: number;
  /**
   * The split count itself (overrides rowsPerSplit): the kernel that finishes the sum reads
   * splits × n partials, so a fixed small count keeps that read short whatever k is.
   */
  splits?: number;
  /**
   * Compact each chunk's kept rows in workgroup memory before sweeping them (default true, the
   * form for GPUs); false tests each row as it is read (CPU adapters: no barriers, no atomics).
   */
  compact?: boolean;
  /**
   * Without compaction: copy each split's inputs into workgroup memory before the sweep
   * (default true; applies when a split holds at most 2,048 rows). CPU adapters leave it off.
   */
  stage?: boolean;
  /**
   * Without compaction: test and load eight rows per step instead of four (default false), so
   * that more weight loads are in flight per thread when half the rows are skipped.
   */
  deep?: boolean;
  /**
   * List each split's kept rows once, placed by a prefix sum over the threads (deterministic, no
   * atomics), then sweep the list eight rows at a time (default false; `compact` and `stage`
   * then do not apply). The list lives in workgroup memory, 8 bytes per row of a split: see
   * {@linkcode skipScanFits}.
   */
  scan?: boolean;
}

/** Workgroup memory of skip_gemv.wgsl besides the scan form's list, in bytes (WG threads). */
function fixedWorkgroupBytes(wg: number): number {
  // acc_lo, acc_hi (vec4 per thread), kept_row, kept_val, scan_sum (a word per thread), the two
  // counters and the 4-float token stage.
  return wg * (16 + 16 + 4 + 4 + 4) + 8 + 16;
}

/**
 * Whether the scan form fits a split of `k / splits` rows: the list needs 8 bytes per row within
 * the device's workgroup memory, and each thread tests at most 32 adjacent rows.
 *
 * @param device The device (its `maxComputeWorkgroupStorageSize`).
 * @param shape Input width and the launch shape.
 * @returns True when {@linkcode createSkipGemv} accepts `scan: true` for it.
 */
export function skipScanFits(
  device: { limits: { maxComputeWorkgroupStorageSize: number } },
  shape: { k: number; workgroupSize?: number; splits?: number; rowsPerSplit?: number },
): boolean {
  const wg = shape.workgroupSize ?? 256;
  const share = Math.ceil(shape.k / splitCount(shape));
  return share <= 32 * wg &&
    fixedWorkgroupBytes(wg) + 8 * share <= device.limits.maxComputeWorkgroupStorageSize;
}

function splitCount(t: { k: number; splits?: number; rowsPerSplit?: number }): number {
  return Math.max(
    1,
    Math.min(Math.ceil(t.k / 4), t.splits ?? Math.ceil(t.k / (t.rowsPerSplit ?? 128))),
  );
}

/**
 * The launch shape the suites use for a standalone input-sparse GEMV, fixed per adapter kind and
 * k so that two runs time the same kernel. GPUs: no compaction, 32 column lanes (a warp shares a
 * row, so skipping is uniform across it), and about 340 rows per split, which on the H200 gave
 * the dense GEMV's bandwidth with every row kept at both LLaMA-7B shapes (12 splits for k =
 * 4096, 32 for 11008). CPU adapters: one split, no staging. With `scan`, the scan form in the
 * same shares on GPUs.
 *
 * @param facts What the adapter says about itself.
 * @param shape The input width k, and whether to use the scan form.
 * @returns The tuning.
 */
export function skipGemvTuning(
  facts: { isFallbackAdapter: boolean },
  shape: { k: number; scan?: boolean },
): SkipGemvTuning {
  if (shape.scan) {
    // The scan form tests at most 32 rows per thread: CPU adapters split k into 2,048-row
    // shares (64 threads); GPUs keep the skip form's shares.
    const splits = facts.isFallbackAdapter
      ? Math.ceil(shape.k / 2048)
      : Math.max(1, Math.min(64, Math.round(shape.k / 340)));
    return facts.isFallbackAdapter
      ? { workgroupSize: 64, lanes: 64, splits, scan: true }
      : { workgroupSize: 256, lanes: 32, splits, scan: true };
  }
  if (facts.isFallbackAdapter) {
    return { workgroupSize: 64, lanes: 64, splits: 1, compact: false, stage: false };
  }
  return {
    workgroupSize: 256,
    lanes: 32,
    splits: Math.max(1, Math.min(64, Math.round(shape.k / 340))),
    compact: false,
    // Staged, the kernels suite read 4096x11008 f32 at 53 µs with every row kept on the H200; a
    // probe of the same loop reading x through the cache took 46 µs.
    stage: false,
  };
}

/**
 * A short label of a launch shape, for result rows.
 *
 * @param t The tuning.
 * @returns For example `WG=256,L=32,S=12,skip`.
 */
export function skipGemvTuningLabel(t: SkipGemvTuning): string {
  const form = t.scan
    ? "scan"
    : t.compact === false
    ? `${t.stage === false ? "skip" : "skip,staged"}${t.deep ? ",deep" : ""}`
    : "compact";
  return `WG=${t.workgroupSize ?? 256},L=${t.lanes ?? 64},S=${t.splits ?? "k/128"},${form}`;
}

/** An input-sparse GEMV ready to dispatch. */
export interface SkipGemvInstance {
  /** The dispatch. */
  dispatch: Dispatch;
  /** Partials [splits, n] (f32; with `residual`, the kernel's own scratch). */
  partials: GPUBuffer;
  /** Split count (rows of `partials`). */
  splits: number;
  /** Bytes of one weight row. */
  rowBytes: number;
  /**
   * With `residual`: Σx² of each column tile of the updated stream, written every run, for a
   * following fused RMSNorm (`normIn.sumsq`).
   */
  sumsq?: { buffer: GPUBuffer; tiles: number };
}

/**
 * Creates an input-sparse GEMV over a transposed weight already on the GPU.
 *
 * @param device The device.
 * @param options Shape, weight buffer ([k, n] row-major, f32 or f16), input, rule, the threshold
 *   buffer and slot, tuning.
 * @returns The instance.
 */
export async function createSkipGemv(
  device: GPUDevice,
  options: SkipGemvTuning & {
    label: string;
    k: number;
    n: number;
    dtype: "f32" | "f16";
    weightT: GPUBuffer;
    x: GPUBuffer;
    rule: SkipRule;
    thresholds: GPUBuffer;
    slot: number;
    /** Kept-input counters (u32 per slot; counts[slot] grows by the rows kept per run). */
    counts?: GPUBuffer;
    /**
     * RMSNorm fused in: `x` is the raw residual stream, the input is x_j · gain_j / rms(x),
     * and the rule's threshold applies to that normalised input.
     */
    normIn?: {
      eps: number;
      gain: GPUBuffer;
      /**
       * Σx² per column tile of the stream, as the residual GEMV that wrote it leaves them
       * ({@linkcode SkipGemvInstance.sumsq}); without it every workgroup sums x² itself.
       */
      sumsq?: { buffer: GPUBuffer; tiles: number };
    };
    /**
     * Output added into a residual stream [n] (f32) with the bias [n], by the last workgroup
     * of each column tile, instead of partials left for the next kernel.
     */
    residual?: { into: GPUBuffer; bias: GPUBuffer };
  },
): Promise<SkipGemvInstance> {
  const unitCols = options.dtype === "f16" ? 8 : 4;
  if (options.n % unitCols !== 0) {
    throw new RangeError(
      `${options.label}: output width ${options.n} must be a multiple of ${unitCols} for ${options.dtype} weights`,
    );
  }
  const wg = options.workgroupSize ?? 256;
  const units = options.n / unitCols;
  // The residual form's last workgroup holds one vec4 of the tile per thread.
  const maxLanes = options.residual ? Math.floor(wg / (unitCols / 4)) : wg;
  let lanes = Math.min(options.lanes ?? 64, maxLanes, units);
  while (wg % lanes !== 0) lanes--;
  if (options.residual && options.residual.into.size < options.n * 4) {
    throw new RangeError(
      `${options.label}: the residual stream holds ${options.residual.into.size} bytes, fewer than n = ${options.n} floats`,
    );
  }
  const tiles = Math.ceil(units / lanes);
  const splits = splitCount(options);
  const share = Math.ceil(options.k / splits);
  const scan = options.scan === true;
  if (scan && !skipScanFits(device, options)) {
    throw new RangeError(
      `${options.label}: a split of ${share} rows is too long for skip_gemv's scan form on this device; use more splits (k = ${options.k}, ${splits} splits)`,
    );
  }
  const compact = !scan && options.compact !== false;
  const stage = !scan && !compact && options.stage !== false && share <= STAGE_MAX;
  const scale = options.rule.kind === "magnitude" ? options.rule.scale : undefined;
  const pipeline = await createPipeline(device, {
    label: `${options.label} skip_gemv_${options.dtype}`,
    code: (options.dtype === "f16" ? f16Prelude : f32Prelude) +
      (options.residual ? residualOut : partialsOut) + source,
    constants: {
      WG: wg,
      MODE: options.rule.kind === "value" ? 1 : 0,
      SCALED: scale ? 1 : 0,
      COMPACT: compact ? 1 : 0,
      SCAN: scan ? 1 : 0,
      SCAN_MAX: scan ? share : 4,
      STAGE: stage ? 1 : 0,
      // Unstaged kernels keep a token array, so they claim no workgroup memory for it.
      STAGE_MAX: stage ? STAGE_MAX : 4,
      NORM_IN: options.normIn ? 1 : 0,
      DEEP: !scan && !compact && options.deep ? 1 : 0,
      SUMSQ_TILES: options.normIn?.sumsq?.tiles ?? 0,
    },
  });
  const partials = storageBuffer(device, `${options.label} partials`, splits * options.n * 4);
  const sumsq = options.residual
    ? storageBuffer(device, `${options.label} sumsq`, tiles * 4)
    : undefined;
  const dims = uniformBuffer(
    device,
    `${options.label} skip dims`,
    packUniform([
      { u32: options.k },
      { u32: units },
      { u32: splits },
      { u32: lanes },
      { u32: options.slot },
      { f32: options.normIn?.eps ?? 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, `${options.label} skip`, [
        options.weightT,
        options.x,
        storageBuffer(device, `${options.label} skip scale`, scale ?? new Float32Array(1)),
        options.thresholds,
        partials,
        dims,
        options.counts ??
          storageBuffer(device, `${options.label} counts`, (options.slot + 1) * 4),
        options.normIn?.gain ?? storageBuffer(device, `${options.label} no gain`, 4),
        options.normIn?.sumsq?.buffer ?? storageBuffer(device, `${options.label} no sumsq`, 4),
        ...(options.residual
          ? [
            options.residual.into,
            options.residual.bias,
            storageBuffer(device, `${options.label} arrivals`, tiles * 4),
            sumsq!,
          ]
          : []),
      ]),
      workgroups: [tiles, splits, 1],
    },
    partials,
    splits,
    rowBytes: options.n * (options.dtype === "f16" ? 2 : 4),
    ...(sumsq ? { sumsq: { buffer: sumsq, tiles } } : {}),
  };
}
