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
  /** The run whose trials chose it. */
  source: string;
}

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
    source: "20261201T234352Z-vm-930d641ec575",
  },
  {
    adapter: "H200",
    d: 5120,
    ff: 13824,
    dtype: "f16",
    gemv: GEMV_64_2_4,
    source: "20261201T233219Z-vm-bfeda2676311",
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
