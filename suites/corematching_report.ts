/**
 * The CoreMatching study's report (suites corematching-*): the co-adaptive setting (tokens and
 * neurons) against either sparsity alone at matched FLOPs, and the paper's FLOPs and speedup
 * claims beside what this run measured.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { speedupText } from "../src/report/findings.ts";
import { html } from "../src/report/html.ts";
import { paramsLabel } from "../src/report/labels.ts";
import type { RunData } from "../src/report/run_data.ts";
import type { Finding, RecordedClaim, ReportSection, StudyReport } from "../src/report/study.ts";
import { binomialSe, completed, maxBy } from "./_study_figures.ts";

const BOTH = "corematching";
const TOKENS = "corematching-tokens";
const NEURONS = "corematching-neurons";

/** A method's accuracy at a FLOPs reduction, linearly interpolated along its measured points. */
function accuracyAtFlops(points: readonly { x: number; y: number }[], x: number): number | null {
  const p = [...points].sort((a, b) => a.x - b.x);
  for (let i = 0; i < p.length; i++) {
    if (Math.abs(p[i]!.x - x) < 1e-9) return p[i]!.y;
    if (i > 0 && p[i - 1]!.x < x && x < p[i]!.x) {
      const t = (x - p[i - 1]!.x) / (p[i]!.x - p[i - 1]!.x);
      return p[i - 1]!.y + t * (p[i]!.y - p[i - 1]!.y);
    }
  }
  return null;
}

interface Ablation {
  rows: { params: string; x: number; y: number; t: number | null; n: number | null }[];
  wins: number;
  losses: number;
  compared: number;
  metric: string;
}

function ablation(cells: readonly CellResult[]): Ablation | null {
  const sc = completed(cells).filter((c) => c.accuracy !== null && c.flops_reduction !== null);
  const first = sc[0]?.target;
  const arm = (m: string) =>
    sc.filter((c) => c.target === first && c.method === m).map((c) => ({
      x: c.flops_reduction!,
      y: c.accuracy!,
      params: c.params,
      n: c.eval_samples,
    }));
  const both = arm(BOTH);
  const tokens = arm(TOKENS);
  const neurons = arm(NEURONS);
  if (both.length === 0 || (tokens.length === 0 && neurons.length === 0)) return null;
  let wins = 0;
  let losses = 0;
  let compared = 0;
  const rows = both.sort((a, b) => a.x - b.x).map((c) => {
    const t = accuracyAtFlops(tokens, c.x);
    const n = accuracyAtFlops(neurons, c.x);
    const alone = [t, n].filter((v): v is number => v !== null);
    if (alone.length > 0) {
      compared++;
      // An accuracy over n samples is only known to about one binomial standard error; closer
      // than that, the arms tie.
      const gap = c.y - Math.max(...alone);
      const se = binomialSe(c.y, c.n);
      if (gap > se) wins++;
      else if (gap < -se) losses++;
    }
    return { params: c.params, x: c.x, y: c.y, t, n };
  });
  return { rows, wins, losses, compared, metric: sc[0]!.metric };
}

/**
 * CoreMatching's ablation section; a single arm that never reaches a FLOPs reduction cannot be
 * matched and is shown as such rather than extrapolated.
 *
 * @param cells One suite's cells.
 * @returns The section, or none when the run lacks an arm.
 */
export function coAdaptiveSections(cells: readonly CellResult[]): ReportSection[] {
  const a = ablation(cells);
  if (!a) return [];
  const fmt = (v: number | null) => v === null ? "not reached" : v.toFixed(4);
  return [{
    title: `${
      cells[0]!.suite
    }: co-adaptive vs either sparsity alone at matched FLOPs (${a.metric})`,
    body:
      html`<table><tr><th>setting</th><th>x fewer FLOPs</th><th>tokens + neurons</th><th>tokens only (interpolated)</th><th>neurons only (interpolated)</th></tr>${
        a.rows.map((r) =>
          html`
            <tr>
              <td>${r.params}</td>
              <td>${r.x.toFixed(3)}</td>
              <td>${r.y.toFixed(4)}</td>
              <td>${fmt(r.t)}</td>
              <td>${fmt(r.n)}</td>
            </tr>
          `
        )
      }</table>
<p>Against the better single arm that reaches its FLOPs reduction, the co-adaptive combination wins at <b>${a.wins}</b>, loses at <b>${a.losses}</b> and ties (within one binomial standard error) at <b>${
        a.compared - a.wins - a.losses
      }</b> of ${a.compared} settings, as measured.</p>`,
  }];
}

function label(c: CellResult): string | undefined {
  const name = c.method === BOTH
    ? "CoreMatching"
    : c.method === TOKENS
    ? "tokens only"
    : c.method === NEURONS
    ? "neurons only"
    : undefined;
  if (!name) return undefined;
  const p = paramsLabel(c.params).replace("betaNeurons", "βn").replace("alpha", "α").replace(
    "beta",
    "β",
  );
  return p ? `${name} (${p})` : name;
}

function findings(cells: readonly CellResult[], run: RunData): Finding[] {
  const a = ablation(cells);
  const out: Finding[] = [];
  const suite = cells[0]?.suite;
  const suites = Array.isArray(run.run.suites)
    ? run.run.suites as { id?: string; claims?: RecordedClaim[] }[]
    : [];
  for (const claim of suites.find((s) => s?.id === suite)?.claims ?? []) {
    const m = measured(claim, cells);
    if (m) {
      out.push({
        text:
          `${suite}: the paper claims ${claim.value}${claim.unit} ${claim.label} (${claim.source}); measured here: ${m}.`,
      });
    }
  }
  if (a) {
    out.push({
      text: `${
        cells[0]!.suite
      }: at matched FLOPs the co-adaptive setting beats the better single arm at ${a.wins}, loses at ${a.losses} and ties at ${
        a.compared - a.wins - a.losses
      } of ${a.compared} settings.`,
    });
  }
  return out;
}

function measured(claim: RecordedClaim, cells: readonly CellResult[]): string | undefined {
  const all = completed(cells).filter((c) => c.method === BOTH);
  const passing = all.filter((c) => c.gate === "pass");
  const acc = (c: CellResult) =>
    c.accuracy !== null && c.accuracy_dense !== null
      ? `, ${c.metric} ${c.accuracy.toFixed(4)} vs dense ${c.accuracy_dense.toFixed(4)}`
      : "";
  const pick = (figure: (c: CellResult) => number | null, text: (c: CellResult) => string) => {
    const best = maxBy(passing, figure);
    if (best) return `${text(best)} at best within the quality gate${acc(best)}`;
    const any = maxBy(all, figure);
    return any
      ? `no co-adaptive setting passed the quality gate; the largest was ${text(any)}${acc(any)}`
      : undefined;
  };
  if (/FLOPs/i.test(claim.label)) {
    return pick(
      (c) => c.flops_reduction,
      (c) => `${c.flops_reduction!.toFixed(2)}x fewer FLOPs (${c.model})`,
    );
  }
  if (/speedup/i.test(claim.label)) {
    return pick((c) => c.speedup, (c) => `${speedupText(c)} (${c.target}, ${c.device})`);
  }
  return undefined;
}

/** The CoreMatching study. */
export const coreMatchingReport: StudyReport = {
  name: "CoreMatching",
  covers: (id) => id.startsWith("corematching-"),
  label,
  findings,
  sections: (cells) => coAdaptiveSections(cells),
  measured,
};
