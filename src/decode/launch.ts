/**
 * Launch shapes for the decode engine's GEMVs, chosen per adapter and model by timing whole
 * decoding steps (a kernel that wins alone can lose inside the step, where the weights of other
 * layers have pushed its own out of the L2), and recorded with the figures.
 *
 * @module
 */

import { type GemvTuning, gemvTuningLabel } from "../../kernels/tuning.ts";
import { type SkipGemvTuning, skipScanFits } from "../../kernels/skip_gemv.ts";
import type { AttentionTuning } from "../../kernels/attention.ts";
import { createDecoder, type DecoderOptions } from "./engine.ts";
import { fillCaches, timeTokens } from "./measure.ts";
import type { GpuWeights } from "./weights.ts";
import { type DecoderSpec, type ProjectionName, PROJECTIONS, type SparsityPlan } from "./spec.ts";

/** Dense GEMV shapes tried on GPUs: threads per row, rows per thread, loads in flight, stagger. */
export const GEMV_PICKS: readonly GemvTuning[] = (
  [
    [64, 1, 2, false],
    [64, 2, 4, false],
    [128, 1, 4, false],
    [128, 2, 4, true],
    [32, 4, 4, false],
    [256, 1, 4, false],
    [64, 4, 4, true],
    [32, 2, 4, true],
  ] as const
).map(([tx, rpt, unroll, stagger]) => ({
  threadsPerRow: tx,
  rowsPerWorkgroup: (256 / tx) * rpt,
  rowsPerThread: rpt,
  unroll,
  stagger,
}));

/** Input-sparse GEMV shapes tried on GPUs: for q/k/v and up, and for o and down. */
export const SKIP_PICKS: readonly { main: SkipGemvTuning; residual: SkipGemvTuning }[] = [
  // The scan form (each split's kept rows listed once, then swept eight at a time).
  ...([[64, 12, 32, 16], [32, 16, 16, 16], [64, 8, 32, 8]] as const).map(([l, s, rl, rs]) => ({
    main: { workgroupSize: 256, lanes: l, splits: s, scan: true },
    residual: { workgroupSize: 256, lanes: rl, splits: rs, scan: true },
  })),
  // The form without compaction (a warp per row, a skipped row issues no load) first: the
  // engine's default on GPUs.
  ...([[32, 16, 16, 16], [64, 12, 32, 16], [32, 16, 16, 8], [32, 8, 16, 8]] as const).map((
    [l, s, rl, rs],
  ) => ({
    main: { workgroupSize: 256, lanes: l, splits: s, compact: false, stage: false },
    residual: { workgroupSize: 256, lanes: rl, splits: rs, compact: false, stage: false },
  })),
  // Eight rows per step: more loads in flight when half the rows are skipped.
  {
    main: { workgroupSize: 256, lanes: 64, splits: 12, compact: false, stage: false, deep: true },
    residual: {
      workgroupSize: 256,
      lanes: 32,
      splits: 16,
      compact: false,
      stage: false,
      deep: true,
    },
  },
  // The compacting form, which can win at high sparsity.
  ...([[32, 16, 16, 8], [32, 16, 8, 4], [64, 16, 16, 8]] as const).map(([l, s, rl, rs]) => ({
    main: { workgroupSize: 256, lanes: l, splits: s },
    residual: { workgroupSize: 256, lanes: rl, splits: rs },
  })),
];

/**
 * A label of a sparse launch shape.
 *
 * @param t Shape.
 * @returns e.g. `lanes 32 splits 16 / o,down lanes 16 splits 8`.
 */
export function skipLabel(t: { main: SkipGemvTuning; residual: SkipGemvTuning }): string {
  const form = formOf(t.main);
  return `${form} lanes ${t.main.lanes} splits ${t.main.splits} / o,down lanes ${t.residual.lanes} splits ${t.residual.splits}`;
}

function formOf(t: SkipGemvTuning): string {
  if (t.scan) return "scan";
  return t.compact === false ? (t.deep ? "skip8" : "skip") : "compact";
}

/** One timed candidate. */
export interface Trial {
  /** Its label. */
  label: string;
  /** Milliseconds per token. */
  msPerToken: number;
}

async function trial(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions & { context: number; timestamps: boolean },
): Promise<number> {
  const d = await createDecoder(device, weights, options);
  if (weights.synthetic) await fillCaches(device, d, 100);
  const t = await timeTokens(device, d, {
    context: options.context,
    samples: 3,
    targetMs: 60,
    timestamps: options.timestamps,
  });
  d.destroy();
  return t.ms;
}

/** Times each pick on a whole decoder (the options it adds) and returns the fastest. */
async function fastestPick<T extends object>(
  device: GPUDevice,
  weights: GpuWeights,
  picks: readonly T[],
  options: DecoderOptions & { context: number; timestamps: boolean },
  pick: { label(t: T): string; options(t: T): DecoderOptions },
): Promise<{ tuning: T; ms: number; trials: Trial[] }> {
  const trials: Trial[] = [];
  let best = picks[0]!;
  let bestMs = Infinity;
  for (const t of picks) {
    const ms = await trial(device, weights, { ...options, ...pick.options(t) });
    trials.push({ label: pick.label(t), msPerToken: ms });
    if (ms < bestMs) [best, bestMs] = [t, ms];
  }
  return { tuning: best, ms: bestMs, trials };
}

/**
 * Times the dense GEMV picks on the dense decoder and returns the fastest.
 *
 * @param device The device.
 * @param weights Weights.
 * @param options Decoder options, context, timestamps.
 * @returns The winner and every trial.
 */
export async function chooseGemvTuning(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions & { context: number; timestamps: boolean },
): Promise<{ tuning: GemvTuning; trials: Trial[] }> {
  const { tuning, trials } = await fastestPick(device, weights, GEMV_PICKS, options, {
    label: gemvTuningLabel,
    options: (t) => ({ gemvTuning: t }),
  });
  return { tuning, trials };
}

/**
 * Per-projection sparse GEMV shapes tried after the shared picks (the form without compaction:
 * lanes × splits, four or eight rows per step). Splits trade workgroups in flight against the
 * partial rows that the next pass (add_norm, rope, glu), or o's and down's own last workgroups,
 * sum.
 */
export const PROJECTION_PICKS: readonly SkipGemvTuning[] = (
  [
    [32, 8, false],
    [32, 24, false],
    [32, 32, false],
    [64, 16, false],
    [64, 24, false],
    [16, 32, false],
    // Few splits: with the norms fused, o's and down's last workgroup per tile sums the splits.
    [16, 8, false],
    [32, 8, true],
    [32, 16, true],
    [64, 12, true],
  ] as const
).map(([lanes, splits, deep]): SkipGemvTuning => ({
  workgroupSize: 256,
  lanes,
  splits,
  compact: false,
  stage: false,
  ...(deep ? { deep } : {}),
})).concat(
  // The scan form, in a few shapes.
  ([[32, 8], [64, 12], [32, 24], [16, 16]] as const).map(([lanes, splits]) => ({
    workgroupSize: 256,
    lanes,
    splits,
    scan: true,
  })),
);

/** Input width of a projection's GEMV. */
function inputWidth(spec: DecoderSpec, p: ProjectionName): number {
  if (p === "o") return spec.heads * spec.headDim;
  return p === "down" ? spec.ff : spec.d;
}

/** Whether a launch shape can run a projection here (the scan form needs its split to fit). */
function fits(device: GPUDevice, spec: DecoderSpec, p: ProjectionName, t: SkipGemvTuning) {
  return !t.scan || skipScanFits(device, { k: inputWidth(spec, p), ...t });
}

/** A sparse launch: the shared shapes and the projections that differ from them. */
export interface SkipLaunch {
  /** q/k/v and up/gate. */
  main: SkipGemvTuning;
  /** o and down. */
  residual: SkipGemvTuning;
  /** Projections whose own shape won over the shared one. */
  perProjection?: Partial<Record<ProjectionName, SkipGemvTuning>>;
}

/**
 * A label of a sparse launch with its per-projection shapes.
 *
 * @param t Launch.
 * @returns e.g. `skip lanes 64 splits 12 / o,down lanes 32 splits 16; down lanes 32 splits 32`.
 */
export function skipLaunchLabel(t: SkipLaunch): string {
  const own = Object.entries(t.perProjection ?? {}).map(([p, u]) =>
    `${p} ${formOf(u!)} lanes ${u!.lanes} splits ${u!.splits}`
  );
  return [skipLabel(t), ...own].join("; ");
}

/**
 * Times the sparse GEMV picks on a sparse plan and returns the fastest: first the shared picks,
 * then, one projection at a time, {@linkcode PROJECTION_PICKS} with the others held (a pick is
 * kept only when the whole step is at least 1 % faster, so noise does not choose).
 *
 * @param device The device.
 * @param weights Weights (with the transposed layout).
 * @param plan The sparse plan to time them on.
 * @param options Decoder options, context, timestamps; `perProjection: false` stops after the
 *   shared picks.
 * @returns The winner and every trial.
 */
export async function chooseSkipTuning(
  device: GPUDevice,
  weights: GpuWeights,
  plan: SparsityPlan,
  options: DecoderOptions & { context: number; timestamps: boolean; perProjection?: boolean },
): Promise<{ tuning: SkipLaunch; trials: Trial[] }> {
  const spec = weights.spec;
  const picks = SKIP_PICKS.filter((t) =>
    PROJECTIONS.every((p) => fits(device, spec, p, p === "o" || p === "down" ? t.residual : t.main))
  );
  const shared = await fastestPick(device, weights, picks, { ...options, plan }, {
    label: skipLabel,
    options: (t) => ({ skipTuning: t.main, skipTuningResidual: t.residual }),
  });
  const { trials, tuning: best } = shared;
  let bestMs = shared.ms;
  const launch: SkipLaunch = { ...best };
  if (options.perProjection === false) return { tuning: launch, trials };
  const own: Partial<Record<ProjectionName, SkipGemvTuning>> = {};
  for (const p of PROJECTIONS) {
    for (const u of PROJECTION_PICKS.filter((t) => fits(device, spec, p, t))) {
      const tried = { ...own, [p]: u };
      const ms = await trial(device, weights, {
        ...options,
        plan,
        skipTuning: best.main,
        skipTuningResidual: best.residual,
        skipTunings: tried,
      });
      trials.push({ label: skipLaunchLabel({ ...best, perProjection: tried }), msPerToken: ms });
      if (ms < bestMs * 0.99) {
        own[p] = u;
        bestMs = ms;
      }
    }
  }
  if (Object.keys(own).length > 0) launch.perProjection = own;
  return { tuning: launch, trials };
}

/** Attention launches tried on GPUs: positions per chunk, and one dispatch or two. */
export const ATTENTION_PICKS: readonly AttentionTuning[] = [64, 32, 128].flatMap((chunk) =>
  [false, true].map((fused) => ({ chunk, fused }))
);

/**
 * A label of an attention launch.
 *
 * @param t Launch.
 * @returns e.g. `attention chunk 64, combine pass`.
 */
export function attentionLabel(t: AttentionTuning): string {
  return `attention chunk ${t.chunk ?? "default"}, ${t.fused ? "fused combine" : "combine pass"}`;
}

/**
 * Times the attention picks on a decoder (dense or sparse plan) and returns the fastest.
 *
 * @param device The device.
 * @param weights Weights.
 * @param options Decoder options, context, timestamps.
 * @returns The winner and every trial.
 */
export async function chooseAttention(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions & { context: number; timestamps: boolean },
): Promise<{ tuning: AttentionTuning; trials: Trial[] }> {
  const { tuning, trials } = await fastestPick(device, weights, ATTENTION_PICKS, options, {
    label: attentionLabel,
    options: (t) => ({ attention: t }),
  });
  return { tuning, trials };
}

/**
 * Which dense kernel is faster on this adapter and model: the dense GEMV over row-major weights,
 * or the input-sparse GEMV keeping every row (the weights need the transposed layout).
 *
 * @param device The device.
 * @param weights Weights with both layouts.
 * @param options Decoder options, context, timestamps.
 * @returns The faster kernel and both trials.
 */
export async function chooseDenseKernel(
  device: GPUDevice,
  weights: GpuWeights,
  options: DecoderOptions & { context: number; timestamps: boolean },
): Promise<{ kernel: "gemv" | "skip"; trials: Trial[] }> {
  const trials: Trial[] = [];
  for (const kernel of ["gemv", "skip"] as const) {
    trials.push({
      label: kernel,
      msPerToken: await trial(device, weights, { ...options, denseKernel: kernel }),
    });
  }
  return { kernel: trials[1]!.msPerToken < trials[0]!.msPerToken ? "skip" : "gemv", trials };
}
