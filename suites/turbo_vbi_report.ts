/**
 * The Turbo-VBI study's report (suite turbo-vbi): per base model, one table of every method's
 * accuracy with its interval and its difference to dense on the same images, compression,
 * regularity, FLOPs and speedup per target; findings that put Turbo-VBI beside each baseline at
 * (about) the same compression, with the noise of both figures.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { html } from "../src/report/html.ts";
import type { Finding, ReportSection, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";

const NAMES: Record<string, string> = {
  dense: "dense",
  "turbo-vbi": "Turbo-VBI",
  magnitude: "magnitude + fine-tune",
  structured: "structured (neuron L2) + fine-tune",
  "group-lasso": "group lasso + fine-tune",
};

const ORDER = ["dense", "turbo-vbi", "magnitude", "structured", "group-lasso"];

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const pct = (v: number | null, digits = 1) => (v === null ? "–" : `${(100 * v).toFixed(digits)} %`);
const pp = (v: number | null) => (v === null ? "–" : `${(100 * v).toFixed(1)}`);

function accText(c: CellResult): string {
  return `${pct(c.accuracy, 2)} [${pct(num(c.extra.accuracy_ci_low), 1)}, ${
    pct(num(c.extra.accuracy_ci_high), 1)
  }]`;
}

function deltaText(c: CellResult): string {
  const d = num(c.extra.accuracy_delta);
  if (d === null) return "–";
  return `${d >= 0 ? "+" : ""}${pp(d)} pp [${pp(num(c.extra.accuracy_delta_ci_low))}, ${
    pp(num(c.extra.accuracy_delta_ci_high))
  }]`;
}

function speedText(c: CellResult | undefined): string {
  if (!c || c.speedup === null) return "–";
  const lo = c.speedup_ci_low, hi = c.speedup_ci_high;
  return `${c.speedup.toFixed(2)}x${
    lo !== null && hi !== null ? ` [${lo.toFixed(2)}, ${hi.toFixed(2)}]` : ""
  }`;
}

/** The cells of one base model, the accuracy ones taken from the first target that has them. */
function byBase(cells: readonly CellResult[]): Map<string, CellResult[]> {
  const out = new Map<string, CellResult[]>();
  for (const c of completed(cells)) {
    const b = String(c.extra.base ?? c.model);
    out.set(b, [...(out.get(b) ?? []), c]);
  }
  return out;
}

function targetsOf(cells: readonly CellResult[]): string[] {
  return [...new Set(cells.map((c) => c.target))].sort();
}

/**
 * The cell of a method whose accuracy is quoted: on ort-wasm when there is one (accuracy is the
 * same on every ORT target), else the first that measured accuracy (wgsl cells do not).
 */
function first(cells: readonly CellResult[], method: string): CellResult | undefined {
  const m = cells.filter((c) => c.method === method);
  return m.find((c) => c.target === "ort-wasm" && c.accuracy !== null) ??
    m.find((c) => c.accuracy !== null) ?? m[0];
}

/**
 * Cells whose accuracy on their target differs from the quoted one (ort-wasm's) by more than one
 * percentage point: every ORT target runs the same graph, so such a target computes something
 * else (ORT-web's WebGPU Conv on llvmpipe does, for the dense LeNet), and speedups against it
 * compare different functions.
 */
function disagreements(cells: readonly CellResult[]): Finding[] {
  const out: Finding[] = [];
  for (const [, bc] of byBase(cells)) {
    for (const m of ORDER) {
      const ref = first(bc, m);
      if (!ref || ref.accuracy === null) continue;
      for (const c of bc) {
        if (c.method !== m || c === ref || c.accuracy === null) continue;
        if (Math.abs(c.accuracy - ref.accuracy) <= 0.01) continue;
        out.push({
          text: `${c.model} on ${c.target}: accuracy ${
            pct(c.accuracy, 2)
          } on ${c.eval_samples} images against ${
            pct(ref.accuracy, 2)
          } on ${ref.target} (${ref.eval_samples} images); the target computes a different function for this model, so the speedups measured of it or against it there are not comparable.`,
        });
      }
    }
  }
  return out;
}

/** One finding per base model and target whose cells did not complete, with the reason. */
function notRun(cells: readonly CellResult[]): Finding[] {
  const out = new Map<string, Set<string>>();
  for (const c of cells) {
    if (c.status === "completed") continue;
    const key = `${String(c.extra.base ?? c.model)}: ${c.target} ${c.status}`;
    out.set(key, (out.get(key) ?? new Set()).add(c.error ?? ""));
  }
  return [...out].map(([k, why]) => ({ text: `${k}: ${[...why].join("; ")}` }));
}

function findings(cells: readonly CellResult[]): Finding[] {
  const out: Finding[] = [];
  for (const [, bc] of byBase(cells)) {
    const tv = first(bc, "turbo-vbi");
    const dense = first(bc, "dense");
    if (!tv || !dense) continue;
    const targets = targetsOf(bc);
    const speed = (m: string) =>
      targets.map((t) => `${speedText(bc.find((c) => c.method === m && c.target === t))} on ${t}`)
        .join(", ");
    out.push({
      text: `${dense.model}: Turbo-VBI keeps ${accText(tv)} accuracy (dense ${
        pct(dense.accuracy, 2)
      }, difference ${deltaText(tv)} on the same ${tv.eval_samples} images) at ${
        num(tv.extra.compression)?.toFixed(1)
      }x compression with ${
        pct(num(tv.extra.regularity))
      } of its zeros in whole neurons or aligned groups (${
        pct(num(tv.extra.neuron_share))
      } in whole neurons); its sliced model needs ${
        tv.flops_reduction?.toFixed(2)
      }x fewer FLOPs and runs at ${speed("turbo-vbi")}.`,
    });
    for (const m of ["magnitude", "structured", "group-lasso"]) {
      const c = first(bc, m);
      if (!c) continue;
      out.push({
        text: `${dense.model}, ${NAMES[m]} at ${num(c.extra.compression)?.toFixed(1)}x: ${
          accText(c)
        } (${deltaText(c)} against dense), regularity ${pct(num(c.extra.regularity))}, ${
          c.flops_reduction?.toFixed(2)
        }x fewer FLOPs sliced, ${speed(m)}.`,
      });
    }
  }
  return [...out, ...disagreements(cells), ...notRun(cells)];
}

function sections(cells: readonly CellResult[]): ReportSection[] {
  const out: ReportSection[] = [];
  for (const [, bc] of byBase(cells)) {
    const targets = targetsOf(bc);
    const rows = ORDER.map((m) => first(bc, m)).filter((c): c is CellResult => c !== undefined);
    if (rows.length === 0) continue;
    out.push({
      title: `Turbo-VBI and the baselines on ${
        rows[0]!.model.replace(/-(turbo-vbi|magnitude|structured|group-lasso)$/, "")
      }`,
      body: html`
        <p>Accuracy on ${rows[0]!.eval_samples} evaluation images with its Wilson 95 %
                interval; the difference to dense is paired on the same images (bootstrap 95 %).
                Compression = dense parameters / nonzero parameters. Regularity = share of the zero weights
                that lie in a whole zero neuron/channel (row or input unit) or a whole zero aligned group
                (16 inputs of a Linear row, 8 or 4 in LeNet's small layers, one input channel's kernel or
                5 x 5 map). FLOPs: the sliced graph's MatMul/Gemm/Conv FLOPs and those of its nonzero
                weights, as reductions against dense. Speedup = dense median / sliced median, batch 1,
                interleaved runs, bootstrap 95 %.</p>
        <table>
          <thead>
            <tr><th>method</th><th>accuracy</th><th>vs dense</th><th>compression</th>
                <th>regularity</th><th>in whole neurons</th><th>neurons kept</th><th>FLOPs (sliced)</th>
                <th>FLOPs (nonzero)</th>${targets.map((t) => html`<th>speedup ${t}</th>`)}</tr>
          </thead>
          <tbody>${rows.map((c) => {
            const nz = num(c.extra.flops_nonzero);
            return html`<tr><td>${NAMES[c.method] ?? c.method}</td><td>${accText(c)}</td><td>${
              c.method === "dense" ? "–" : deltaText(c)
            }</td><td>${num(c.extra.compression)?.toFixed(2)}x</td><td>${
              pct(num(c.extra.regularity))
            }</td><td>${pct(num(c.extra.neuron_share))}</td><td>${
              String(c.extra.neurons_kept ?? "")
            }</td><td>${c.flops_reduction?.toFixed(2)}x</td><td>${
              nz && c.flops_dense ? `${(c.flops_dense / nz).toFixed(2)}x` : "–"
            }</td>${
              targets.map((t) =>
                html`<td>${
                  c.method === "dense" ? "1 (baseline)" : speedText(
                    bc.find((x) => x.method === c.method && x.target === t),
                  )
                }</td>`
              )
            }</tr>`;
          })}</tbody>
        </table>
      `,
    });
  }
  return out;
}

/** The Turbo-VBI study. */
export const turboVbiReport: StudyReport = {
  name: "Turbo-VBI structured compression",
  covers: (id) => id === "turbo-vbi",
  findings,
  sections,
  label: (c) => NAMES[c.method],
  omitCharts: ["density"],
};
