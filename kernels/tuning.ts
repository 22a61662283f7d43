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
  /** Sparse GEMV: workgroup size and split-K count (undefined: enough to fill the device). */
  sparse: { workgroupSize: number; splits?: number };
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
      sparse: { workgroupSize: 64, splits: 8 },
    };
  }
  return { gemv: { threadsPerRow: 64, rowsPerWorkgroup: 4 }, sparse: { workgroupSize: 256 } };
}

/** Dense GEMV shapes the kernels suite sweeps on a GPU. */
export const GEMV_SWEEP: readonly Tuning["gemv"][] = [
  { threadsPerRow: 64, rowsPerWorkgroup: 4 },
  { threadsPerRow: 128, rowsPerWorkgroup: 2 },
  { threadsPerRow: 256, rowsPerWorkgroup: 1 },
  { threadsPerRow: 32, rowsPerWorkgroup: 8 },
  { threadsPerRow: 128, rowsPerWorkgroup: 4 },
];
