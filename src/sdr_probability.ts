/**
 * False-match probabilities of sparse distributed representations (Ahmad & Hawkins 2016): a
 * dendritic segment with s synapses and threshold θ matches a random SDR with a active cells out
 * of n with probability
 *
 *   P = Σ_{b=θ}^{min(s,a)} C(s, b) · C(n − s, a − b) / C(n, a).
 *
 * {@linkcode falseMatchExact} computes it exactly with BigInt integers (every binomial exact, the
 * sum exact, one exact division at the end), so any number of significant digits is correct; the
 * result is converted to a float only at the very end, with 60 bits of the quotient kept. The
 * union case (one segment holding synapses for m patterns) is the same formula with s·m synapses.
 * {@linkcode falseMatchLog} is an independent float64 computation in log space (log-gamma and a
 * log-sum-exp), used to cross-check the exact one.
 *
 * @module
 */

/** Parameters of a false-match probability. */
export interface SdrParams {
  /** Cells in the population. */
  n: number;
  /** Active cells in the SDR. */
  a: number;
  /** Synapses on the segment (per pattern). */
  s: number;
  /** Threshold: the segment matches when at least θ of its synapses see active cells. */
  theta: number;
  /** Patterns stored on the segment (union); default 1. */
  m?: number;
}

/** A probability that may be far below float64's range. */
export interface Probability {
  /** The value as a float (0 when it underflows). */
  value: number;
  /** log10 of the value (finite whenever the value is nonzero). */
  log10: number;
  /** Scientific notation with 6 significant digits, e.g. "1.65387e-15". */
  text: string;
}

function check(p: SdrParams): { n: number; a: number; s: number; theta: number } {
  const m = p.m ?? 1;
  const s = p.s * m;
  for (const [k, v] of Object.entries({ n: p.n, a: p.a, s: p.s, theta: p.theta, m })) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`Invalid ${k}=${v}: must be a non-negative integer`);
    }
  }
  if (p.a > p.n) throw new RangeError(`Invalid a=${p.a}: more active cells than cells (n=${p.n})`);
  if (s > p.n) throw new RangeError(`Invalid s·m=${s}: more synapses than cells (n=${p.n})`);
  if (p.theta < 1) throw new RangeError(`Invalid theta=${p.theta}: must be at least 1`);
  return { n: p.n, a: p.a, s, theta: p.theta };
}

/**
 * C(n, k) exactly.
 *
 * @param n n.
 * @param k k.
 * @returns The binomial coefficient.
 */
export function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  const kk = Math.min(k, n - k);
  let r = 1n;
  for (let i = 1; i <= kk; i++) r = (r * BigInt(n - kk + i)) / BigInt(i);
  return r;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * num / den as a {@linkcode Probability}, keeping 60 significant bits of the quotient.
 *
 * @param num Numerator (≥ 0).
 * @param den Denominator (> 0).
 * @returns The probability.
 */
export function ratio(num: bigint, den: bigint): Probability {
  if (num === 0n) return { value: 0, log10: -Infinity, text: "0" };
  const shift = bitLength(den) - bitLength(num) + 60;
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift));
  const log2 = Math.log2(Number(q)) - shift;
  const log10 = log2 * Math.log10(2);
  const value = log2 < -1074 ? 0 : Number(q) * 2 ** -shift;
  const exp = Math.floor(log10);
  const mant = 10 ** (log10 - exp);
  return {
    value,
    log10,
    text: `${mant.toFixed(5)}e${exp >= 0 ? "+" : ""}${exp}`.replace(/^10\.00000e/, "1.00000e"),
  };
}

/**
 * The exact false-match probability.
 *
 * @example Usage
 * ```ts
 * import { falseMatchExact } from "./sdr_probability.ts";
 * console.log(falseMatchExact({ n: 200000, a: 2000, s: 20, theta: 10 }).text); // "1.65387e-15"
 * ```
 *
 * @param p Parameters.
 * @returns The probability.
 */
export function falseMatchExact(p: SdrParams): Probability {
  const { n, a, s, theta } = check(p);
  const top = Math.min(s, a);
  if (theta > top) return { value: 0, log10: -Infinity, text: "0" };
  const den = binomial(n, a);
  // C(n − s, a − b) for b = θ, then stepped to b + 1 exactly: C(N, k − 1) = C(N, k) · k / (N − k + 1).
  const bigN = n - s;
  let cNs = binomial(bigN, a - theta);
  let cS = binomial(s, theta);
  let num = 0n;
  for (let b = theta; b <= top; b++) {
    num += cS * cNs;
    const k = a - b;
    cNs = k > 0 && bigN - k + 1 > 0 ? (cNs * BigInt(k)) / BigInt(bigN - k + 1) : 0n;
    cS = (cS * BigInt(s - b)) / BigInt(b + 1);
  }
  return ratio(num, den);
}

/**
 * log Γ(x) for x > 0 (Lanczos, g = 7, 9 coefficients; relative error about 1e-15).
 *
 * @param x x.
 * @returns log Γ(x).
 */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61503916999185,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (xx + i);
  const t = xx + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(s);
}

function logBinomial(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * The false-match probability in float64 log space: an independent check of the exact value.
 *
 * @param p Parameters.
 * @returns log10 of the probability.
 */
export function falseMatchLog(p: SdrParams): number {
  const { n, a, s, theta } = check(p);
  const top = Math.min(s, a);
  if (theta > top) return -Infinity;
  const logs: number[] = [];
  for (let b = theta; b <= top; b++) logs.push(logBinomial(s, b) + logBinomial(n - s, a - b));
  const max = Math.max(...logs);
  const sum = logs.reduce((acc, l) => acc + Math.exp(l - max), 0);
  return (max + Math.log(sum) - logBinomial(n, a)) / Math.LN10;
}
