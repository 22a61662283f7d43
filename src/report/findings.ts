/**
 * The generic findings of a run, computed from the fixed fields of its cells: per suite and
 * target, the fastest variant that passes the quality gate (with its interval, FLOPs and
 * accuracy), the largest FLOPs saving against the wall time it bought, the gate's pass count;
 * banners for interrupted, partial and superseded runs. Studies add their own sentences.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import { DENSE } from "./charts.ts";
import { variantLabel } from "./labels.ts";
import type { RunData } from "./run_data.ts";
import { type Finding, studiesFor, type StudyReport } from "./study.ts";

/** Options of {@linkcode runFindings}. */
export interface FindingsOptions {
  /** The studies. */
  studies?: readonly StudyReport[];
  /** The id of a later run that supersedes this one (shown as a banner). */
  supersededBy?: string;
  /** Whether the run is a published one (a published run still "running" was interrupted). */
  published?: boolean;
}

/**
 * The dense median a cell's speedup was divided by, where the cell records it.
 *
 * @param c The cell.
 * @returns Milliseconds, or null.
 */
export function densePairedMs(c: CellResult): number | null {
  const v = (c as unknown as Record<string, unknown>).dense_paired_median_ms;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * How a run ended, for banners and the index: `finished`, `interrupted` (run.json still says
 * "running" in a published run, or an unpublished one whose owner is gone), or what run.json says.
 *
 * @param run The run.
 * @param published Whether it is a published run.
 * @returns The status in words.
 */
export function runStatus(run: RunData, published = false): string {
  const s = String(run.run.status ?? "unknown");
  if (s === "running") return published ? "interrupted" : "running or interrupted";
  return s;
}

/**
 * A speedup with its interval: "1.12x [1.05, 1.20]".
 *
 * @param c The cell.
 * @returns Text.
 */
export function speedupText(c: CellResult): string {
  const ci = c.speedup_ci_low !== null && c.speedup_ci_high !== null
    ? ` [${c.speedup_ci_low.toFixed(2)}, ${c.speedup_ci_high.toFixed(2)}]`
    : "";
  return `${c.speedup!.toFixed(2)}x${ci}`;
}

function verdict(c: CellResult): string {
  if (c.speedup_ci_low !== null && c.speedup_ci_low > 1) return "measurably faster than dense";
  if (c.speedup_ci_high !== null && c.speedup_ci_high < 1) return "slower than dense";
  return "not measurably different from dense (the interval holds 1.0x)";
}

/**
 * Milliseconds for a sentence: three significant digits, whole numbers from 100 ms up.
 *
 * @param ms Milliseconds.
 * @returns E.g. "0.157 ms", "1380 ms".
 */
export function msText(ms: number): string {
  return `${ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3)} ms`;
}

function timingText(c: CellResult): string {
  const dense = densePairedMs(c);
  if (c.time_median_ms === null) return "";
  return dense === null
    ? `, ${msText(c.time_median_ms)}`
    : `, ${msText(c.time_median_ms)} vs ${msText(dense)} paired dense`;
}

function suiteFindings(
  suite: string,
  cells: readonly CellResult[],
  studies: readonly StudyReport[],
): Finding[] {
  const out: Finding[] = [];
  const done = cells.filter((c) => c.status === "completed");
  const variants = done.filter((c) => c.method !== DENSE);
  const label = (c: CellResult) => variantLabel(c, studies);
  const gated = variants.filter((c) => c.gate !== "fail");
  for (const target of [...new Set(variants.map((c) => c.target))]) {
    const timed = gated.filter((c) => c.target === target && c.speedup !== null);
    if (timed.length === 0) continue;
    const best = timed.reduce((a, b) => (b.speedup! > a.speedup! ? b : a));
    const acc = best.accuracy !== null && best.accuracy_dense !== null
      ? `, ${best.metric} ${best.accuracy.toFixed(4)} vs dense ${best.accuracy_dense.toFixed(4)}`
      : "";
    const flops = best.flops_reduction !== null
      ? `, ${best.flops_reduction.toFixed(2)}x fewer FLOPs`
      : "";
    const within = best.gate === "pass" ? " within the quality gate" : "";
    out.push({
      text: `${suite} on ${target} (${best.device}): the fastest variant${within} is ${
        label(best)
      } at ${speedupText(best)}, ${verdict(best)}${flops}${acc}${timingText(best)}.`,
    });
  }
  const withFlops = gated.filter((c) => c.flops_reduction !== null && c.gate === "pass");
  if (withFlops.length > 0) {
    const most = withFlops.reduce((a, b) => (b.flops_reduction! > a.flops_reduction! ? b : a));
    const same = variants.filter((c) => label(c) === label(most) && c.speedup !== null);
    const wall = same.map((c) => `${c.target} ${speedupText(c)}`).join("; ");
    out.push({
      text: `${suite}: the largest FLOPs saving within the gate is ${label(most)}, ${
        most.flops_reduction!.toFixed(2)
      }x fewer FLOPs${wall ? `; the wall time it bought: ${wall}` : ""}.`,
    });
  }
  const withGate = variants.filter((c) => c.gate !== null);
  const evaluated = [...new Map(withGate.map((c) => [label(c), c])).values()];
  if (evaluated.length > 0) {
    const pass = evaluated.filter((c) => c.gate === "pass").length;
    out.push({
      text: `${suite}: ${pass} of ${evaluated.length} variants pass the quality gate (${
        evaluated[0]!.metric
      } within 99 % of dense).`,
    });
  }
  const errored = cells.filter((c) => c.status === "errored").length;
  if (errored > 0) {
    out.push({
      level: "warn",
      text:
        `${suite}: ${errored} of ${cells.length} cells errored (see "All cells" for each error).`,
    });
  }
  return out;
}

/**
 * The findings block of a run: banners, then per suite the generic sentences and each covering
 * study's.
 *
 * @param run The run.
 * @param options Studies, the superseding run, whether published.
 * @returns The sentences.
 */
export function runFindings(run: RunData, options: FindingsOptions = {}): Finding[] {
  const out: Finding[] = [];
  const status = runStatus(run, options.published);
  if (status !== "finished") {
    out.push({
      level: "warn",
      text:
        `This run is ${status}: run.json says "${run.run.status}", so its cells are those finished before it stopped${
          options.published ? "" : " (resume it with deno task bench --resume)"
        }.`,
    });
  }
  if (options.supersededBy) {
    out.push({
      level: "warn",
      text:
        `Superseded by run ${options.supersededBy} (a later finished run of all its cells on the same device).`,
    });
  }
  for (const suite of [...new Set(run.cells.map((c) => c.suite))]) {
    const cells = run.cells.filter((c) => c.suite === suite);
    const studies = studiesFor(options.studies ?? [], suite);
    if (!studies.some((s) => s.omitGenericFindings)) {
      out.push(...suiteFindings(suite, cells, studies));
    } else {
      out.push(...suiteFindings(suite, cells, studies).filter((f) => f.level === "warn"));
    }
    for (const s of studies) out.push(...(s.findings?.(cells, run) ?? []));
  }
  return out;
}
