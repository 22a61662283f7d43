/**
 * Comparing runs made on different machines: cells matched by suite, target, method, parameters
 * and sparsity; time on each device, the ratio to the first run, and the significance of the
 * difference from the raw samples (two-sided Mann–Whitney U). Runs are compared only when they
 * ran the same suites on the same pinned models and data (MLPerf's rule: compare only what is
 * comparable).
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import { mannWhitney } from "../stats.ts";
import type { RunData } from "./run_data.ts";

/** One cell across runs. */
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
  /** Per run: the device, or null where the run lacks the cell. */
  devices: (string | null)[];
  /** Per run: median ms per run. */
  timesMs: (number | null)[];
  /** Per run: time / the first run's time. */
  ratios: (number | null)[];
  /** Per run: Mann–Whitney p-value of its samples against the first run's (null without samples). */
  pValues: (number | null)[];
  /** Per run: speedup over dense on that device. */
  speedups: (number | null)[];
  /** Per run: the metric (identical across runs when the evaluation is deterministic). */
  accuracies: (number | null)[];
}

/** Pins of a suite as a run recorded them. */
interface SuitePins {
  id: string;
  sha256: string;
  model?: { sha256: string };
  dataset?: { hash: string };
}

function pinsOf(run: RunData): Map<string, SuitePins> {
  const suites = (run.run.suites ?? []) as SuitePins[];
  return new Map(suites.map((s) => [s.id, s]));
}

/**
 * Checks that runs are comparable and returns the suites they share.
 *
 * @param runs Two or more runs.
 * @returns Shared suite ids.
 * @throws {Error} When a shared suite's file, model or data differ, or nothing is shared.
 */
export function comparableSuites(runs: readonly RunData[]): string[] {
  if (runs.length < 2) throw new RangeError("Cannot compare: give at least two run folders");
  const pins = runs.map(pinsOf);
  const shared = [...pins[0]!.keys()].filter((id) => pins.every((p) => p.has(id)));
  if (shared.length === 0) {
    throw new Error(
      `Runs ${runs.map((r) => r.id).join(", ")} are not comparable: they share no suite`,
    );
  }
  for (const id of shared) {
    const a = pins[0]!.get(id)!;
    for (let i = 1; i < runs.length; i++) {
      const b = pins[i]!.get(id)!;
      const differs = a.sha256 !== b.sha256
        ? `suite file hash differs (${a.sha256.slice(0, 12)} vs ${b.sha256.slice(0, 12)})`
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
  return shared;
}

function matchKey(c: CellResult): string {
  return `${c.suite}|${c.target}|${c.method}|${c.params}|${c.sparsity_target ?? "-"}|${
    c.extra.shape ?? ""
  }`;
}

/**
 * Matches the cells of comparable runs.
 *
 * @param runs Two or more runs; the first is the reference.
 * @returns Compared cells, in the first run's order.
 */
export function compareRuns(runs: readonly RunData[]): ComparedCell[] {
  const suites = new Set(comparableSuites(runs));
  const maps = runs.map((r) =>
    new Map(
      r.cells.filter((c) => suites.has(c.suite) && c.status === "completed").map((
        c,
      ) => [matchKey(c), c]),
    )
  );
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))];
  return keys.map((key) => {
    const cells = maps.map((m) => m.get(key));
    const ref = cells.find((c) => c !== undefined)!;
    const base = cells[0];
    return {
      suite: ref.suite,
      target: ref.target,
      method: ref.method,
      params: ref.params,
      sparsity: ref.sparsity_target,
      devices: cells.map((c) => c?.device ?? null),
      timesMs: cells.map((c) => c?.time_median_ms ?? null),
      ratios: cells.map((c) =>
        c?.time_median_ms != null && base?.time_median_ms != null
          ? c.time_median_ms / base.time_median_ms
          : null
      ),
      pValues: cells.map((c, i) => {
        if (i === 0 || !c || !base || c.samples_ms.length < 3 || base.samples_ms.length < 3) {
          return null;
        }
        return mannWhitney(base.samples_ms, c.samples_ms).p;
      }),
      speedups: cells.map((c) => c?.speedup ?? null),
      accuracies: cells.map((c) => c?.accuracy ?? null),
    };
  });
}
