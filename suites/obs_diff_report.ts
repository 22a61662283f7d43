/**
 * The OBS-Diff study's report (suite obs-diff): per granularity, the FID (under mlp-relu-mnist's
 * fc2 features) of OBS-Diff's timestep-weighted Hessian against the same OBS with uniform
 * weights, magnitude and Wanda, with the bootstrap noise; the difference weighted − uniform from
 * paired replicates (same resample indices, samples from the same noise); class consistency,
 * per-image error against the dense sampler, FLOPs per image, and the sliced variants' measured
 * speedups per denoiser step and per sampled image.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartSpec } from "../src/report/chart_spec.ts";
import { html } from "../src/report/html.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";

const ARM_NAMES: Record<string, string> = {
  "dense": "dense",
  "obs-log": "OBS-Diff (log-weighted)",
  "obs-uniform": "OBS, uniform weights",
  "magnitude": "magnitude",
  "wanda": "Wanda",
};

/** A granularity and sparsity as a reader names it. */
function settingOf(c: CellResult): string {
  const g = String(c.extra.granularity);
  const s = c.sparsity_target ?? 0;
  if (g === "none") return "dense";
  if (g === "2:4") return "2:4";
  // A series label (the reporter clears the sparsity): the granularity alone.
  if (c.sparsity_target === null) return g;
  const pct = `${Math.round(100 * s)} %`;
  return g === "unstructured" ? `unstructured ${pct}` : `${g} ${pct}`;
}

function qualityCells(cells: readonly CellResult[]): CellResult[] {
  return completed(cells).filter((c) => c.target === "ort-node" && typeof c.extra.fid === "number");
}

function replicates(c: CellResult): number[] {
  try {
    const r = JSON.parse(String(c.extra.fid_replicates));
    return Array.isArray(r) ? r.map(Number) : [];
  } catch {
    return [];
  }
}

/** The paired bootstrap of FID(a) − FID(b): estimate and 95 % percentile interval. */
export function pairedFidDifference(
  a: CellResult,
  b: CellResult,
): { estimate: number; low: number; high: number; replicates: number } | undefined {
  const ra = replicates(a);
  const rb = replicates(b);
  if (ra.length === 0 || ra.length !== rb.length) return undefined;
  const d = ra.map((v, i) => v - rb[i]!).sort((x, y) => x - y);
  const at = (q: number) => d[Math.min(d.length - 1, Math.max(0, Math.round(q * (d.length - 1))))]!;
  return {
    estimate: Number(a.extra.fid) - Number(b.extra.fid),
    low: at(0.025),
    high: at(0.975),
    replicates: d.length,
  };
}

function fmt(v: unknown, digits = 1): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function settings(cells: readonly CellResult[]): string[] {
  return [...new Set(qualityCells(cells).filter((c) => c.extra.arm !== "dense").map(settingOf))];
}

function findings(cells: readonly CellResult[]): Finding[] {
  const q = qualityCells(cells);
  const dense = q.find((c) => c.extra.arm === "dense");
  if (!dense) return [];
  const out: Finding[] = [{
    text: `obs-diff: dense dit-mnist reaches FID ${fmt(dense.extra.fid)} [${
      fmt(dense.extra.fid_ci_low)
    }, ${
      fmt(dense.extra.fid_ci_high)
    }] under ${dense.extra.fid_features} features (${dense.eval_samples} samples, ${dense.extra.ddim_steps}-step DDIM, against ${dense.extra.fid_ref_images} evaluation images; not Inception FID) and class consistency ${
      fmt(dense.accuracy, 3)
    }. Intervals resample the generated images (the same indices for every variant); they leave out the choice of calibration noise.`,
  }];
  for (const s of settings(cells)) {
    const at = q.filter((c) => settingOf(c) === s);
    const log = at.find((c) => c.extra.arm === "obs-log");
    const uni = at.find((c) => c.extra.arm === "obs-uniform");
    const others = at.filter((c) => c.extra.arm === "magnitude" || c.extra.arm === "wanda")
      .map((c) => `${ARM_NAMES[String(c.extra.arm)]} ${fmt(c.extra.fid)}`).join(", ");
    if (!log || !uni) continue;
    const d = pairedFidDifference(log, uni);
    const verdict = !d
      ? "no paired replicates"
      : d.high < 0
      ? "timestep weighting is better"
      : d.low > 0
      ? "uniform weighting is better"
      : "no difference resolved (the interval spans 0)";
    out.push({
      text: `obs-diff ${s}: FID log-weighted ${fmt(log.extra.fid)} [${fmt(log.extra.fid_ci_low)}, ${
        fmt(log.extra.fid_ci_high)
      }] vs uniform ${fmt(uni.extra.fid)} [${fmt(uni.extra.fid_ci_low)}, ${
        fmt(uni.extra.fid_ci_high)
      }]; paired difference ${fmt(d?.estimate, 2)} [${fmt(d?.low, 2)}, ${fmt(d?.high, 2)}] over ${
        d?.replicates ?? 0
      } bootstrap replicates of the samples: ${verdict}; RMSE vs dense ${
        fmt(log.extra.image_rmse_mean, 3)
      } vs ${fmt(uni.extra.image_rmse_mean, 3)}${others ? `; ${others}` : ""}.`,
    });
  }
  for (const c of completed(cells)) {
    const g = String(c.extra.granularity);
    if ((g !== "heads" && g !== "neurons") || c.extra.arm !== "obs-log") continue;
    out.push({
      text: `obs-diff ${settingOf(c)} (sliced) on ${c.target}: ${
        fmt(c.flops_reduction, 2)
      }x fewer FLOPs per image; denoiser step ${fmt(c.speedup, 2)}x [${fmt(c.speedup_ci_low, 2)}, ${
        fmt(c.speedup_ci_high, 2)
      }], sampler per image ${fmt(c.extra.sampler_speedup, 2)}x [${
        fmt(c.extra.sampler_speedup_ci_low, 2)
      }, ${fmt(c.extra.sampler_speedup_ci_high, 2)}] against dense, interleaved.`,
    });
  }
  return out;
}

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const q = qualityCells(cells);
  const labels = settings(cells);
  if (labels.length === 0) return [];
  const arms = ["obs-log", "obs-uniform", "magnitude", "wanda"].filter((a) =>
    q.some((c) => c.extra.arm === a)
  );
  const dense = q.find((c) => c.extra.arm === "dense");
  return [{
    id: "obs-diff-fid",
    title:
      "obs-diff: FID under mlp-relu-mnist fc2 features per granularity and scoring (95 % bootstrap intervals)",
    kind: "ci",
    labels,
    datasets: arms.map((a) => ({
      label: ARM_NAMES[a]!,
      data: labels.map((l) => {
        const c = q.find((x) => x.extra.arm === a && settingOf(x) === l);
        return c
          ? {
            x: l,
            y: Number(c.extra.fid),
            low: Number(c.extra.fid_ci_low),
            high: Number(c.extra.fid_ci_high),
          }
          : null;
      }),
    })),
    yTitle: "FID (lower is better)",
    logY: true,
    ...(dense ? { refLines: [{ y: Number(dense.extra.fid), label: "dense" }] } : {}),
  }];
}

function sections(cells: readonly CellResult[]): ReportSection[] {
  const done = completed(cells).filter((c) => typeof c.extra.fid === "number");
  if (done.length === 0) return [];
  const rows = done.map((c) =>
    html`
      <tr>
        <td>${ARM_NAMES[String(c.extra.arm)] ?? c.method}</td>
        <td>${settingOf(c)}</td>
        <td>${c.target}</td>
        <td>${fmt(c.extra.fid)} [${fmt(c.extra.fid_ci_low)}, ${fmt(c.extra.fid_ci_high)}]</td>
        <td>${fmt(c.accuracy, 3)}</td>
        <td>${fmt(c.extra.image_rmse_mean, 3)}</td>
        <td>${fmt((c.flops_effective ?? 0) / 1e6, 1)}</td>
        <td>${fmt(c.time_median_ms, 3)}</td>
        <td>${fmt(c.speedup, 2)} [${fmt(c.speedup_ci_low, 2)}, ${fmt(c.speedup_ci_high, 2)}]</td>
        <td>${fmt(c.extra.sampler_median_ms, 2)}</td>
        <td>${fmt(c.extra.sampler_speedup, 2)} [${fmt(c.extra.sampler_speedup_ci_low, 2)}, ${fmt(
          c.extra.sampler_speedup_ci_high,
          2,
        )}]</td>
      </tr>
    `
  );
  return [{
    title: "OBS-Diff on dit-mnist: quality, FLOPs and time per variant",
    body: html`
      <p>FID under mlp-relu-mnist's fc2 features (the 512 ReLU outputs feeding its logits)
      against the first evaluation images, with a 95 % bootstrap interval over the generated samples;
      class consistency is the classifier's accuracy on the samples against their conditioning class;
      RMSE is per image against the dense sampler's image from the same noise (pixels in [0, 1]).
      Quality figures are measured once per variant on ort-node and repeated on each target's row.
      Times are at batch 1, interleaved with the dense model on the same target; this machine is
      shared, so read them with their intervals.</p>
      <table>
        <thead>
          <tr>
            <th>scoring</th>
            <th>granularity</th>
            <th>target</th>
            <th>FID [95 % CI]</th>
            <th>class consistency</th>
            <th>RMSE vs dense</th>
            <th>MFLOPs / image</th>
            <th>step ms</th>
            <th>step speedup</th>
            <th>sampler ms / image</th>
            <th>sampler speedup</th>
          </tr>
        </thead>
        <tbody>${rows}</tbody>
      </table>
    `,
  }];
}

/** The OBS-Diff study. */
export const obsDiffReport: StudyReport = {
  name: "OBS-Diff",
  covers: (id) => id === "obs-diff",
  findings,
  charts,
  sections,
  label: (c) =>
    c.extra.arm === undefined
      ? undefined
      : `${ARM_NAMES[String(c.extra.arm)] ?? c.method} ${settingOf(c)}`,
};
