/**
 * The generic charts of a suite, drawn from the fixed fields of `CellResult` only: FLOPs
 * reduction, speedup against sparsity per target, accuracy against FLOPs, realised sparsity and
 * measured speedup, per-layer density. A chart appears only where the suite has data for it;
 * studies add their own and may omit a generic one.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import { type ChartDataset, chartHasData, type ChartPoint, type ChartSpec } from "./chart_spec.ts";
import { layerLabel, layerRolesOf, percentLabel, seriesLabel, variantLabel } from "./labels.ts";
import { studiesFor, type StudyReport } from "./study.ts";
import { gateThreshold, lowerIsBetter } from "../metric.ts";

/** The baseline's method id, as `CellResult.method` documents it. */
export const DENSE = "dense";

/** Options of {@linkcode chartsFor}. */
export interface ChartsOptions {
  /** The studies (each adds its charts and labels to the suites it covers). */
  studies?: readonly StudyReport[];
}

function uniq<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function byX(a: ChartPoint, b: ChartPoint): number {
  return Number(a.x) - Number(b.x);
}

function errorPoint(x: number | string, c: CellResult): ChartPoint {
  const p: ChartPoint = { x, y: c.speedup! };
  if (c.speedup_ci_low !== null) p.low = c.speedup_ci_low;
  if (c.speedup_ci_high !== null) p.high = c.speedup_ci_high;
  return p;
}

function speedupCharts(
  suite: string,
  sc: readonly CellResult[],
  studies: readonly StudyReport[],
): ChartSpec[] {
  const out: ChartSpec[] = [];
  const timed = sc.filter((c) => c.method !== DENSE && c.speedup !== null);
  const xOf = (c: CellResult) => c.sparsity_target ?? c.sparsity_realized;
  const targets = uniq(timed.map((c) => c.target));
  for (const t of targets) {
    const tc = timed.filter((c) => c.target === t && xOf(c) !== null);
    if (tc.length === 0) continue;
    const series = uniq(tc.map((c) => seriesLabel(c, studies)));
    const xs = tc.map((c) => xOf(c)!);
    const lo = Math.min(0, ...xs);
    const hi = Math.min(0.95, Math.max(...xs));
    const ideal: ChartPoint[] = [];
    for (let i = 0; i <= 20; i++) {
      const s = lo + (hi - lo) * i / 20;
      ideal.push({ x: s, y: 1 / (1 - s) });
    }
    out.push({
      id: `${suite}-speedup-${t}`,
      title:
        `${suite} on ${t}: speedup over dense vs sparsity, 95 % CI as error bars (ideal 1/(1−s) dashed)`,
      kind: "line",
      datasets: [
        ...series.map((s): ChartDataset => ({
          label: s,
          data: tc.filter((c) => seriesLabel(c, studies) === s).map((c) => errorPoint(xOf(c)!, c))
            .sort(byX),
        })),
        { label: "ideal 1/(1−s)", data: ideal, dashed: true },
      ],
      xTitle: "sparsity (target, else realised)",
      yTitle: "speedup (x, log scale)",
      logY: true,
      refLines: [{ y: 1, label: "1.0x (dense)" }],
    });
  }
  const loose = timed.filter((c) => xOf(c) === null);
  if (loose.length > 0) {
    const labels = uniq(loose.map((c) => variantLabel(c, studies)));
    out.push({
      id: `${suite}-speedup`,
      title: `${suite}: speedup over dense with 95 % CI, per target`,
      kind: "ci",
      labels,
      datasets: uniq(loose.map((c) => c.target)).map((t) => ({
        label: t,
        data: labels.map((l) => {
          const c = loose.find((x) => x.target === t && variantLabel(x, studies) === l);
          return c ? errorPoint(l, c) : null;
        }),
      })),
      yTitle: "speedup (x)",
      refLines: [{ y: 1, label: "1.0x (dense)" }],
    });
  }
  return out;
}

function accuracyCharts(
  suite: string,
  sc: readonly CellResult[],
  studies: readonly StudyReport[],
): ChartSpec[] {
  const out: ChartSpec[] = [];
  const withAcc = sc.filter((c) => c.accuracy !== null && c.method !== DENSE);
  if (withAcc.length === 0) return out;
  const targets = uniq(sc.map((c) => c.target));
  const first = targets.find((t) => withAcc.some((c) => c.target === t))!;
  const metric = withAcc[0]!.metric;
  const dense = sc.find((c) => c.method === DENSE && c.accuracy !== null) ??
    (withAcc[0]!.accuracy_dense !== null ? withAcc[0] : undefined);
  const denseAcc = dense?.method === DENSE ? dense.accuracy : dense?.accuracy_dense ?? null;
  const refLines = denseAcc === null || denseAcc === undefined ? [] : [
    { y: denseAcc, label: `dense ${denseAcc.toFixed(4)}` },
    { y: gateThreshold(metric, denseAcc), label: "quality gate (99 % of dense)" },
  ];
  const denseText = denseAcc?.toFixed(4) ?? "?";
  // Accuracy against FLOPs saved: the one axis on which methods of different kinds (token vs
  // neuron sparsity, structured vs not) compare fairly. Variants swept by parameters rather
  // than by a sparsity grid form one series per method, so ablation arms read as curves.
  const withFlops = withAcc.filter((c) => c.target === first && c.flops_reduction !== null);
  if (withFlops.length > 0) {
    const arm = (c: CellResult) => c.sparsity_target === null ? c.method : seriesLabel(c, studies);
    charts(out, {
      id: `${suite}-accuracy-flops`,
      title: `${suite}: ${metric} vs FLOPs reduction, per method (dense ${denseText})`,
      kind: "line",
      datasets: uniq(withFlops.map(arm)).map((a) => ({
        label: a,
        data: withFlops.filter((c) => arm(c) === a).map((c) => ({
          x: c.flops_reduction!,
          y: c.accuracy!,
        })).sort(byX),
      })),
      xTitle: "x fewer FLOPs (dense / effective)",
      yTitle: metric,
      logX: true,
      refLines,
    });
  }
  // Accuracy against measured speedup: the Pareto front a user can buy, one chart per target.
  for (const t of targets) {
    const keyed = withAcc.filter((c) => c.speedup !== null && c.target === t).map((c) => ({
      c,
      a: c.accuracy,
    }));
    if (keyed.length === 0) continue;
    const series = uniq(keyed.map((k) => seriesLabel(k.c, studies)));
    charts(out, {
      id: `${suite}-pareto-${t}`,
      title: `${suite} on ${t}: ${metric} vs measured speedup (dense ${denseText})`,
      kind: "scatter",
      datasets: [
        ...series.map((s) => ({
          label: s,
          data: keyed.filter((k) => k.a !== null && seriesLabel(k.c, studies) === s).map((k) => ({
            x: k.c.speedup!,
            y: k.a!,
          })).sort(byX),
        })),
        {
          label: "Pareto front",
          data: paretoFront(
            keyed.filter((k) => k.a !== null).map((k) => ({ x: k.c.speedup!, y: k.a! })),
            lowerIsBetter(metric),
          ),
          dashed: true,
        },
      ],
      xTitle: "measured speedup (x)",
      yTitle: metric,
      refLines,
    });
  }
  const methodSeries = (c: CellResult) => seriesLabel(c, studies);
  const realised = withAcc.filter((c) => c.target === first);
  charts(out, {
    id: `${suite}-accuracy`,
    title: `${suite}: ${metric} vs realised sparsity (dense ${denseText})`,
    kind: "line",
    datasets: uniq(realised.map(methodSeries)).map((m) => ({
      label: m,
      data: realised.filter((c) =>
        methodSeries(c) === m && (c.sparsity_realized ?? c.sparsity_target) !== null
      ).map((c) => ({ x: (c.sparsity_realized ?? c.sparsity_target)!, y: c.accuracy! })).sort(
        byX,
      ),
    })),
    xTitle: "realised sparsity",
    yTitle: metric,
    refLines,
  });
  return out;
}

/**
 * The points no other point beats on both axes (faster and more accurate), by speedup.
 *
 * @param points Speedup (x) and metric (y) of each variant.
 * @param lowerIsBetter Whether a lower metric is better (bits per character).
 * @returns The front, ordered by speedup.
 */
export function paretoFront(
  points: readonly { x: number; y: number }[],
  lowerIsBetter = false,
): { x: number; y: number }[] {
  const better = (a: number, b: number) => (lowerIsBetter ? a < b : a > b);
  const front: { x: number; y: number }[] = [];
  for (const p of [...points].sort((a, b) => b.x - a.x || (better(a.y, b.y) ? -1 : 1))) {
    if (front.length === 0 || better(p.y, front[front.length - 1]!.y)) front.push(p);
  }
  return front.reverse();
}

function charts(out: ChartSpec[], chart: ChartSpec): void {
  if (chartHasData(chart)) out.push(chart);
}

/**
 * The charts for a set of cells (one run, or several in a comparison), suite by suite: the
 * generic ones, then each covering study's.
 *
 * @param cells Cells.
 * @param options The studies.
 * @returns Chart specs, each with data to draw.
 */
export function chartsFor(cells: readonly CellResult[], options: ChartsOptions = {}): ChartSpec[] {
  const all: ChartSpec[] = [];
  const done = cells.filter((c) => c.status === "completed");
  for (const suite of uniq(done.map((c) => c.suite))) {
    const sc = done.filter((c) => c.suite === suite);
    const studies = studiesFor(options.studies ?? [], suite);
    const omit = new Set(studies.flatMap((s) => s.omitCharts ?? []));
    const out: ChartSpec[] = [];
    const variants = sc.filter((c) => c.method !== DENSE);
    const labels = uniq(variants.map((c) => variantLabel(c, studies)));
    if (!omit.has("speedup")) out.push(...speedupCharts(suite, sc, studies).filter(chartHasData));
    if (!omit.has("accuracy")) out.push(...accuracyCharts(suite, sc, studies));
    if (!omit.has("flops")) {
      charts(out, {
        id: `${suite}-flops`,
        title: `${suite}: FLOPs reduction (dense / effective FLOPs)`,
        kind: "bar",
        labels,
        datasets: [{
          label: "FLOPs reduction",
          data: labels.map((l) =>
            variants.find((c) => variantLabel(c, studies) === l && c.flops_reduction !== null)
              ?.flops_reduction ?? null
          ),
        }],
        yTitle: "x fewer FLOPs",
      });
    }
    const first = sc[0]?.target;
    const dens = sc.filter((c) =>
      c.layer_density && Object.keys(c.layer_density).length > 0 && c.target === first
    );
    if (!omit.has("density") && dens.length > 0) {
      const layers = uniq(dens.flatMap((c) => Object.keys(c.layer_density!)));
      const roles = layerRolesOf(dens);
      const meaning = studies.find((s) => s.densityMeaning)?.densityMeaning ??
        "fraction of active elements";
      // Small multiples: one chart per method, its sparsities as series, so no legend grows
      // past a handful of entries.
      const series = uniq(dens.map((c) => seriesLabel(c, studies)));
      for (const [i, m] of series.slice(0, 8).entries()) {
        const mc = dens.filter((c) => seriesLabel(c, studies) === m).slice(0, 8);
        charts(out, {
          id: `${suite}-density${i === 0 ? "" : `-${i + 1}`}`,
          title: `${suite}: per-layer density of ${m} (${meaning})`,
          kind: "bar",
          labels: layers.map((l, k) =>
            roles[l] ? layerLabel(l, roles) : `L${k + 1} ${layerLabel(l)}`
          ),
          datasets: mc.map((c) => ({
            label: c.sparsity_target === null
              ? variantLabel(c, studies)
              : percentLabel(c.sparsity_target),
            data: layers.map((l) => c.layer_density![l] ?? null),
          })),
          yTitle: "density",
        });
      }
    }
    for (const s of studies) out.push(...(s.charts?.(sc) ?? []).filter(chartHasData));
    all.push(...out);
  }
  return all;
}
