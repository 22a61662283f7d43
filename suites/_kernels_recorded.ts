/**
 * Dense GEMV launch shapes of the `kernels` suite recorded per adapter, shape and precision, in
 * the spirit of `src/decode/recorded_launch.ts`: each entry is the winner of the timed trials
 * (the whole `GEMV_SWEEP`, screened, the fastest three timed in full) of the published run it
 * names, so a run on the same GPU builds, checks and times that shape instead of the 48 of the
 * sweep (67–98 s per LLaMA-7B cell on the H200, which kept the LLaMA rows and their sparse rows
 * from fitting one 10-minute device call). Where an adapter, shape and precision have no entry,
 * or the run asks for `--variant gemv-sweep`, the cell times the trials and its row records the
 * winner and every screening figure, from which a new entry is copied here.
 *
 * Entries come only from runs under `results/published/` whose `kernels/gemv.wgsl` is the one in
 * the tree (run.json hashes it): on the H200, 20261201T213634Z-vm-9d0d1c87ad94 (commit d1d47cc)
 * and 20261201T233439Z-vm-72b504a3d35b (15bd460); `kernels/gemv.ts` and `kernels/tuning.ts` have
 * not changed since either. Earlier H200 runs timed an older gemv.wgsl and are left out. Where
 * both runs measured a cell and chose differently, the newer run's winner is recorded and the
 * other's is built and screened beside it (a neighbour), so the row's shape is the faster of two
 * published winners in this run; where they agree, both runs are named. The zoo's shapes run at
 * the dispatch floor (~3 µs, their screening figures within noise of each other): their entries,
 * from one run each, keep two runs on the same kernels rather than claim a faster one. The tests
 * check every entry against its run's row (`extra.tuning`) and that run's gemv.wgsl hash.
 *
 * The sparse GEMVs' launch shapes are not recorded: `activeSparseTuning` and `skipGemvTuning` are
 * fixed rules (the same shape in every run, never a timing), and in the two runs above no
 * screened neighbour of the active-list kernel won consistently at LLaMA's shapes (the fastest
 * neighbour changed with sparsity and between runs, within a few per cent), so there is no stable
 * choice to record; their cells keep screening the neighbours for `sweep_gb_per_s`.
 *
 * @module
 */

import type { AdapterFacts } from "../kernels/gpu_device.ts";
import type { GemvTuning } from "../kernels/tuning.ts";

/** A published run's choice of a dense GEMV launch shape. */
export interface RecordedChoice {
  /** The launch shape. */
  gemv: GemvTuning;
  /** The published run (`results/published/<run>/`) whose timed trials chose it. */
  run: string;
}

/** One recorded dense GEMV launch: the adapter, shape and precision it holds for. */
export interface RecordedGemv {
  /** A string the adapter's description contains (`GPUAdapterInfo.description`). */
  adapter: string;
  /** Inputs (the weight's columns). */
  k: number;
  /** Outputs (the weight's rows). */
  n: number;
  /** Weight precision. */
  dtype: "f32" | "f16";
  /** The recorded launch shape. */
  gemv: GemvTuning;
  /** The published runs whose timed trials chose it, newest first. */
  runs: readonly string[];
  /** Other published runs' choices for the same cell, built, checked and screened beside it. */
  neighbours?: readonly RecordedChoice[];
}

/** A launch shape written as its label reads (`TX=…,TY=…,RPT=…,U=…,S=…`), to compare at sight. */
function shape(tx: number, ty: number, rpt: number, unroll: number, stagger: 0 | 1): GemvTuning {
  return {
    threadsPerRow: tx,
    rowsPerWorkgroup: ty * rpt,
    rowsPerThread: rpt,
    unroll,
    stagger: stagger === 1,
  };
}

// The two published H200 runs of the kernels suite on the tree's gemv.wgsl, newest first.
const AT_15BD460 = "20261201T233439Z-vm-72b504a3d35b";
const AT_D1D47CC = "20261201T213634Z-vm-9d0d1c87ad94";

/** The recorded dense GEMV launches: LLaMA-7B's FFN shapes, then the zoo's. */
export const RECORDED_GEMVS: readonly RecordedGemv[] = [
  // LLaMA-7B up, 4096x11008.
  {
    adapter: "H200",
    k: 4096,
    n: 11008,
    dtype: "f32",
    gemv: shape(256, 1, 2, 4, 0),
    runs: [AT_15BD460, AT_D1D47CC],
  },
  {
    adapter: "H200",
    k: 4096,
    n: 11008,
    dtype: "f16",
    gemv: shape(32, 8, 4, 2, 1),
    runs: [AT_15BD460],
    neighbours: [{ gemv: shape(64, 4, 2, 4, 1), run: AT_D1D47CC }],
  },
  // LLaMA-7B down, 11008x4096.
  {
    adapter: "H200",
    k: 11008,
    n: 4096,
    dtype: "f32",
    gemv: shape(256, 1, 4, 2, 1),
    runs: [AT_15BD460],
    neighbours: [{ gemv: shape(128, 2, 4, 2, 1), run: AT_D1D47CC }],
  },
  {
    adapter: "H200",
    k: 11008,
    n: 4096,
    dtype: "f16",
    gemv: shape(128, 2, 4, 2, 0),
    runs: [AT_15BD460, AT_D1D47CC],
  },
  // The zoo's shapes: only the older run reached them, and only these cells.
  {
    adapter: "H200",
    k: 512,
    n: 512,
    dtype: "f32",
    gemv: shape(64, 4, 2, 4, 0),
    runs: [AT_D1D47CC],
  },
  {
    adapter: "H200",
    k: 512,
    n: 512,
    dtype: "f16",
    gemv: shape(32, 8, 1, 2, 0),
    runs: [AT_D1D47CC],
  },
  {
    adapter: "H200",
    k: 128,
    n: 512,
    dtype: "f32",
    gemv: shape(128, 2, 4, 4, 1),
    runs: [AT_D1D47CC],
  },
  {
    adapter: "H200",
    k: 128,
    n: 512,
    dtype: "f16",
    gemv: shape(32, 8, 1, 2, 1),
    runs: [AT_D1D47CC],
  },
  {
    adapter: "H200",
    k: 512,
    n: 128,
    dtype: "f32",
    gemv: shape(64, 4, 1, 2, 1),
    runs: [AT_D1D47CC],
  },
];

/**
 * The recorded dense GEMV launch for an adapter, shape and precision, if any. Software adapters
 * never match: their sweep (`GEMV_SWEEP_CPU`) differs in kind, and they time their own.
 *
 * @param facts The adapter.
 * @param gemvShape Inputs `k` and outputs `n`.
 * @param options The weights' precision.
 * @returns The entry, or undefined.
 */
export function recordedGemv(
  facts: Pick<AdapterFacts, "description" | "isFallbackAdapter">,
  gemvShape: { k: number; n: number },
  options: { dtype: "f32" | "f16" },
): RecordedGemv | undefined {
  if (facts.isFallbackAdapter) return undefined;
  return RECORDED_GEMVS.find((r) =>
    facts.description.includes(r.adapter) && r.k === gemvShape.k && r.n === gemvShape.n &&
    r.dtype === options.dtype
  );
}

/**
 * Where a recorded launch came from, for progress lines and rows: `recorded (RUN, …)`, the runs
 * that chose the recorded shape, then those of its neighbours.
 *
 * @param entry The entry.
 * @returns The label.
 */
export function recordedSource(entry: RecordedGemv): string {
  const neighbours = (entry.neighbours ?? []).map((c) => `neighbour ${c.run}`);
  return `recorded (${[...entry.runs, ...neighbours].join(", ")})`;
}
