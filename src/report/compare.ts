/**
 * Comparing runs made on different machines: cells matched by suite, target, method, parameters
 * and sparsity (and kernel shape). For each machine against the first: the ratio of absolute
 * times and the ratio of speedups over dense, each with a bootstrap confidence interval from the
 * raw samples, a two-sided p-value for each, and the accuracies side by side.
 *
 * Runs are compared only when they ran the same suites on the same pinned models and data
 * (MLPerf's rule: compare only what is comparable), and only when they ran the same code (git
 * commit, clean tree, suite file and recorded source hashes) unless the caller allows different
 * code, in which case the differences are returned for the report to state.
 *
 * @module
 */

import { createRng } from "../../lib/prng.ts";
import type { CellResult } from "../result.ts";
import { bootstrapRatioCi, type Interval, mannWhitney, median } from "../stats.ts";
import type { RunData } from "./run_data.ts";
import { DENSE } from "./charts.ts";

/** One cell across runs. Per-run arrays hold null where a run lacks the cell or the figure. */
export interface ComparedCell {
  /** Suite id. */
  suite: string;
  /** Target id. */
  target: string;
  /** Method id. */
  method: string;
  /** Method parameters (JSON). */
  params: string;
  /** Target sparsity. */
  sparsity: number | null;
  /** Kernel shape (kernels suite), "" elsewhere. */
  shape: string;
  /** The cells themselves, per run. */
  cells: (CellResult | null)[];
  /** Per run: the device. */
  devices: (string | null)[];
  /** Per run: median ms per run. */
  timesMs: (number | null)[];
  /** Per run: time / the first run's time (ratio of medians). */
  ratios: (number | null)[];
  /** Per run: 95 % bootstrap interval of that time ratio (null for the first run). */
  ratioCis: (Interval | null)[];
  /** Per run: two-sided Mann–Whitney p of its raw times against the first run's. */
  pValues: (number | null)[];
  /** Per run: speedup over dense on that device. */
  speedups: (number | null)[];
  /** Per run: speedup / the first run's speedup, with a 95 % bootstrap interval. */
  speedupRatios: (Interval | null)[];
  /** Per run: two-sided bootstrap p of "the speedup ratio is 1" (bounded below by 2/resamples). */
  speedupRatioPs: (number | null)[];
  /** Per run: the metric (identical across runs when the evaluation is deterministic). */
  accuracies: (number | null)[];
}

/** Options of {@linkcode compareRuns}. */
export interface CompareOptions {
  /** Compare runs of different code (the differences are then listed by {@linkcode codeDifferences}). */
  allowDifferentCode?: boolean;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
}

/** Pins of a suite as a run recorded them. */
interface SuitePins {
  id: string;
  sha256: string;
  model?: { sha256: string };
  dataset?: { hash: string };
  files?: { path: string; sha256: string }[];
}

function pinsOf(run: RunData): Map<string, SuitePins> {
  const suites = (Array.isArray(run.run.suites) ? run.run.suites : []) as SuitePins[];
  return new Map(suites.filter((s) => s && typeof s.id === "string").map((s) => [s.id, s]));
}

function gitOf(run: RunData): { commit?: string; dirty?: boolean } {
  const env = run.run.environment as { git?: { commit?: string; dirty?: boolean } } | undefined;
  return env?.git ?? {};
}

function sharedSuites(runs: readonly RunData[]): string[] {
  if (runs.length < 2) throw new RangeError("Cannot compare: give at least two run folders");
  const pins = runs.map(pinsOf);
  const shared = [...pins[0]!.keys()].filter((id) => pins.every((p) => p.has(id)));
  if (shared.length === 0) {
    throw new Error(
      `Runs ${runs.map((r) => r.id).join(", ")} are not comparable: they share no suite`,
    );
  }
  return shared;
}

/**
 * How the code of the runs differs: git commit, uncommitted changes, suite file hashes, and the
 * source files each suite recorded (e.g. kernel sources). Empty when the code is provably the same.
 *
 * @param runs Two or more runs; the first is the reference.
 * @returns One line per difference.
 */
export function codeDifferences(runs: readonly RunData[]): string[] {
  const out: string[] = [];
  const shared = sharedSuites(runs);
  const a = runs[0]!;
  const ga = gitOf(a);
  for (const r of runs) {
    const g = gitOf(r);
    if (!g.commit || g.commit === "unknown") {
      out.push(`run ${r.id} records no git commit, so its code cannot be matched`);
    } else if (g.dirty) {
      out.push(
        `run ${r.id} was made from a tree with uncommitted changes (${g.commit.slice(0, 7)}-dirty)`,
      );
    }
  }
  const pa = pinsOf(a);
  for (const r of runs.slice(1)) {
    const g = gitOf(r);
    if (
      ga.commit && g.commit && ga.commit !== "unknown" && g.commit !== "unknown" &&
      ga.commit !== g.commit
    ) {
      out.push(
        `runs ${a.id} and ${r.id} are of different commits (${ga.commit.slice(0, 7)} vs ${
          g.commit.slice(0, 7)
        })`,
      );
    }
    const pr = pinsOf(r);
    for (const id of shared) {
      const x = pa.get(id)!;
      const y = pr.get(id)!;
      if (x.sha256 !== y.sha256) {
        out.push(
          `suite ${id}: suite file hash differs (${String(x.sha256).slice(0, 12)} vs ${
            String(y.sha256).slice(0, 12)
          })`,
        );
      }
      const fy = new Map((y.files ?? []).map((f) => [f.path, f.sha256]));
      for (const f of x.files ?? []) {
        const other = fy.get(f.path);
        if (other !== undefined && other !== f.sha256) {
          out.push(`suite ${id}: ${f.path} differs between ${a.id} and ${r.id}`);
        }
      }
    }
  }
  return [...new Set(out)];
}

/**
 * Checks that runs are comparable and returns the suites they share.
 *
 * @param runs Two or more runs.
 * @param options `allowDifferentCode`.
 * @returns Shared suite ids.
 * @throws {Error} When a shared suite's model or data differ, nothing is shared, or (without
 *   `allowDifferentCode`) the code differs.
 */
export function comparableSuites(runs: readonly RunData[], options: CompareOptions = {}): string[] {
  const shared = sharedSuites(runs);
  const pins = runs.map(pinsOf);
  for (const id of shared) {
    const a = pins[0]!.get(id)!;
    for (let i = 1; i < runs.length; i++) {
      const b = pins[i]!.get(id)!;
      const differs = a.sha256 !== b.sha256 && !options.allowDifferentCode
        ? `suite file hash differs (${a.sha256?.slice(0, 12)} vs ${
          b.sha256?.slice(0, 12)
        }; pass --allow-different-code to compare anyway)`
        : a.model?.sha256 !== b.model?.sha256
        ? `model sha256 differs (${a.model?.sha256?.slice(0, 12)} vs ${
          b.model?.sha256?.slice(0, 12)
        })`
        : a.dataset?.hash !== b.dataset?.hash
        ? `dataset hash differs (${a.dataset?.hash?.slice(0, 12)} vs ${
          b.dataset?.hash?.slice(0, 12)
        })`
        : undefined;
      if (differs) {
        throw new Error(
          `Runs ${runs[0]!.id} and ${runs[i]!.id} are not comparable for suite ${id}: ${differs}`,
        );
      }
    }
  }
  if (!options.allowDifferentCode) {
    const diff = codeDifferences(runs);
    if (diff.length > 0) {
      throw new Error(
        `Runs ${runs.map((r) => r.id).join(" and ")} are not of the same code: ${diff[0]}${
          diff.length > 1 ? ` (and ${diff.length - 1} more)` : ""
        }; pass --allow-different-code to compare anyway`,
      );
    }
  }
  return shared;
}

function matchKey(c: CellResult): string {
  return `${c.suite}|${c.target}|${c.method}|${c.params}|${c.sparsity_target ?? "-"}|${
    c.extra.shape ?? ""
  }`;
}

/**
 * The ratio of two machines' speedups, (median(bDense)/median(bVar)) / (median(aDense)/median(aVar)),
 * with a percentile bootstrap interval: each machine's samples are resampled on their own (paired
 * dense/variant rounds stay paired), since the machines' runs are independent.
 *
 * @param a The reference machine's `{ dense, variant }` samples.
 * @param b The other machine's.
 * @param options Resamples, seed.
 * @returns The ratio with its 95 % interval, and the two-sided bootstrap p of ratio = 1.
 */
export function speedupRatio(
  a: { dense: readonly number[]; variant: readonly number[] },
  b: { dense: readonly number[]; variant: readonly number[] },
  options: { resamples?: number; seed?: number } = {},
): Interval & { p: number } {
  const resamples = options.resamples ?? 2000;
  const rng = createRng(options.seed ?? 0);
  const draw = (d: readonly number[], v: readonly number[]) => {
    const paired = d.length === v.length;
    const dd = new Array<number>(d.length);
    const vv = new Array<number>(v.length);
    for (let i = 0; i < dd.length; i++) {
      const k = rng.int(d.length);
      dd[i] = d[k]!;
      if (paired) vv[i] = v[k]!;
    }
    if (!paired) { for (let i = 0; i < vv.length; i++) vv[i] = v[rng.int(v.length)]!; }
    return median(dd) / median(vv);
  };
  const estimate = (median(b.dense) / median(b.variant)) / (median(a.dense) / median(a.variant));
  const ratios = new Float64Array(resamples);
  let below = 0;
  let above = 0;
  for (let r = 0; r < resamples; r++) {
    const x = draw(b.dense, b.variant) / draw(a.dense, a.variant);
    ratios[r] = x;
    if (x <= 1) below++;
    if (x >= 1) above++;
  }
  ratios.sort();
  const at = (q: number) =>
    ratios[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  // The bootstrap cannot resolve p below 2 / resamples; report that bound rather than 0.
  const p = Math.max(2 / resamples, Math.min(1, (2 * Math.min(below, above)) / resamples));
  return { estimate, low: at(0.025), high: at(0.975), p };
}

/**
 * A p-value as it may honestly be printed: "< 1e-3" below a thousandth (the normal approximation
 * and the bootstrap resolve no finer), else two significant digits.
 *
 * @param p The p-value.
 * @returns Text.
 */
export function formatP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return "";
  return p < 1e-3 ? "< 1e-3" : p.toPrecision(2);
}

/**
 * Matches the cells of comparable runs.
 *
 * @param runs Two or more runs; the first is the reference.
 * @param options `allowDifferentCode`, bootstrap resamples and seed.
 * @returns Compared cells, in the first run's order.
 */
export function compareRuns(
  runs: readonly RunData[],
  options: CompareOptions = {},
): ComparedCell[] {
  const suites = new Set(comparableSuites(runs, options));
  const maps = runs.map((r) =>
    new Map(
      r.cells.filter((c) => suites.has(c.suite) && c.status === "completed").map((
        c,
      ) => [matchKey(c), c]),
    )
  );
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))];
  const boot = { resamples: options.resamples ?? 2000, seed: options.seed ?? 0 };
  return keys.map((key) => {
    const cells = maps.map((m) => m.get(key) ?? null);
    const ref = cells.find((c) => c !== null)!;
    const base = cells[0];
    const hasSamples = (c: CellResult | null | undefined): c is CellResult =>
      !!c && c.samples_ms.length >= 3;
    const pairs = (c: CellResult | null | undefined): c is CellResult =>
      hasSamples(c) && c.dense_samples_ms.length >= 3 && c.speedup !== null;
    const ratioOf = (c: CellResult | null) => {
      // Dense over itself is 1 by construction: only variants have a speedup to compare.
      if (c === base || ref.method === DENSE || !pairs(c) || !pairs(base)) return null;
      return speedupRatio(
        { dense: base.dense_samples_ms, variant: base.samples_ms },
        { dense: c.dense_samples_ms, variant: c.samples_ms },
        boot,
      );
    };
    const speedupRatios = cells.map(ratioOf);
    return {
      suite: ref.suite,
      target: ref.target,
      method: ref.method,
      params: ref.params,
      sparsity: ref.sparsity_target,
      shape: String(ref.extra.shape ?? ""),
      cells,
      devices: cells.map((c) => c?.device ?? null),
      timesMs: cells.map((c) => c?.time_median_ms ?? null),
      ratios: cells.map((c) =>
        c?.time_median_ms != null && base?.time_median_ms != null
          ? c.time_median_ms / base.time_median_ms
          : null
      ),
      ratioCis: cells.map((c, i) =>
        i > 0 && hasSamples(c) && hasSamples(base)
          ? bootstrapRatioCi(c.samples_ms, base.samples_ms, { ...boot, paired: false })
          : null
      ),
      pValues: cells.map((c, i) =>
        i > 0 && hasSamples(c) && hasSamples(base)
          ? mannWhitney(base.samples_ms, c.samples_ms).p
          : null
      ),
      speedups: cells.map((c) => c?.speedup ?? null),
      speedupRatios: speedupRatios.map((r) =>
        r === null ? null : { estimate: r.estimate, low: r.low, high: r.high }
      ),
      speedupRatioPs: speedupRatios.map((r) => r?.p ?? null),
      accuracies: cells.map((c) => c?.accuracy ?? null),
    };
  });
}
