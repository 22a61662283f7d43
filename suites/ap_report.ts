/**
 * The AP study's report (suite ap): accuracy and dead-neuron rate per pruning round for AP
 * against iterative magnitude pruning, and the dead-neuron rate per ReLU layer that every
 * suite with ReLU models records.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartSpec } from "../src/report/chart_spec.ts";
import { variantLabel } from "../src/report/labels.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";

function rounds(cells: readonly CellResult[], method: string): CellResult[] {
  return completed(cells).filter((c) => c.method === method && typeof c.extra.round === "number")
    .sort((a, b) => Number(a.extra.round) - Number(b.extra.round));
}

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const suite = cells[0]?.suite ?? "";
  const arms = ["ap", "imp"].map((m) => ({ m, r: rounds(cells, m) })).filter((a) => a.r.length > 0);
  if (arms.length === 0) return [];
  const per = (k: "accuracy" | "dnr") =>
    arms.map(({ m, r }) => ({
      label: m.toUpperCase(),
      data: r.map((c) => ({
        x: c.sparsity_target ?? 0,
        y: k === "accuracy" ? c.accuracy! : Number(c.extra.dnr),
      })).filter((p) => Number.isFinite(p.y)),
    }));
  return [
    {
      id: `${suite}-rounds-accuracy`,
      title: `${suite}: accuracy per pruning round vs weight sparsity, AP and IMP`,
      kind: "line",
      datasets: per("accuracy"),
      xTitle: "weight sparsity",
      yTitle: "accuracy",
    },
    {
      id: `${suite}-rounds-dnr`,
      title: `${suite}: dead-neuron rate per pruning round vs weight sparsity, AP and IMP`,
      kind: "line",
      datasets: per("dnr"),
      xTitle: "weight sparsity",
      yTitle: "dead-neuron rate",
    },
  ];
}

function findings(cells: readonly CellResult[]): Finding[] {
  const suite = cells[0]?.suite ?? "";
  const ap = rounds(cells, "ap");
  const imp = rounds(cells, "imp");
  const last = (r: CellResult[]) => r[r.length - 1];
  const a = last(ap);
  const i = last(imp);
  if (!a || !i) return [];
  return [{
    text: `${suite}: after ${a.extra.round} rounds (${
      (100 * (a.sparsity_target ?? 0)).toFixed(0)
    } % weight sparsity) AP reaches accuracy ${
      a.accuracy?.toFixed(4)
    } with dead-neuron rate ${a.extra.dnr}; IMP after ${i.extra.round} rounds ${
      i.accuracy?.toFixed(4)
    } with ${i.extra.dnr}.`,
  }];
}

/** The AP study. */
export const apReport: StudyReport = {
  name: "AP",
  covers: (id) => id === "ap",
  charts,
  findings,
};

function dnrCharts(cells: readonly CellResult[]): ChartSpec[] {
  const sc = completed(cells);
  const first = sc[0]?.target;
  const dnr = sc.filter((c) => typeof c.extra.dnr_layers === "string" && c.target === first);
  if (dnr.length === 0) return [];
  const parsed = dnr.flatMap((c) => {
    try {
      return [{ c, layers: JSON.parse(String(c.extra.dnr_layers)) as Record<string, number> }];
    } catch {
      return [];
    }
  });
  const layers = [...new Set(parsed.flatMap((p) => Object.keys(p.layers)))];
  return [{
    id: `${sc[0]!.suite}-dnr`,
    title: `${
      sc[0]!.suite
    }: dead-neuron rate per ReLU layer (fraction of zero outputs on the evaluation split)`,
    kind: "bar",
    labels: layers,
    datasets: parsed.slice(0, 14).map((p) => ({
      label: variantLabel(p.c),
      data: layers.map((l) => p.layers[l] ?? null),
    })),
    yTitle: "DNR",
  }];
}

/** Dead neurons: every suite whose cells record a per-layer dead-neuron rate. */
export const deadNeuronReport: StudyReport = {
  name: "dead neurons",
  covers: () => true,
  charts: dnrCharts,
};
