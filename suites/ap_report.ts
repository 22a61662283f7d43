/**
 * The AP study's report (suite ap): per model, accuracy per pruning round against weight
 * sparsity for AP and IMP with each accuracy's 95 % interval, AP minus IMP on the same images
 * with its paired interval, and the dead-neuron rate per round; findings that say, per model,
 * where AP is ahead of IMP beyond the noise. Also the dead-neuron rate per ReLU layer that every
 * other suite with ReLU models records.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartPoint, ChartSpec } from "../src/report/chart_spec.ts";
import { layerLabel, variantLabel } from "../src/report/labels.ts";
import { html } from "../src/report/html.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";
import { wilsonInterval } from "./ap_stats.ts";

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** One model's rounds: the dense start and each arm's rounds in order. */
interface ModelRounds {
  model: string;
  dense: CellResult | undefined;
  imp: CellResult[];
  ap: CellResult[];
  samples: number | null;
}

function byModel(cells: readonly CellResult[]): ModelRounds[] {
  const done = completed(cells).filter((c) => num(c.extra.round) !== null);
  const models = [...new Set(done.map((c) => c.model))];
  return models.map((model) => {
    const mc = done.filter((c) => c.model === model);
    const arm = (m: string) =>
      mc.filter((c) => c.method === m && num(c.extra.round)! > 0)
        .sort((a, b) => num(a.extra.round)! - num(b.extra.round)!);
    // Runs before the re-measurement recorded round 0 in each arm instead of a dense cell.
    const dense = mc.find((c) => c.method === "dense") ?? mc.find((c) => num(c.extra.round) === 0);
    return { model, dense, imp: arm("imp"), ap: arm("ap"), samples: mc[0]?.eval_samples ?? null };
  });
}

function accuracyCi(c: CellResult): [number, number] | null {
  const low = num(c.extra.accuracy_ci_low);
  const high = num(c.extra.accuracy_ci_high);
  if (low !== null && high !== null) return [low, high];
  if (c.accuracy === null || !c.eval_samples) return null;
  return wilsonInterval(Math.round(c.accuracy * c.eval_samples), c.eval_samples);
}

function sparsityOf(c: CellResult): number {
  return c.sparsity_realized ?? c.sparsity_target ?? 0;
}

function accuracyPoint(c: CellResult): ChartPoint {
  const ci = accuracyCi(c);
  return { x: sparsityOf(c), y: c.accuracy!, ...(ci ? { low: ci[0], high: ci[1] } : {}) };
}

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const suite = cells[0]?.suite ?? "";
  return byModel(cells).flatMap((r): ChartSpec[] => {
    const id = `${suite}-${
      r.model.startsWith(`${suite}-`) ? r.model.slice(suite.length + 1) : r.model
    }`;
    const start = r.dense ? [r.dense] : [];
    const arms = [["AP", r.ap], ["IMP", r.imp]] as const;
    const denseAcc = r.dense?.accuracy ?? null;
    const diffs = r.ap.filter((c) => num(c.extra.diff_vs_imp) !== null);
    return [
      {
        id: `${id}-accuracy`,
        title:
          `${r.model}: accuracy per pruning round vs weight sparsity, AP and IMP (95 % Wilson interval over ${
            r.samples ?? "?"
          } images)`,
        kind: "line",
        datasets: arms.map(([label, rs]) => ({
          label,
          data: [...start, ...rs].filter((c) => c.accuracy !== null).map(accuracyPoint),
        })),
        xTitle: "weight sparsity of the pruned layers",
        yTitle: "accuracy",
        ...(denseAcc !== null
          ? { refLines: [{ y: denseAcc, label: `dense ${denseAcc.toFixed(4)}` }] }
          : {}),
      },
      {
        id: `${id}-diff`,
        title:
          `${r.model}: AP minus IMP accuracy per round, same images (paired bootstrap 95 % interval)`,
        kind: "line",
        datasets: [{
          label: "AP − IMP",
          data: diffs.map((c) => ({
            x: sparsityOf(c),
            y: num(c.extra.diff_vs_imp)!,
            ...(num(c.extra.diff_ci_low) !== null && num(c.extra.diff_ci_high) !== null
              ? { low: num(c.extra.diff_ci_low)!, high: num(c.extra.diff_ci_high)! }
              : {}),
          })),
        }],
        xTitle: "weight sparsity of the pruned layers",
        yTitle: "accuracy difference",
        refLines: [{ y: 0, label: "no difference" }],
      },
      {
        id: `${id}-dnr`,
        title: `${r.model}: dead-neuron rate per pruning round vs weight sparsity, AP and IMP`,
        kind: "line",
        datasets: arms.map(([label, rs]) => ({
          label,
          data: [...start, ...rs].filter((c) => num(c.extra.dnr) !== null).map((c) => ({
            x: sparsityOf(c),
            y: num(c.extra.dnr)!,
          })),
        })),
        xTitle: "weight sparsity of the pruned layers",
        yTitle: "dead-neuron rate (zero ReLU outputs)",
      },
    ];
  });
}

const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
const points = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(100 * v).toFixed(2)}`;
const ciText = (ci: [number, number] | null) =>
  ci ? ` [${ci[0].toFixed(4)}, ${ci[1].toFixed(4)}]` : "";

/** One sentence over every model, first, so the index's headline states the comparison. */
function overview(models: readonly ModelRounds[]): Finding[] {
  const scored = models.flatMap((r) => r.ap.filter((c) => num(c.extra.diff_ci_low) !== null));
  if (scored.length === 0) return [];
  const where = (cs: CellResult[]) =>
    cs.length === 0 ? "" : ` (${
      models.map((r) => {
        const rs = cs.filter((c) => c.model === r.model).map((c) => c.extra.round);
        return rs.length === 0 ? "" : `${r.model} rounds ${rs.join(", ")}`;
      }).filter(Boolean).join("; ")
    })`;
  const ahead = scored.filter((c) => num(c.extra.diff_ci_low)! > 0);
  const behind = scored.filter((c) => num(c.extra.diff_ci_high)! < 0);
  const dnr = models.flatMap((r) => {
    const a = r.ap[r.ap.length - 1];
    const ad = num(a?.extra.dnr);
    const id = num(a?.extra.imp_dnr);
    return ad !== null && id !== null ? [`${r.model} ${ad.toFixed(3)} vs ${id.toFixed(3)}`] : [];
  });
  return [{
    text: `AP vs IMP measured on ORT over ${models.length} model${
      models.length === 1 ? "" : "s"
    } and ${scored.length} rounds: AP is ahead beyond the noise (paired 95 % interval above 0) at ${ahead.length}${
      where(ahead)
    } and behind at ${behind.length}${where(behind)}${
      dnr.length > 0 ? `; its dead-neuron rate at the last round is lower (${dnr.join(", ")})` : ""
    }.`,
  }];
}

function findings(cells: readonly CellResult[]): Finding[] {
  const models = byModel(cells);
  const out: Finding[] = overview(models);
  for (const r of models) {
    const a = r.ap[r.ap.length - 1];
    const i = r.imp.find((c) => c.extra.round === a?.extra.round);
    if (!a || !i || a.accuracy === null || i.accuracy === null) continue;
    const round = num(a.extra.round)!;
    const lo = num(a.extra.diff_ci_low);
    const hi = num(a.extra.diff_ci_high);
    const paired = lo !== null && hi !== null
      ? `: AP − IMP ${points(a.accuracy - i.accuracy)} points (paired 95 % interval ${
        points(lo)
      } to ${points(hi)}, McNemar p = ${a.extra.mcnemar_p})`
      : "";
    out.push({
      text: `${r.model} (${r.samples ?? "?"} evaluation images): after ${round} rounds (${
        pct(sparsityOf(a))
      } weight sparsity) AP reaches accuracy ${a.accuracy.toFixed(4)}${
        ciText(accuracyCi(a))
      } and IMP ${i.accuracy.toFixed(4)}${ciText(accuracyCi(i))}${paired}; dense ${
        r.dense?.accuracy?.toFixed(4) ?? "?"
      }.`,
    });
    const scored = r.ap.filter((c) => num(c.extra.diff_ci_low) !== null);
    if (scored.length > 0) {
      const ahead = scored.filter((c) => num(c.extra.diff_ci_low)! > 0);
      const behind = scored.filter((c) => num(c.extra.diff_ci_high)! < 0);
      const best = scored.reduce((
        b,
        c,
      ) => (num(c.extra.diff_vs_imp)! > num(b.extra.diff_vs_imp)! ? c : b));
      const list = (cs: CellResult[]) =>
        cs.length === 0 ? "" : ` (rounds ${cs.map((c) => c.extra.round).join(", ")})`;
      out.push({
        text:
          `${r.model}: over ${scored.length} rounds AP is ahead of IMP beyond the noise at ${ahead.length}${
            list(ahead)
          }, behind at ${behind.length}${list(behind)}, within noise at ${
            scored.length - ahead.length - behind.length
          }; the largest AP − IMP difference is ${
            points(num(best.extra.diff_vs_imp)!)
          } points at round ${best.extra.round} (${
            pct(sparsityOf(best))
          }). The paper claims +3–4 % over IMP on CIFAR-scale CNNs at high sparsity.`,
      });
    }
    const ad = num(a.extra.dnr);
    const id = num(i.extra.dnr);
    if (ad !== null && id !== null) {
      out.push({
        text: `${r.model}: dead-neuron rate at round ${round}: AP ${ad.toFixed(4)}, IMP ${
          id.toFixed(4)
        } (dense ${
          num(r.dense?.extra.dnr)?.toFixed(4) ?? "?"
        }); AP prunes weights that keep neurons dead in order to lower it.`,
      });
    }
  }
  return out;
}

function interval(ci: [number, number] | null): string {
  return ci ? `[${ci[0].toFixed(4)}, ${ci[1].toFixed(4)}]` : "";
}

/** Per model, AP against IMP round by round: the figures the charts draw, with their noise. */
function sections(cells: readonly CellResult[]): ReportSection[] {
  return byModel(cells).filter((r) => r.ap.length > 0 || r.imp.length > 0).map((r) => {
    const rounds = [...new Set([...r.imp, ...r.ap].map((c) => num(c.extra.round)!))].sort((a, b) =>
      a - b
    );
    const dense = r.dense;
    const row = (round: number) => {
      const i = r.imp.find((c) => c.extra.round === round);
      const a = r.ap.find((c) => c.extra.round === round);
      const lo = num(a?.extra.diff_ci_low);
      const hi = num(a?.extra.diff_ci_high);
      const d = num(a?.extra.diff_vs_imp);
      return html`
        <tr>
          <td>${round}</td>
          <td>${i ? pct(sparsityOf(i)) : a ? pct(sparsityOf(a)) : ""}</td>
          <td>${i?.accuracy?.toFixed(4) ?? ""} ${i ? interval(accuracyCi(i)) : ""}</td>
          <td>${a?.accuracy?.toFixed(4) ?? ""} ${a ? interval(accuracyCi(a)) : ""}</td>
          <td>${d !== null ? points(d) : ""} ${lo !== null && hi !== null
            ? `[${points(lo)}, ${points(hi)}]`
            : ""}</td>
          <td>${a?.extra.mcnemar_p ?? ""}</td>
          <td>${num(i?.extra.dnr)?.toFixed(4) ?? ""}</td>
          <td>${num(a?.extra.dnr)?.toFixed(4) ?? ""}</td>
        </tr>
      `;
    };
    return {
      title: `${r.model}: AP vs IMP per round`,
      body: html`
        <p>Accuracy over ${r.samples ??
          "?"} evaluation images with its 95 % Wilson interval; AP − IMP in
        points with the paired bootstrap 95 % interval over the same images and the exact McNemar p;
        dead-neuron rate = fraction of ReLU outputs that are zero. Dense: ${dense?.accuracy
          ?.toFixed(4) ?? "?"} ${dense
          ? interval(accuracyCi(dense))
          : ""}, dead-neuron rate ${num(dense?.extra.dnr)?.toFixed(4) ?? "?"}.</p>
        <div class="scroll">
          <table class="sortable">
            <thead>
              <tr>
                <th>round</th>
                <th>weight sparsity</th>
                <th>IMP accuracy [95 % CI]</th>
                <th>AP accuracy [95 % CI]</th>
                <th>AP − IMP, points [95 % CI]</th>
                <th>McNemar p</th>
                <th>DNR IMP</th>
                <th>DNR AP</th>
              </tr>
            </thead>
            <tbody>${rounds.map(row)}</tbody>
          </table>
        </div>
      `,
    };
  });
}

/** The AP study. */
export const apReport: StudyReport = {
  name: "AP",
  covers: (id) => id === "ap",
  charts,
  findings,
  sections,
  omitGenericFindings: true,
  omitCharts: ["speedup", "accuracy", "flops", "density"],
  label: (c) => {
    const round = num(c.extra.round);
    if (round === null) return undefined;
    return round === 0 || c.method === "dense"
      ? `${c.model} dense`
      : `${c.model} ${c.method.toUpperCase()} r${round}`;
  },
};

/**
 * The dead-neuron rate of every ReLU layer, dense and variants. Masks that act after a ReLU
 * (activation sparsity) leave its zeros as they were, so such variants repeat dense's rates: they
 * are counted in dense's legend entry instead of drawn again, and only variants that change the
 * rates (weight pruning, a retrained model) get series of their own.
 */
function dnrCharts(cells: readonly CellResult[]): ChartSpec[] {
  const sc = completed(cells);
  // The AP study draws its own dead-neuron rates, round by round.
  if (sc[0]?.suite === "ap") return [];
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
  if (parsed.length === 0) return [];
  const layers = [...new Set(parsed.flatMap((p) => Object.keys(p.layers)))];
  const base = parsed.find((p) => p.c.method === "dense") ?? parsed[0]!;
  const same = (p: (typeof parsed)[number]) =>
    layers.every((l) => Math.abs((p.layers[l] ?? NaN) - (base.layers[l] ?? NaN)) < 5e-5);
  const others = parsed.filter((p) => p !== base);
  const repeats = others.filter(same).length;
  const differing = others.filter((p) => !same(p));
  const baseLabel = base.c.method === "dense" ? "dense" : variantLabel(base.c);
  return [{
    id: `${sc[0]!.suite}-dnr`,
    title: `${
      sc[0]!.suite
    }: dead-neuron rate per ReLU layer (fraction of zero outputs on the evaluation split)${
      repeats > 0 ? `; ${repeats} of ${others.length} variants leave dense's rates unchanged` : ""
    }`,
    kind: "bar",
    labels: layers.map((l, i) => `ReLU ${i + 1} (${layerLabel(l)})`),
    datasets: [base, ...differing.slice(0, 13)].map((p) => ({
      label: p === base && repeats > 0
        ? `${baseLabel} and ${repeats} unchanged variants`
        : p === base
        ? baseLabel
        : variantLabel(p.c),
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
