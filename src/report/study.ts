/**
 * What a study (a suite family: activation sparsity, pruning, CoreMatching, kernels, …) adds to
 * the generic report: its own findings, sections, charts and labels. Studies live on the suites
 * floor and are handed to the reporter in its options, so the reporter knows no method, kernel or
 * suite by name.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import type { Html } from "./html.ts";
import type { ChartSpec } from "./chart_spec.ts";
import type { RunData } from "./run_data.ts";

/** A section of a report: a heading and markup built with `html`. */
export interface ReportSection {
  /** The heading (plain text). */
  title: string;
  /** The body. */
  body: Html;
}

/** One sentence of a findings block, as plain text a reader can quote. */
export interface Finding {
  /** The sentence. */
  text: string;
  /** `warn` for a banner (interrupted, partial or superseded runs, a failed claim). */
  level?: "info" | "warn";
}

/** A figure a paper claims, as run.json records it from the suite. */
export interface RecordedClaim {
  /** What the figure is. */
  label: string;
  /** The value. */
  value: number;
  /** Its unit. */
  unit: string;
  /** Where it comes from. */
  source: string;
}

/** A study's part of the report. Every hook gets one suite's cells (all statuses). */
export interface StudyReport {
  /** The study's name, for headings. */
  name: string;
  /** Whether the study covers a suite. */
  covers(suiteId: string): boolean;
  /** Sentences for the findings block. */
  findings?(cells: readonly CellResult[], run: RunData): Finding[];
  /** Extra sections. */
  sections?(cells: readonly CellResult[], run: RunData): ReportSection[];
  /** Extra charts. */
  charts?(cells: readonly CellResult[]): ChartSpec[];
  /** Leave out the generic findings (the study's own say it better, e.g. kernels against a GEMV). */
  omitGenericFindings?: boolean;
  /** Generic chart ids (e.g. `speedup`, `flops`) that do not apply to the suite. */
  omitCharts?: readonly string[];
  /** A short human label for a variant ("WINA-thr 50 %"); undefined keeps the generic one. */
  label?(cell: CellResult): string | undefined;
  /** The figure this run measured for a paper's claim, in words (undefined: not measured). */
  measured?(claim: RecordedClaim, cells: readonly CellResult[]): string | undefined;
  /** What a cell's `layer_density` measures, for the density chart's title. */
  densityMeaning?: string;
}

/**
 * The studies that apply to a suite.
 *
 * @param studies The registry.
 * @param suiteId The suite.
 * @returns The studies covering it, in registry order.
 */
export function studiesFor(
  studies: readonly StudyReport[],
  suiteId: string,
): StudyReport[] {
  return studies.filter((s) => s.covers(suiteId));
}
