/**
 * Default launch shapes per kind of adapter. GPUs want many threads per row and coalesced loads;
 * CPU adapters (llvmpipe runs a workgroup's threads as SIMD lanes, and every workgroup barrier
 * costs a context switch) want one thread per row and small workgroups. The `kernels` suite
 * sweeps the GEMV shapes and records the winner; these defaults are what the FFN pipelines and
 * the `wgsl` backend use.
 *
 * @module
 */

import type { AdapterFacts } from "../src/backend.ts";

/** Launch shapes of the kernels. */
export interface Tuning {
  /** Dense GEMV: threads per row and rows per workgroup. */
  gemv: { threadsPerRow: number; rowsPerWorkgroup: number };
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
      gemv: { threadsPerRow: 1, rowsPerWorkgroup: 64 },
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

/** Dense GEMV shapes the kernels suite sweeps on a GPU. */
export const GEMV_SWEEP: readonly Tuning["gemv"][] = [
  { threadsPerRow: 64, rowsPerWorkgroup: 4 },
  { threadsPerRow: 128, rowsPerWorkgroup: 2 },
  { threadsPerRow: 256, rowsPerWorkgroup: 1 },
  { threadsPerRow: 32, rowsPerWorkgroup: 8 },
];
