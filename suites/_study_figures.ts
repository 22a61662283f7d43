/**
 * Small pieces the study reports share: cells of a suite that completed, a binomial standard
 * error for comparing accuracies honestly, and the best cell by a figure.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";

/**
 * The completed cells.
 *
 * @param cells Cells.
 * @returns Those with status "completed".
 */
export function completed(cells: readonly CellResult[]): CellResult[] {
  return cells.filter((c) => c.status === "completed");
}

/**
 * One binomial standard error of an accuracy over n samples (0 without n): two accuracies closer
 * than about this are a tie on that many samples.
 *
 * @param accuracy The accuracy.
 * @param n Samples.
 * @returns The standard error.
 */
export function binomialSe(accuracy: number, n: number | null): number {
  return n ? Math.sqrt((accuracy * (1 - accuracy)) / n) : 0;
}

/**
 * The cell with the largest value of a figure.
 *
 * @param cells Cells.
 * @param figure The figure (null where absent).
 * @returns The cell, or undefined when none has it.
 */
export function maxBy(
  cells: readonly CellResult[],
  figure: (c: CellResult) => number | null,
): CellResult | undefined {
  let best: CellResult | undefined;
  for (const c of cells) {
    const v = figure(c);
    if (v === null || !Number.isFinite(v)) continue;
    if (best === undefined || v > figure(best)!) best = c;
  }
  return best;
}
