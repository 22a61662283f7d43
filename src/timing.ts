/**
 * Interleaved timing of several subjects (dense and sparse variants) on one target.
 *
 * Subjects are sampled in rounds, alternating the order every round (A B, B A, A B, …), so that
 * drift of the machine (clock boost, thermal state, other load) falls on every subject alike and
 * cancels in their ratio. Warm-up rounds are run first and not kept. A round is kept only when every
 * subject finished it, so samples stay paired for the bootstrap.
 *
 * @module
 */

import { summarize } from "./stats.ts";

/** A source of time in milliseconds. Tests pass a fake one. */
export interface Clock {
  /** Current time in ms. */
  now(): number;
}

/** The wall clock. */
export const wallClock: Clock = { now: () => performance.now() };

/** Something that can be timed: each call returns one sample, the time of one run in ms. */
export interface Sampler {
  /** Name shown in progress and warnings. */
  label: string;
  /**
   * Takes one sample.
   *
   * @param clock The clock to time with.
   * @returns Milliseconds per run.
   */
  sample(clock: Clock): Promise<number>;
}

/** How long to time: the suite's timing policy. */
export interface TimingPolicy {
  /** Rounds run and discarded before timing. */
  warmupRuns: number;
  /** Minimum kept rounds. */
  minRuns: number;
  /** Minimum total timing time in ms (rounds continue until both minimums are met). */
  minTimeMs: number;
  /** Stop after this many kept rounds even if `minTimeMs` is not reached. */
  maxRuns: number;
  /** Stop after this long (ms) even if `minRuns` is not reached (a warning says so). */
  maxTimeMs: number;
}

/** A typed timing warning with the remedy it suggests (hyperfine's style). */
export interface TimingWarning {
  /** Machine-readable kind. */
  code: "few-runs" | "wide-spread" | "many-outliers" | "sync-floor";
  /** What was observed and what to do about it. */
  message: string;
}

/** What {@linkcode measureInterleaved} returns. */
export interface InterleavedTimes {
  /** Kept samples per subject (ms per run), index-aligned across subjects. */
  samples: number[][];
  /** Wall time spent, warm-up included (ms). */
  elapsedMs: number;
}

/**
 * Times subjects in alternating order until the policy is satisfied.
 *
 * @example Usage
 * ```ts
 * import { measureInterleaved } from "./timing.ts";
 * let t = 0;
 * const clock = { now: () => t };
 * const fake = (ms: number) => ({ label: `${ms}`, sample: () => Promise.resolve((t += ms, ms)) });
 * const r = await measureInterleaved([fake(2), fake(1)], { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 50, maxTimeMs: 1e9 }, { clock });
 * console.log(r.samples[0]!.length); // 5
 * ```
 *
 * @param subjects The subjects; the first is usually the dense baseline.
 * @param policy Timing policy.
 * @param options `clock` (default wall clock); `onRound` reports progress.
 * @returns Samples per subject.
 */
export async function measureInterleaved(
  subjects: readonly Sampler[],
  policy: TimingPolicy,
  options: { clock?: Clock; onRound?: (kept: number) => void } = {},
): Promise<InterleavedTimes> {
  const clock = options.clock ?? wallClock;
  const start = clock.now();
  for (let w = 0; w < policy.warmupRuns; w++) {
    for (const s of subjects) await s.sample(clock);
  }
  const samples: number[][] = subjects.map(() => []);
  const timingStart = clock.now();
  for (let round = 0;; round++) {
    const order = subjects.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    const got: number[] = new Array(subjects.length);
    for (const i of order) got[i] = await subjects[i]!.sample(clock);
    got.forEach((v, i) => samples[i]!.push(v));
    options.onRound?.(round + 1);
    const kept = round + 1;
    const spent = clock.now() - timingStart;
    if (kept >= policy.maxRuns) break;
    if (spent >= policy.maxTimeMs && kept >= 2) break;
    if (kept >= policy.minRuns && spent >= policy.minTimeMs) break;
  }
  return { samples, elapsedMs: clock.now() - start };
}

/**
 * Warnings about one subject's samples, each naming its remedy.
 *
 * @param samplesMs The samples.
 * @param policy The policy they were taken under.
 * @returns Zero or more warnings.
 */
export function timingWarnings(
  samplesMs: readonly number[],
  policy: TimingPolicy,
): TimingWarning[] {
  const out: TimingWarning[] = [];
  const s = summarize(samplesMs);
  if (s.count < policy.minRuns) {
    out.push({
      code: "few-runs",
      message:
        `only ${s.count} runs (policy asks ${policy.minRuns}) before the ${policy.maxTimeMs} ms limit; raise the suite's maxTimeMs or run without --quick`,
    });
  }
  const relSpread = s.medianMs > 0 ? (1.4826 * s.madMs) / s.medianMs : 0;
  if (relSpread > 0.1) {
    out.push({
      code: "wide-spread",
      message: `spread is ${
        (relSpread * 100).toFixed(0)
      } % of the median (MAD-based); close other programs, or raise minRuns/minTimeMs`,
    });
  }
  if (s.count >= 10 && s.outliers / s.count > 0.1) {
    out.push({
      code: "many-outliers",
      message:
        `${s.outliers} of ${s.count} runs are outliers; something else is using this machine, re-run when it is idle`,
    });
  }
  return out;
}
