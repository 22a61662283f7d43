/**
 * Launch shapes of the decode engine recorded per adapter and model shape, so that two runs on
 * the same GPU decode with the same kernels. Each entry is the winner of the timed trials of
 * `launch.ts` (whole decoding steps) in the run it names; where an adapter and shape have no
 * entry, the suite and `deno task decode --sweep` time the trials and record their winner with
 * the figures, from which a new entry is copied here.
 *
 * @module
 */

import type { AdapterFacts } from "../../kernels/gpu_device.ts";
import type { GemvTuning } from "../../kernels/tuning.ts";
import type { AttentionTuning } from "../../kernels/attention.ts";
import type { DecoderSpec } from "./spec.ts";
import type { SkipLaunch } from "./launch.ts";
import type { SkipGemvTuning } from "../../kernels/skip_gemv.ts";

/** One recorded launch: the adapter and model shape it holds for, and its kernels' shapes. */
export interface RecordedLaunch {
  /** A string the adapter's description contains (`GPUAdapterInfo.description`). */
  adapter: string;
  /** Model width. */
  d: number;
  /** FFN width. */
  ff: number;
  /** Weight precision. */
  dtype: "f16" | "f32";
  /** Dense GEMV launch. */
  gemv: GemvTuning;
  /** Input-sparse GEMV launches (q/k/v and up; o and down; own ones), where trials chose them. */
  skip?: SkipLaunch;
  /** Attention launch, where trials chose one. */
  attention?: AttentionTuning;
  /** The runs whose trials chose it. */
  source: string;
}

const SKIP = (lanes: number, splits: number): SkipGemvTuning => ({
  workgroupSize: 256,
  lanes,
  splits,
  compact: false,
  stage: false,
});

const GEMV_64_2_4: GemvTuning = {
  threadsPerRow: 64,
  rowsPerWorkgroup: 8,
  rowsPerThread: 2,
  unroll: 4,
  stagger: false,
};

/** The recorded launches, newest first. */
export const RECORDED_LAUNCHES: readonly RecordedLaunch[] = [
  {
    adapter: "H200",
    d: 4096,
    ff: 11008,
    dtype: "f16",
    gemv: GEMV_64_2_4,
    attention: { chunk: 64, fused: true },
    skip: { main: SKIP(64, 12), residual: SKIP(32, 16), perProjection: { qkv: SKIP(32, 8) } },
    source: "gemv 20261201T234352Z-vm-930d641ec575, the rest 20261202T060042Z-vm-7af5e2fa031e",
  },
  {
    adapter: "H200",
    d: 5120,
    ff: 13824,
    dtype: "f16",
    gemv: GEMV_64_2_4,
    attention: { chunk: 32, fused: true },
    skip: { main: SKIP(32, 8), residual: SKIP(16, 8), perProjection: { down: SKIP(32, 24) } },
    source: "gemv 20261201T233219Z-vm-bfeda2676311, the rest 20261202T060042Z-vm-7af5e2fa031e",
  },
];

/**
 * The recorded launch for an adapter and model shape, if any.
 *
 * @param facts The adapter.
 * @param spec The model.
 * @param options The weights' precision.
 * @returns The entry, or undefined.
 */
export function recordedLaunch(
  facts: Pick<AdapterFacts, "description" | "isFallbackAdapter">,
  spec: Pick<DecoderSpec, "d" | "ff">,
  options: { dtype: "f16" | "f32" },
): RecordedLaunch | undefined {
  if (facts.isFallbackAdapter) return undefined;
  return RECORDED_LAUNCHES.find((r) =>
    facts.description.includes(r.adapter) && r.d === spec.d && r.ff === spec.ff &&
    r.dtype === options.dtype
  );
}
