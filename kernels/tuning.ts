/**
 * Default launch shapes per kind of adapter. GPUs want many threads per row and coalesced loads;
 * CPU adapters (llvmpipe runs a workgroup's threads as SIMD lanes, and every workgroup barrier
 * costs a context switch) want one thread per row and small workgroups. Every launch shape the
 * `kernels` suite sweeps is listed here, with the defaults the FFN pipelines and the `wgsl`
 * backend use and the rule that picks the active-list sparse GEMV's shape per adapter and shape.
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

/** Launch shape of the active-list sparse GEMV (see `sparse_gemv_active.wgsl`). */
export interface ActiveSparseTuning {
  /** Threads per workgroup (WG), a power of two. */
  workgroupSize: number;
  /** 16-byte column chunks per workgroup (LANES), a power of two ≤ the workgroup size. */
  lanes: number;
  /** Weight loads in flight per thread (UNROLL): 1, 2, 4 or 8. */
  unroll: number;
  /** Split-K count over the active list (workgroups per column tile). */
  splits: number;
  /**
   * How the splits meet: `fused`, the last workgroup of each tile adds them (one dispatch);
   * `pass`, a `reduce.wgsl` dispatch after.
   */
  reduce: "fused" | "pass";
}

/** What the active-list sparse GEMV's launch shape is chosen from. */
export interface ActiveSparseShape {
  /** Inputs (weight rows). */
  k: number;
  /** Outputs (weight columns). */
  n: number;
  /** Weight precision. */
  precision: "f32" | "f16";
  /** Expected fraction of inputs kept (default 0.5); sizes the split count. */
  density?: number;
}

/**
 * The active-list sparse GEMV's launch shape for an adapter and a shape: a fixed rule, not a
 * timing, so two runs pick the same kernel (the kernels suite records it with every row and
 * reports its sweep beside it). GPUs: 256 threads as 64 chunk lanes × 4 thread rows (1 KiB of a
 * weight row per workgroup and row, f32 or f16), 8 loads in flight, and enough splits of the
 * active list for about 512 workgroups while every thread keeps at least 8 rows to sweep; the
 * splits meet in a reduce pass (on the H200, run 20261201T184009Z-vm-f950e7cfa3a9, the fused
 * last-workgroup reduction cost about 5 µs, more than the extra dispatch, and the pass screened
 * fastest at 24 of the 28 LLaMA-shape cells). CPU adapters (one SIMD lane per thread, costly
 * barriers): 64 threads, every thread its own chunk, few splits, the reduction fused.
 *
 * @param facts Adapter facts.
 * @param shape The shape, precision and expected density.
 * @returns The tuning.
 */
export function activeSparseTuning(
  facts: Pick<AdapterFacts, "isFallbackAdapter">,
  shape: ActiveSparseShape,
): ActiveSparseTuning {
  const chunks = Math.ceil(shape.n / (shape.precision === "f16" ? 8 : 4));
  const active = Math.max(1, Math.round(shape.k * (shape.density ?? 0.5)));
  if (facts.isFallbackAdapter) {
    const lanes = Math.min(64, 2 ** Math.ceil(Math.log2(chunks)));
    return {
      workgroupSize: 64,
      lanes,
      unroll: 4,
      splits: Math.max(1, Math.min(8, Math.floor(active / 64))),
      reduce: "fused",
    };
  }
  const lanes = 64;
  const rowsPerWg = 256 / lanes;
  const tiles = Math.ceil(chunks / lanes);
  const bySize = Math.round(512 / tiles);
  const byWork = Math.floor(active / (8 * rowsPerWg));
  return {
    workgroupSize: 256,
    lanes,
    unroll: 8,
    splits: Math.max(1, Math.min(bySize, byWork)),
    reduce: "pass",
  };
}

/**
 * Active-list sparse GEMV shapes the kernels suite screens beside the chosen one on a GPU
 * (reported, not used): thread rows, lanes, loads in flight, twice or half the splits, and the
 * other reduction.
 *
 * @param chosen The adapter's choice for the shape.
 * @returns Alternatives, the choice first.
 */
export function activeSparseSweep(chosen: ActiveSparseTuning): ActiveSparseTuning[] {
  const variants: ActiveSparseTuning[] = [
    chosen,
    { ...chosen, unroll: 4 },
    { ...chosen, splits: Math.max(1, Math.round(chosen.splits / 2)) },
    { ...chosen, splits: chosen.splits * 2 },
    { ...chosen, lanes: chosen.lanes / 2, splits: Math.max(1, Math.round(chosen.splits / 2)) },
    { ...chosen, lanes: chosen.lanes * 2, splits: chosen.splits * 2 },
    { ...chosen, workgroupSize: chosen.workgroupSize * 2 },
    { ...chosen, reduce: chosen.reduce === "pass" ? "fused" : "pass" },
  ];
  const seen = new Set<string>();
  return variants.filter((t) => {
    const label = activeSparseTuningLabel(t);
    if (seen.has(label) || t.lanes < 1 || t.lanes > t.workgroupSize) return false;
    seen.add(label);
    return true;
  });
}

/**
 * A short label of an active-list sparse GEMV tuning, e.g. `WG=256,L=64,U=8,S=12,fused`.
 *
 * @param t Tuning.
 * @returns Label.
 */
export function activeSparseTuningLabel(t: ActiveSparseTuning): string {
  return `WG=${t.workgroupSize},L=${t.lanes},U=${t.unroll},S=${t.splits},${t.reduce}`;
}
