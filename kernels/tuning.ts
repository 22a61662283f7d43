/**
 * Default launch shapes per kind of adapter. GPUs want many threads per row and coalesced loads;
 * CPU adapters (llvmpipe runs a workgroup's threads as SIMD lanes, and every workgroup barrier
 * costs a context switch) want one thread per row and small workgroups. The `kernels` suite
 * sweeps the GEMV shapes and records the winner; these defaults are what the FFN pipelines and
 * the `wgsl` backend use.
 *
 * @module
 */

import type { AdapterFacts } from "./gpu_device.ts";

/** Launch shapes of the kernels. */
export interface Tuning {
  /** Dense GEMV launch shape (see `gemv.wgsl`). */
  gemv: GemvTuning;
  /**
   * Sparse GEMV: workgroup size, split-K count (undefined: enough to fill the device), and how
   * many threads share one column in the reduction of the splits.
   */
  sparse: { workgroupSize: number; splits?: number; reduceSlices: number };
  /**
   * Whether fixed-threshold rules use the masked kernel (each input tested as the rows are read,
   * no compaction; meant for GPUs) or select → indexed kernel (CPU adapters, where a skipped row
   * still costs a loop iteration per thread).
   */
  masked: boolean;
  /** Gathered GEMV: one thread per row (CPU adapters) or one workgroup per row, and its size. */
  gather: { rowPerThread: boolean; workgroupSize: number };
}

/**
 * The default tuning for an adapter.
 *
 * @param facts Adapter facts.
 * @returns Tuning.
 */
export function defaultTuning(facts: Pick<AdapterFacts, "isFallbackAdapter">): Tuning {
  if (facts.isFallbackAdapter) {
    return {
      // Four rows per thread share each x load, 16 threads per workgroup: the fastest of the
      // kernels suite's CPU sweep at all five zoo shapes on llvmpipe (run 20261130T084409Z-vm-210e).
      gemv: { threadsPerRow: 1, rowsPerWorkgroup: 64, rowsPerThread: 4 },
      sparse: { workgroupSize: 64, splits: 8, reduceSlices: 1 },
      masked: false,
      gather: { rowPerThread: true, workgroupSize: 64 },
    };
  }
  return {
    gemv: { threadsPerRow: 64, rowsPerWorkgroup: 4 },
    sparse: { workgroupSize: 256, reduceSlices: 8 },
    masked: true,
    gather: { rowPerThread: false, workgroupSize: 128 },
  };
}

/** Dense GEMV launch shape: the overrides of `gemv.wgsl`. */
export interface GemvTuning {
  /** Threads per row (TX), a power of two. */
  threadsPerRow: number;
  /** Output rows per workgroup (TY × RPT). */
  rowsPerWorkgroup: number;
  /** Output rows per thread (RPT): 1, 2 or 4. */
  rowsPerThread?: number;
  /** vec4 loads in flight per row and iteration (UNROLL): 2 or 4. */
  unroll?: number;
  /** Rotate each workgroup's starting column (STAGGER). */
  stagger?: boolean;
}

/**
 * Dense GEMV shapes the kernels suite sweeps on a GPU: 256 threads per workgroup split into
 * threads per row × thread rows, each with 1, 2 or 4 rows per thread, 2 or 4 loads in flight,
 * with and without the column stagger (48 in all).
 */
export const GEMV_SWEEP: readonly GemvTuning[] = [32, 64, 128, 256].flatMap((tx) =>
  [1, 2, 4].flatMap((rpt) =>
    [2, 4].flatMap((unroll) =>
      [false, true].map((stagger) => ({
        threadsPerRow: tx,
        rowsPerWorkgroup: (256 / tx) * rpt,
        rowsPerThread: rpt,
        unroll,
        stagger,
      }))
    )
  )
);

/** Dense GEMV shapes the kernels suite sweeps on a CPU adapter: one thread per row. */
export const GEMV_SWEEP_CPU: readonly GemvTuning[] = [1, 2, 4].flatMap((rpt) =>
  [16, 64].map((threads) => ({
    threadsPerRow: 1,
    rowsPerWorkgroup: threads * rpt,
    rowsPerThread: rpt,
  }))
);

/**
 * A short label of a GEMV tuning, e.g. `TX=64,TY=4,RPT=1,U=2,S=0`.
 *
 * @param t Tuning.
 * @returns Label.
 */
export function gemvTuningLabel(t: GemvTuning): string {
  const rpt = t.rowsPerThread ?? 1;
  return `TX=${t.threadsPerRow},TY=${t.rowsPerWorkgroup / rpt},RPT=${rpt},U=${t.unroll ?? 2},S=${
    t.stagger ? 1 : 0
  }`;
}

/** A launch shape of the masked sparse GEMV (see `sparse_gemv_masked.wgsl`). */
export interface MaskedTuning {
  /** Rows per iteration, 1, 2 or 4. */
  unroll: number;
  /** Compact kept rows in workgroup memory first (the GPU form). */
  compact: boolean;
  /** vec4 columns per thread of the uncompacted form. */
  columnsPerThread?: number;
  /** Threads per workgroup. */
  workgroupSize?: number;
  /** Split-K count as a fraction of the default (which aims at 2,048 workgroups). */
  splitScale?: number;
}

/** The masked sparse GEMV launch shapes the kernels suite tries on a GPU. */
export const MASKED_SWEEP: readonly MaskedTuning[] = [
  { unroll: 4, compact: true },
  { unroll: 2, compact: true },
  { unroll: 4, compact: true, workgroupSize: 128 },
  { unroll: 4, compact: true, splitScale: 0.25 },
  { unroll: 4, compact: true, splitScale: 4 },
  { unroll: 4, compact: true, workgroupSize: 64, splitScale: 0.25 },
  // The uncompacted form that the previous H200 run measured, for comparison.
  { unroll: 4, compact: false, splitScale: 0.25 },
];

/** The masked sparse GEMV launch shapes the kernels suite tries on a CPU adapter. */
export const MASKED_SWEEP_CPU: readonly MaskedTuning[] = [
  { unroll: 1, compact: false },
  { unroll: 4, compact: false },
  { unroll: 1, compact: false, columnsPerThread: 2 },
  { unroll: 1, compact: false, columnsPerThread: 4 },
];

/**
 * A short label of a masked sparse GEMV tuning, e.g. `WG=256,U=4,compact`.
 *
 * @param t Tuning.
 * @param workgroupSize The workgroup size used when the tuning names none.
 * @returns Label.
 */
export function maskedTuningLabel(t: MaskedTuning, workgroupSize: number): string {
  return `WG=${t.workgroupSize ?? workgroupSize},U=${t.unroll},${
    t.compact ? "compact" : "branchy"
  }${t.columnsPerThread ? `,CPT=${t.columnsPerThread}` : ""}`;
}
