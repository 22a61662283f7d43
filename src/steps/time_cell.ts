/**
 * Timing one cell on one target: the dense model (loaded once per target) and the variant are
 * timed in alternating rounds so that machine drift cancels in their ratio; the speedup is the
 * ratio of the paired medians with a bootstrap interval. The dense row is timed in rounds of its
 * own and says so (`time_basis: "alone"`).
 *
 * @module
 */

import { assertFinite, type Backend, type LoadedModel, type TensorMap } from "../backend.ts";
import type { KernelPlan } from "../method.ts";
import type { ModelProto } from "../onnx/model.ts";
import type { CellResult } from "../result.ts";
import { bootstrapRatioCi, median, summarize } from "../stats.ts";
import { type Clock, measureInterleaved, type TimingPolicy, timingWarnings } from "../timing.ts";
import { oneLine } from "../../lib/one_line.ts";
import type { DenseSession } from "./target_pool.ts";

/** What timing a cell needs. */
export interface TimeCellOptions {
  /** The target's backend. */
  backend: Backend;
  /** The suite's dense session on that target (loaded on first use). */
  session: DenseSession;
  /** Names the model in errors and progress. */
  label: string;
  /** The model's label without the variant, e.g. the model id. */
  modelLabel: string;
  /** The target id, for messages. */
  target: string;
  /** The timed input. */
  feeds: TensorMap;
  /** The dense model: bytes and decoded. */
  dense: { bytes: Uint8Array; model: ModelProto };
  /** The variant, or undefined for the dense row. */
  variant?: { bytes: Uint8Array; model: ModelProto; kernelPlan?: KernelPlan };
  /** Rounds, warm-up and budget. */
  policy: TimingPolicy;
  /** Clock. */
  clock: Clock;
  /** Seed of the bootstrap. */
  seed: number;
}

async function denseOn(
  backend: Backend,
  state: DenseSession,
  o: TimeCellOptions,
): Promise<LoadedModel> {
  if (state.denseError) throw new Error(state.denseError);
  if (state.dense) return state.dense;
  try {
    state.dense = await backend.load(o.dense.bytes, {
      label: `${o.modelLabel} (dense)`,
      feeds: o.feeds,
      kernelPlan: { inputs: {}, gates: {} },
      decoded: o.dense.model,
      dense: o.dense.model,
    });
    assertFinite(await state.dense.run(o.feeds), `${o.modelLabel} (dense) on ${o.target}`);
    return state.dense;
  } catch (e) {
    state.denseError = oneLine(e);
    throw e;
  }
}

/**
 * Times a cell and writes its timing columns.
 *
 * @param cell The cell (its timing fields are filled in).
 * @param options Backend, dense session, models, input and policy.
 */
export async function timeCell(cell: CellResult, options: TimeCellOptions): Promise<void> {
  const o = options;
  const dense = await denseOn(o.backend, o.session, o);
  const denseSampler = dense.sampler(o.feeds, "dense");
  const warnings: string[] = [...dense.warnings];
  if (!o.variant) {
    const { samples } = await measureInterleaved([denseSampler], o.policy, { clock: o.clock });
    fillTiming(cell, samples[0]!, dense.coldMs, await dense.syncLatencyMs(o.feeds));
    cell.speedup = 1;
    cell.dense_samples_ms = samples[0]!;
    cell.dense_paired_median_ms = cell.time_median_ms;
    cell.time_basis = "alone";
    warnings.push(...timingWarnings(samples[0]!, o.policy).map((w) => w.message));
  } else {
    const variant = await o.backend.load(o.variant.bytes, {
      label: `${o.modelLabel} ${o.label}`,
      feeds: o.feeds,
      ...(o.variant.kernelPlan ? { kernelPlan: o.variant.kernelPlan } : {}),
      decoded: o.variant.model,
      dense: o.dense.model,
    });
    try {
      assertFinite(await variant.run(o.feeds), `${o.modelLabel} ${o.label} on ${o.target}`);
      warnings.push(...variant.warnings);
      const { samples } = await measureInterleaved(
        [denseSampler, variant.sampler(o.feeds, o.label)],
        o.policy,
        { clock: o.clock },
      );
      const [denseTimes, variantTimes] = samples as [number[], number[]];
      fillTiming(cell, variantTimes, variant.coldMs, await variant.syncLatencyMs(o.feeds));
      const ci = bootstrapRatioCi(denseTimes, variantTimes, { seed: o.seed });
      cell.speedup = ci.estimate;
      cell.speedup_ci_low = ci.low;
      cell.speedup_ci_high = ci.high;
      cell.dense_samples_ms = denseTimes;
      cell.dense_paired_median_ms = median(denseTimes);
      cell.time_basis = "interleaved";
      warnings.push(...timingWarnings(variantTimes, o.policy).map((w) => w.message));
    } finally {
      await variant.release();
    }
  }
  cell.warnings = [...new Set(warnings)].join(" | ");
}

function fillTiming(cell: CellResult, samples: number[], coldMs: number, syncMs: number): void {
  const s = summarize(samples);
  cell.time_median_ms = s.medianMs;
  cell.time_p10_ms = s.p10Ms;
  cell.time_p90_ms = s.p90Ms;
  cell.time_mad_ms = s.madMs;
  cell.runs = s.count;
  cell.outliers = s.outliers;
  cell.cold_ms = coldMs;
  cell.sync_latency_ms = syncMs;
  cell.samples_ms = samples;
}
