/**
 * The noise of an accuracy measured on a finite evaluation split, as the `ap` suite reports it:
 * a Wilson score interval for one model's accuracy (binomial over the images), and for two models
 * evaluated on the same images a paired bootstrap interval of their accuracy difference with an
 * exact McNemar test on the images where exactly one of them is right.
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";
import { normalQuantile } from "../src/stats.ts";

/**
 * Wilson score interval of a binomial proportion (better than the normal interval near 0 and 1).
 *
 * @example
 * ```ts
 * import { wilsonInterval } from "./ap_stats.ts";
 * const [low, high] = wilsonInterval(950, 1000);
 * console.log(low.toFixed(3), high.toFixed(3)); // 0.935 0.962
 * ```
 *
 * @param successes Correct predictions.
 * @param trials Images.
 * @param confidence Two-sided level (default 0.95).
 * @returns [low, high].
 * @throws {RangeError} When the counts are not 0 ≤ successes ≤ trials, trials > 0.
 */
export function wilsonInterval(
  successes: number,
  trials: number,
  confidence = 0.95,
): [number, number] {
  if (!(trials > 0) || successes < 0 || successes > trials) {
    throw new RangeError(
      `wilsonInterval: need 0 <= successes <= trials and trials > 0, got ${successes}/${trials}`,
    );
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / trials;
  const z2 = z * z / trials;
  const centre = (p + z2 / 2) / (1 + z2);
  const half = (z / (1 + z2)) * Math.sqrt(p * (1 - p) / trials + z2 / (4 * trials));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A paired comparison of two models' per-image correctness. */
export interface PairedDifference {
  /** Accuracy of a minus accuracy of b. */
  diff: number;
  /** Lower end of the percentile bootstrap interval of `diff`. */
  low: number;
  /** Upper end. */
  high: number;
  /** Images only a gets right. */
  onlyA: number;
  /** Images only b gets right. */
  onlyB: number;
  /** Exact two-sided McNemar p-value (binomial test on the discordant images). */
  p: number;
}

/**
 * Compares two models evaluated on the same images: resampling images (not models) keeps the
 * pairing, so the interval is far narrower than two separate binomial intervals would suggest.
 *
 * @param a Per-image correctness of the first model (1 right, 0 wrong).
 * @param b Of the second, same images in the same order.
 * @param options Resamples (default 2000), seed (default 0), level (default 0.95).
 * @returns The difference a − b with its interval and test.
 * @throws {RangeError} When the two lists differ in length or are empty.
 */
export function pairedDifference(
  a: Uint8Array,
  b: Uint8Array,
  options: { resamples?: number; seed?: number; confidence?: number } = {},
): PairedDifference {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `pairedDifference: need two equal, non-empty lists, got ${a.length} and ${b.length}`,
    );
  }
  const n = a.length;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (!a[i] && b[i]) onlyB++;
  }
  // Only discordant images move the difference: resample their count among n draws.
  const rng = createRng(options.seed ?? 0);
  const resamples = options.resamples ?? 2000;
  const pa = onlyA / n;
  const pb = onlyB / n;
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let d = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (u < pa) d++;
      else if (u < pa + pb) d--;
    }
    diffs[r] = d / n;
  }
  diffs.sort();
  const alpha = (1 - (options.confidence ?? 0.95)) / 2;
  const at = (q: number) => diffs[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  return {
    diff: (onlyA - onlyB) / n,
    low: at(alpha),
    high: at(1 - alpha),
    onlyA,
    onlyB,
    p: mcnemarExact(onlyA, onlyB),
  };
}

function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // Sum of C(n, i) / 2^n for i <= k, in logs so that n in the thousands does not overflow.
  let logC = 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * sum);
}
