/**
 * The figures of the `recsae` suite, as pure functions over arrays: reconstruction (FVU), the
 * ranking metrics, intervals (bootstrap of a mean, Wilson), and RecSAE's concept dictionary
 * (built from latent activations on one set of sequences, validated by predicting the latents'
 * activations on another).
 *
 * @module
 */

import { createRng } from "../lib/prng.ts";
import { quantile } from "../src/stats.ts";

/** A point estimate and its 95 % interval. */
export interface Estimate {
  /** Point estimate. */
  value: number;
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
}

/**
 * Fraction of variance unexplained: Σ‖h − r‖² / Σ‖h − mean(h)‖² over rows of width `width`.
 *
 * @example Usage
 * ```ts
 * import { fvu } from "./recsae_metrics.ts";
 * const h = Float32Array.of(0, 0, 2, 2);
 * console.log(fvu(h, h, 2)); // 0
 * ```
 *
 * @param h Originals, rows of `width`.
 * @param r Reconstructions, same layout.
 * @param width Row width.
 * @returns The FVU.
 */
export function fvu(h: Float32Array, r: Float32Array, width: number): number {
  const parts = fvuParts(h, r, width);
  return parts.reduce((a, p) => a + p.error, 0) / parts.reduce((a, p) => a + p.variance, 0);
}

/**
 * Each row's share of the FVU's numerator and denominator (for a bootstrap over rows).
 *
 * @param h Originals.
 * @param r Reconstructions.
 * @param width Row width.
 * @returns Per row: squared error and squared distance from the mean row.
 */
export function fvuParts(
  h: Float32Array,
  r: Float32Array,
  width: number,
): { error: number; variance: number }[] {
  const rows = h.length / width;
  const mean = new Float64Array(width);
  for (let i = 0; i < h.length; i++) mean[i % width]! += h[i]! / rows;
  const out: { error: number; variance: number }[] = [];
  for (let row = 0; row < rows; row++) {
    let error = 0;
    let variance = 0;
    for (let c = 0; c < width; c++) {
      const i = row * width + c;
      error += (h[i]! - r[i]!) ** 2;
      variance += (h[i]! - mean[c]!) ** 2;
    }
    out.push({ error, variance });
  }
  return out;
}

/**
 * The rank of the target among a row of scores (0 = best; ties count against the target).
 *
 * @param scores One row of scores.
 * @param target The target's index.
 * @returns How many scores exceed or equal the target's, other than itself.
 */
export function rankOf(scores: Float32Array, target: number): number {
  const t = scores[target]!;
  let rank = 0;
  for (let i = 0; i < scores.length; i++) if (i !== target && scores[i]! >= t) rank++;
  return rank;
}

/**
 * HR@k and NDCG@k of one ranking: 1 and 1/log2(rank + 2) when the target is in the top k.
 *
 * @param rank The target's rank (0 = best).
 * @param k Cut-off.
 * @returns The two per-sequence figures.
 */
export function hitAndNdcg(rank: number, k = 10): { hit: number; ndcg: number } {
  return rank < k ? { hit: 1, ndcg: 1 / Math.log2(rank + 2) } : { hit: 0, ndcg: 0 };
}

/**
 * The indices of the `k` largest scores, best first (ties to the lower index).
 *
 * @param scores One row.
 * @param k How many.
 * @returns Indices.
 */
export function topIndices(scores: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (best.length === k && scores[i]! <= scores[best[k - 1]!]!) continue;
    let at = Math.min(best.length, k - 1);
    if (best.length < k) best.push(i);
    else best[at] = i;
    while (at > 0 && scores[best[at - 1]!]! < scores[i]!) {
      best[at] = best[at - 1]!;
      best[at - 1] = i;
      at--;
    }
  }
  return best;
}

/**
 * A percentile-bootstrap 95 % interval of a statistic of rows (default: their mean).
 *
 * @param n Rows.
 * @param stat The statistic of a resample, given the row indices drawn.
 * @param options Resamples (default 1,000) and seed (default 0).
 * @returns The statistic over all rows and its interval.
 */
export function bootstrap(
  n: number,
  stat: (rows: Int32Array) => number,
  options: { resamples?: number; seed?: number } = {},
): Estimate {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const value = stat(all);
  if (n < 2) return { value, low: value, high: value };
  const rng = createRng(options.seed ?? 0);
  const draws: number[] = [];
  const rows = new Int32Array(n);
  for (let r = 0; r < (options.resamples ?? 1000); r++) {
    for (let i = 0; i < n; i++) rows[i] = rng.int(n);
    draws.push(stat(rows));
  }
  draws.sort((a, b) => a - b);
  return { value, low: quantile(draws, 0.025), high: quantile(draws, 0.975) };
}

/**
 * The mean of values with its bootstrap interval.
 *
 * @param values Values.
 * @param seed Seed of the resampling.
 * @returns The estimate.
 */
export function meanCi(values: readonly number[], seed = 0): Estimate {
  return bootstrap(values.length, (rows) => {
    let s = 0;
    for (const i of rows) s += values[i]!;
    return s / Math.max(1, rows.length);
  }, { seed });
}

/**
 * The Wilson score 95 % interval of a proportion k / n.
 *
 * @param k Successes.
 * @param n Trials.
 * @returns The proportion (NaN when n is 0) and its interval.
 */
export function wilson(k: number, n: number): Estimate {
  if (n === 0) return { value: NaN, low: NaN, high: NaN };
  const z = 1.959964;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { value: p, low: Math.max(0, c - h), high: Math.min(1, c + h) };
}

/** Latent activations of a set of sequences, sparse: for sequence s, `idx[off[s]..off[s+1])`. */
export interface SparseActivations {
  /** Sequences. */
  count: number;
  /** Offsets into `idx`, `count + 1` of them. */
  off: Uint32Array;
  /** Active latents. */
  idx: Uint16Array;
}

/** Which concepts each sequence carries: `labels[c][s]` is 1 when sequence s has concept c. */
export type ConceptLabels = readonly Uint8Array[];

/** Per latent and concept: activations, concept occurrences and their overlap. */
export interface Cooccurrence {
  /** Sequences. */
  sequences: number;
  /** Sequences each latent fired on. */
  fires: Uint32Array;
  /** Sequences each concept occurs in. */
  occurs: Uint32Array;
  /** `both[j * concepts + c]`: sequences where latent j fired and concept c occurs. */
  both: Uint32Array;
}

/**
 * Counts, for every latent and concept, how often they occur together.
 *
 * @param acts Sparse activations.
 * @param labels Concept labels of the same sequences.
 * @param latents Latent count.
 * @returns The counts.
 */
export function cooccurrence(
  acts: SparseActivations,
  labels: ConceptLabels,
  latents: number,
): Cooccurrence {
  const concepts = labels.length;
  const fires = new Uint32Array(latents);
  const occurs = new Uint32Array(concepts);
  const both = new Uint32Array(latents * concepts);
  for (let s = 0; s < acts.count; s++) {
    const present: number[] = [];
    for (let c = 0; c < concepts; c++) if (labels[c]![s]) present.push(c);
    for (const c of present) occurs[c]!++;
    for (let i = acts.off[s]!; i < acts.off[s + 1]!; i++) {
      const j = acts.idx[i]!;
      fires[j]!++;
      for (const c of present) both[j * concepts + c]!++;
    }
  }
  return { sequences: acts.count, fires, occurs, both };
}

/** The rule that accepts a latent's concept. */
export interface DictionaryRule {
  /** A latent must fire on at least this many building sequences. */
  minFires: number;
  /** Least F1 (of precision and recall, as defined in {@linkcode validate}) on the building set. */
  minF1: number;
  /** Least lift: P(concept | latent fired) over P(concept). */
  minLift: number;
}

/** One entry of the concept dictionary. */
export interface DictionaryEntry {
  /** Latent index. */
  latent: number;
  /** Concept index. */
  concept: number;
  /** Precision, recall and F1 on the building set. */
  build: { precision: number; recall: number; f1: number; lift: number; fires: number };
}

function scores(co: Cooccurrence, j: number, c: number, concepts: number) {
  const tp = co.both[j * concepts + c]!;
  const precision = co.occurs[c]! > 0 ? tp / co.occurs[c]! : 0;
  const recall = co.fires[j]! > 0 ? tp / co.fires[j]! : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  const base = co.occurs[c]! / Math.max(1, co.sequences);
  const lift = base > 0 ? recall / base : 0;
  return { tp, precision, recall, f1, lift };
}

/**
 * Builds the concept dictionary: each latent that fires often enough gets the concept that best
 * predicts its activation (largest F1) when that concept passes the rule, else none.
 *
 * @param co Co-occurrence counts on the building set.
 * @param rule The acceptance rule.
 * @returns The entries, by latent.
 */
export function buildDictionary(co: Cooccurrence, rule: DictionaryRule): DictionaryEntry[] {
  const concepts = co.occurs.length;
  const out: DictionaryEntry[] = [];
  for (let j = 0; j < co.fires.length; j++) {
    if (co.fires[j]! < rule.minFires) continue;
    let best: { c: number; s: ReturnType<typeof scores> } | undefined;
    for (let c = 0; c < concepts; c++) {
      const s = scores(co, j, c, concepts);
      if (!best || s.f1 > best.s.f1) best = { c, s };
    }
    if (!best || best.s.f1 < rule.minF1 || best.s.lift < rule.minLift) continue;
    out.push({
      latent: j,
      concept: best.c,
      build: {
        precision: best.s.precision,
        recall: best.s.recall,
        f1: best.s.f1,
        lift: best.s.lift,
        fires: co.fires[j]!,
      },
    });
  }
  return out;
}

/** How a dictionary entry predicted its latent on new sequences. */
export interface Validation {
  /** The entry. */
  entry: DictionaryEntry;
  /** P(latent fires | concept occurs): the prediction "fires wherever the concept is" scored. */
  precision: Estimate;
  /** P(concept occurs | latent fires). */
  recall: Estimate;
  /** The interpretation's confidence: F1 of the two on the new sequences. */
  confidence: number;
}

/**
 * Validates a dictionary on new sequences: each entry predicts that its latent fires exactly
 * where its concept occurs; precision and recall of that prediction, with Wilson intervals.
 *
 * @param dictionary The entries.
 * @param co Co-occurrence counts on the new sequences.
 * @returns One validation per entry.
 */
export function validate(dictionary: readonly DictionaryEntry[], co: Cooccurrence): Validation[] {
  const concepts = co.occurs.length;
  return dictionary.map((entry) => {
    const s = scores(co, entry.latent, entry.concept, concepts);
    return {
      entry,
      precision: wilson(s.tp, co.occurs[entry.concept]!),
      recall: wilson(s.tp, co.fires[entry.latent]!),
      confidence: s.f1,
    };
  });
}
