/**
 * The activation-sparsity study's report (suites activation-sparsity-*, mlp-mnist): short method
 * names, WINA against TEAL at equal sparsity (each WINA form on its own, a gap smaller than one
 * binomial standard error is a tie), and the FLOPs each method really saves at its sparsity.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { html } from "../src/report/html.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";
import { binomialSe, completed } from "./_study_figures.ts";
import { lowerIsBetter } from "../src/metric.ts";

const NAMES: Readonly<Record<string, string>> = {
  teal: "TEAL",
  wina: "WINA-top-k",
  cats: "CATS",
  "stat-topk": "stat-top-k",
  topk: "top-k",
  relu: "ReLU",
};

function label(c: CellResult): string | undefined {
  let name = NAMES[c.method];
  if (!name) return undefined;
  if (c.method === "wina" && c.params.includes('"threshold"')) name = "WINA-thr";
  return c.sparsity_target === null ? name : `${name} ${percentLabel(c.sparsity_target)}`;
}

function firstTarget(cells: readonly CellResult[]): CellResult[] {
  const first = cells[0]?.target;
  return cells.filter((c) => c.target === first && c.accuracy !== null);
}

interface Contest {
  sparsity: number;
  teal: CellResult | undefined;
  top: CellResult | undefined;
  thr: CellResult | undefined;
}

function contests(cells: readonly CellResult[]): Contest[] {
  const sc = firstTarget(completed(cells));
  const at = (method: string, params: string, s: number) =>
    sc.find((c) => c.method === method && c.params === params && c.sparsity_target === s);
  const grid = [...new Set(sc.filter((c) => c.method === "teal").map((c) => c.sparsity_target!))]
    .sort((a, b) => a - b);
  if (!sc.some((c) => c.method === "wina")) return [];
  return grid.map((s) => ({
    sparsity: s,
    teal: at("teal", "{}", s),
    top: at("wina", "{}", s),
    thr: at("wina", '{"select":"threshold"}', s),
  }));
}

/** -1: WINA worse, 0: tie within one binomial SE, 1: WINA better. */
function score(teal: CellResult, wina: CellResult): number {
  const lower = lowerIsBetter(teal.metric);
  const gap = lower ? teal.accuracy! - wina.accuracy! : wina.accuracy! - teal.accuracy!;
  // bits per character have no binomial error; 0.5 % of dense is the noise floor used there.
  const se = lower ? 0.005 * teal.accuracy! : binomialSe(teal.accuracy!, teal.eval_samples);
  return gap > se ? 1 : gap < -se ? -1 : 0;
}

function tally(rows: readonly Contest[], form: "top" | "thr"): { w: number; l: number; t: number } {
  const out = { w: 0, l: 0, t: 0 };
  for (const r of rows) {
    const wina = r[form];
    if (!r.teal || !wina) continue;
    const s = score(r.teal, wina);
    if (s > 0) out.w++;
    else if (s < 0) out.l++;
    else out.t++;
  }
  return out;
}

function sections(cells: readonly CellResult[]): ReportSection[] {
  const rows = contests(cells);
  if (rows.length === 0) return [];
  const suite = cells[0]!.suite;
  const metric = cells.find((c) => c.metric)?.metric ?? "accuracy";
  const fmt = (c: CellResult | undefined) => c?.accuracy?.toFixed(4) ?? "—";
  const top = tally(rows, "top");
  const thr = tally(rows, "thr");
  return [{
    title: `${suite}: WINA vs TEAL at equal sparsity (${metric}, ${
      lowerIsBetter(metric) ? "lower" : "higher"
    } is better)`,
    body:
      html`<table><tr><th>sparsity</th><th>TEAL</th><th>WINA top-k</th><th>WINA threshold</th></tr>${
        rows.map((r) =>
          html`
            <tr>
              <td>${r.sparsity}</td>
              <td>${fmt(r.teal)}</td>
              <td>${fmt(r.top)}</td>
              <td>${fmt(r.thr)}</td>
            </tr>
          `
        )
      }</table>
<p>Each WINA form against TEAL, a gap within the noise counted as a tie (accuracy: one binomial standard error over the evaluation samples; bits per character: 0.5 % of TEAL's value, a floor this study sets since bpc has no binomial error): WINA top-k wins <b>${top.w}</b>, loses <b>${top.l}</b>, ties <b>${top.t}</b>; WINA threshold wins <b>${thr.w}</b>, loses <b>${thr.l}</b>, ties <b>${thr.t}</b>, as measured.</p>`,
  }];
}

function findings(cells: readonly CellResult[]): Finding[] {
  const out: Finding[] = [];
  const suite = cells[0]?.suite ?? "";
  const rows = contests(cells);
  if (rows.length > 0) {
    const top = tally(rows, "top");
    const thr = tally(rows, "thr");
    out.push({
      text:
        `${suite}: against TEAL at equal sparsity, WINA-top-k wins ${top.w}, loses ${top.l}, ties ${top.t}; WINA-thr wins ${thr.w}, loses ${thr.l}, ties ${thr.t} (a tie: a gap within one binomial standard error, or 0.5 % for bpc).`,
    });
  }
  // Realised sparsity flatters methods whose selection costs FLOPs: say what each saves.
  const sc = firstTarget(completed(cells)).filter((c) =>
    c.sparsity_target !== null && c.flops_reduction !== null
  );
  const top = Math.max(...sc.map((c) => c.sparsity_target!));
  const atTop = sc.filter((c) => c.sparsity_target === top);
  if (atTop.length > 1) {
    out.push({
      text: `${suite}: at ${percentLabel(top)} sparsity the FLOPs saved differ by method: ${
        atTop.map((c) =>
          `${label(c) ?? c.method} ${c.flops_reduction!.toFixed(2)}x fewer (${c.metric} ${
            c.accuracy!.toFixed(3)
          })`
        ).join(", ")
      }.`,
    });
  }
  return out;
}

/** The activation-sparsity study. */
export const activationSparsityReport: StudyReport = {
  name: "activation sparsity",
  covers: (id) => id.startsWith("activation-sparsity-") || id === "mlp-mnist",
  label,
  findings,
  sections,
  densityMeaning: "fraction of FFN inputs a skipping kernel reads",
};
