/**
 * The HTML report of a run: one self-contained page (Chart.js inlined, the data embedded as JSON,
 * no network request) with FLOPs reduction per variant, speedup with its confidence interval per
 * target, accuracy against sparsity per method, per-layer densities, kernel throughput, the
 * environment and every cell. It reads only what the run folder holds.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import { REPO_ROOT } from "../../lib/repo_root.ts";
import { readRun, type RunData } from "./run_data.ts";
import type { ComparedCell } from "./compare.ts";

export { readRun, type RunData };

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param s Any text.
 * @returns Escaped text.
 */
export function escapeHtml(s: unknown): string {
  return String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * JSON safe to embed in a `<script>` element (no `</script>`, no HTML comment openers).
 *
 * @param value Any JSON value.
 * @returns Script-safe JSON text.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(
    /\u2028|\u2029/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/**
 * Chart.js's UMD bundle, to inline.
 *
 * @returns The script text, safe inside a `<script>` element.
 */
export async function chartJsSource(): Promise<string> {
  const src = await Deno.readTextFile(`${REPO_ROOT}node_modules/chart.js/dist/chart.umd.min.js`);
  return src.replaceAll("</script", "<\\/script");
}

function variantLabel(c: CellResult): string {
  const p = c.params && c.params !== "{}" ? ` ${c.params}` : "";
  const s = c.sparsity_target !== null ? `@${c.sparsity_target}` : "";
  const shape = c.extra.shape ? ` ${c.extra.shape}` : "";
  return `${c.method}${s}${p}${shape}`;
}

/** The charts of a report, as plain data the page turns into Chart.js configs. */
interface ChartSpec {
  id: string;
  title: string;
  kind: "bar" | "ci" | "scatter" | "line";
  labels?: string[];
  datasets: { label: string; data: unknown[] }[];
  xTitle?: string;
  yTitle?: string;
  logY?: boolean;
  logX?: boolean;
}

/**
 * The charts for a set of cells (one run, or several in a comparison).
 *
 * @param cells Cells.
 * @returns Chart specs.
 */
export function chartsFor(cells: readonly CellResult[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const done = cells.filter((c) => c.status === "completed");
  const suites = [...new Set(done.map((c) => c.suite))];
  for (const suite of suites) {
    const sc = done.filter((c) => c.suite === suite);
    const targets = [...new Set(sc.map((c) => c.target))];
    const variants = [...new Set(sc.filter((c) => c.method !== "dense").map(variantLabel))];
    // FLOPs reduction per variant (same on every target: take the first row of each).
    const flops = variants.map((v) =>
      sc.find((c) => variantLabel(c) === v && c.flops_reduction !== null)?.flops_reduction ?? null
    );
    if (flops.some((f) => f !== null)) {
      charts.push({
        id: `${suite}-flops`,
        title: `${suite}: FLOPs reduction (dense / effective FLOPs)`,
        kind: "bar",
        labels: variants,
        datasets: [{ label: "FLOPs reduction", data: flops }],
        yTitle: "x fewer FLOPs",
      });
    }
    // Speedup with its 95 % CI per target.
    if (variants.length > 0 && sc.some((c) => c.speedup !== null)) {
      charts.push({
        id: `${suite}-speedup`,
        title: `${suite}: measured speedup (dense time / variant time) with 95 % CI, per target`,
        kind: "ci",
        labels: variants,
        datasets: targets.map((t) => ({
          label: t,
          data: variants.map((v) => {
            const c = sc.find((x) => x.target === t && variantLabel(x) === v);
            return c && c.speedup !== null
              ? {
                y: c.speedup,
                low: c.speedup_ci_low ?? c.speedup,
                high: c.speedup_ci_high ?? c.speedup,
              }
              : null;
          }),
        })),
        yTitle: "speedup (x)",
      });
    }
    // Accuracy against realised sparsity per method.
    const withAcc = sc.filter((c) => c.accuracy !== null && c.method !== "dense");
    if (withAcc.length > 0) {
      const first = targets.find((t) => withAcc.some((c) => c.target === t))!;
      const methodLabel = (
        c: CellResult,
      ) => (c.params && c.params !== "{}" ? `${c.method} ${c.params}` : c.method);
      const methods = [...new Set(withAcc.map(methodLabel))];
      const dense = sc.find((c) => c.method === "dense" && c.accuracy !== null);
      charts.push({
        id: `${suite}-accuracy`,
        title: `${suite}: ${withAcc[0]!.metric} vs realised sparsity (dense ${
          dense?.accuracy?.toFixed(4) ?? "?"
        })`,
        kind: "scatter",
        datasets: methods.map((m) => ({
          label: m,
          data: withAcc.filter((c) => methodLabel(c) === m && c.target === first).map((c) => ({
            x: c.sparsity_realized ?? c.sparsity_target ?? 0,
            y: c.accuracy,
          })).sort((a, b) => a.x - b.x),
        })),
        xTitle: "realised sparsity",
        yTitle: withAcc[0]!.metric,
      });
      // Accuracy against FLOPs saved: the one axis on which methods of different kinds (token vs
      // neuron sparsity, structured vs not) compare fairly. Variants swept by parameters rather
      // than by a sparsity grid form one series per method, so ablation arms read as curves.
      const withFlops = withAcc.filter((c) => c.target === first && c.flops_reduction !== null);
      if (withFlops.some((c) => c.sparsity_target === null)) {
        const arm = (c: CellResult) => c.sparsity_target === null ? c.method : methodLabel(c);
        const arms = [...new Set(withFlops.map(arm))];
        charts.push({
          id: `${suite}-accuracy-flops`,
          title: `${suite}: ${withAcc[0]!.metric} vs FLOPs reduction, per method (dense ${
            dense?.accuracy?.toFixed(4) ?? "?"
          })`,
          kind: "scatter",
          datasets: arms.map((a) => ({
            label: a,
            data: withFlops.filter((c) => arm(c) === a).map((c) => ({
              x: c.flops_reduction,
              y: c.accuracy,
            })).sort((p, q) => p.x! - q.x!),
          })),
          xTitle: "x fewer FLOPs",
          yTitle: withAcc[0]!.metric,
        });
      }
    }
    // Per-layer densities of the variants that measured them.
    const dens = sc.filter((c) =>
      c.layer_density && Object.keys(c.layer_density).length > 0 && c.target === targets[0]
    );
    if (dens.length > 0) {
      const layers = [...new Set(dens.flatMap((c) => Object.keys(c.layer_density!)))];
      charts.push({
        id: `${suite}-density`,
        title:
          `${suite}: per-layer activation density (fraction of inputs a skipping kernel reads)`,
        kind: "bar",
        labels: layers.map((l) => l.length > 40 ? `…${l.slice(-38)}` : l),
        datasets: dens.slice(0, 12).map((c) => ({
          label: variantLabel(c),
          data: layers.map((l) => c.layer_density![l] ?? null),
        })),
        yTitle: "density",
      });
    }
    // Kernel throughput: speedup vs sparsity against the ideal 1/(1 − s), per shape.
    const kern = sc.filter((c) => c.extra.kernel === "input-sparse" && c.sparsity_target !== null);
    if (kern.length > 0) {
      const shapes = [...new Set(kern.map((c) => String(c.extra.shape)))];
      charts.push({
        id: `${suite}-kernel-speedup`,
        title:
          `${suite}: input-sparse GEMV speedup over the dense GEMV vs sparsity (ideal 1/(1−s) dashed)`,
        kind: "line",
        datasets: [
          ...shapes.map((s) => ({
            label: s,
            data: kern.filter((c) => c.extra.shape === s).map((c) => ({
              x: c.sparsity_target!,
              y: c.speedup,
            })).sort((a, b) => a.x - b.x),
          })),
          {
            label: "ideal",
            data: [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95].map((s) => ({ x: s, y: 1 / (1 - s) })),
          },
        ],
        xTitle: "sparsity",
        yTitle: "speedup (x)",
        logY: true,
      });
      const bw = sc.filter((c) => c.extra.gb_per_s !== undefined && c.extra.kernel !== "copy");
      charts.push({
        id: `${suite}-bandwidth`,
        title: `${suite}: achieved bandwidth, % of the compute-copy ceiling`,
        kind: "bar",
        labels: bw.map((c) =>
          `${c.extra.kernel} ${c.extra.shape}${
            c.sparsity_target !== null ? ` s=${c.sparsity_target}` : ""
          }`
        ),
        datasets: [{ label: "% of ceiling", data: bw.map((c) => c.extra.pct_of_ceiling ?? null) }],
        yTitle: "% of ceiling",
      });
    }
    // Dead-neuron rate per ReLU layer (AP's DNR), dense and every variant.
    const dnr = sc.filter((c) => typeof c.extra.dnr_layers === "string" && c.target === targets[0]);
    if (dnr.length > 0) {
      const parsed = dnr.map((c) => ({
        c,
        layers: JSON.parse(String(c.extra.dnr_layers)) as Record<string, number>,
      }));
      const layers = [...new Set(parsed.flatMap((p) => Object.keys(p.layers)))];
      charts.push({
        id: `${suite}-dnr`,
        title:
          `${suite}: dead-neuron rate per ReLU layer (fraction of zero outputs on the evaluation split)`,
        kind: "bar",
        labels: layers,
        datasets: parsed.slice(0, 14).map((p) => ({
          label: variantLabel(p.c),
          data: layers.map((l) => p.layers[l] ?? null),
        })),
        yTitle: "DNR",
      });
    }
    // SDR scaling laws: exact probability per sweep, Monte-Carlo estimates with their intervals.
    const theory = sc.filter((c) => c.method === "theory" && c.extra.sweep !== undefined);
    for (const sweep of [...new Set(theory.map((c) => String(c.extra.sweep)))]) {
      const pts = theory.filter((c) => c.extra.sweep === sweep && Number(c.extra.p_theory) > 0);
      const mc = sc.filter((c) => c.method === "monte-carlo" && c.extra.sweep === sweep);
      charts.push({
        id: `${suite}-sdr-${sweep}`,
        title:
          `${suite}: false-match probability vs ${sweep} (exact; Monte-Carlo with 99 % interval)`,
        kind: "line",
        datasets: [
          {
            label: "exact",
            data: pts.map((c) => ({ x: Number(c.extra.x), y: Number(c.extra.p_theory) })).sort((
              a,
              b,
            ) => a.x - b.x),
          },
          {
            label: "Monte-Carlo",
            data: mc.map((c) => ({ x: Number(c.extra.x), y: Number(c.extra.p_mc) })),
          },
          {
            label: "99 % low",
            data: mc.map((c) => ({ x: Number(c.extra.x), y: Number(c.extra.ci_low) })),
          },
          {
            label: "99 % high",
            data: mc.map((c) => ({ x: Number(c.extra.x), y: Number(c.extra.ci_high) })),
          },
        ],
        xTitle: sweep,
        yTitle: "P(false match)",
        logY: true,
        logX: sweep.startsWith("n"),
      });
    }
  }
  return charts;
}

const COLUMNS = [
  "suite",
  "target",
  "device",
  "method",
  "sparsity_target",
  "sparsity_realized",
  "flops_reduction",
  "time_median_ms",
  "speedup",
  "speedup_ci_low",
  "speedup_ci_high",
  "accuracy",
  "accuracy_dense",
  "gate",
  "status",
  "error",
] as const;

function cellTable(cells: readonly CellResult[]): string {
  const fmt = (v: unknown) =>
    typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v ?? "");
  const head = [...COLUMNS, "extra"].map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const rows = cells.map((c) =>
    `<tr class="${escapeHtml(c.status)}">${
      COLUMNS.map((k) =>
        `<td>${escapeHtml(fmt((c as unknown as Record<string, unknown>)[k]))}</td>`
      ).join("")
    }<td>${escapeHtml(Object.entries(c.extra).map(([k, v]) => `${k}=${v}`).join(" "))}</td></tr>`
  ).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function environmentTable(run: Record<string, unknown>): string {
  const env = (run.environment ?? {}) as Record<string, unknown>;
  const rows: [string, unknown][] = [
    ["run", run.runId],
    ["command", (run.commandLine as string[] | undefined)?.join(" ")],
    ["status", run.status],
    ["started", run.startedAt],
    ["wall time (s)", typeof run.wallMs === "number" ? (run.wallMs / 1000).toFixed(1) : ""],
    ["deno / v8 / typescript", `${env.deno} / ${env.v8} / ${env.typescript}`],
    ["os", env.os],
    ["cpu", `${env.cpuModel} (${env.cpuCores} logical cores)`],
    ["git", JSON.stringify(env.git)],
    ["packages", JSON.stringify(env.packages)],
  ];
  for (
    const [target, id] of Object.entries(
      (run.backends ?? {}) as Record<string, Record<string, unknown>>,
    )
  ) {
    rows.push([
      `target ${target}`,
      `${id.device} — ${id.runtime}${id.threads ? `, ${id.threads} threads` : ""}`,
    ]);
  }
  return `<table class="env">${
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")
  }</table>`;
}

/**
 * The page's script: builds Chart.js charts from the embedded specs, then marks the page ready.
 * Written as a plain string so that it runs in the browser unchanged.
 */
const PAGE_SCRIPT = `
const specs = JSON.parse(document.getElementById("sb-data").textContent).charts;
const palette = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
Chart.defaults.animation = false;
for (const [i, s] of specs.entries()) {
  const canvas = document.getElementById("chart-" + i);
  const axes = (x, y, logY) => ({
    x: { title: { display: !!x, text: x || "" } },
    y: { type: logY ? "logarithmic" : "linear", title: { display: !!y, text: y || "" } },
  });
  let config;
  if (s.kind === "ci") {
    const datasets = [];
    s.datasets.forEach((d, j) => {
      const color = palette[j % palette.length];
      datasets.push({ type: "bar", label: d.label + " 95% CI", data: d.data.map((p) => p ? [p.low, p.high] : null), backgroundColor: color + "55", borderColor: color, borderWidth: 1 });
      datasets.push({ type: "scatter", label: d.label, data: d.data.map((p, k) => p ? { x: s.labels[k], y: p.y } : null).filter(Boolean), backgroundColor: color, pointRadius: 4 });
    });
    config = { type: "bar", data: { labels: s.labels, datasets }, options: { responsive: false, scales: axes("", s.yTitle) } };
  } else if (s.kind === "scatter" || s.kind === "line") {
    config = {
      type: "scatter",
      data: { datasets: s.datasets.map((d, j) => ({ label: d.label, data: d.data, showLine: true, borderDash: d.label === "ideal" ? [6, 4] : [], borderColor: palette[j % palette.length], backgroundColor: palette[j % palette.length] })) },
      options: { responsive: false, scales: { ...axes(s.xTitle, s.yTitle, s.logY), x: { type: s.logX ? "logarithmic" : "linear", title: { display: true, text: s.xTitle || "" } } } },
    };
  } else {
    config = {
      type: "bar",
      data: { labels: s.labels, datasets: s.datasets.map((d, j) => ({ label: d.label, data: d.data, backgroundColor: palette[j % palette.length] })) },
      options: { responsive: false, scales: axes(s.xTitle, s.yTitle, s.logY) },
    };
  }
  new Chart(canvas, config);
}
document.body.dataset.ready = "1";
`;

/**
 * Renders a page from a title, intro HTML, chart specs and extra sections.
 *
 * @param options Title, intro, charts, sections (trusted HTML built from escaped values).
 * @returns The HTML document.
 */
export async function renderPage(options: {
  title: string;
  intro: string;
  charts: ChartSpec[];
  sections: { title: string; html: string }[];
}): Promise<string> {
  const chartHtml = options.charts.map((c, i) =>
    `<figure><figcaption>${
      escapeHtml(c.title)
    }</figcaption><canvas id="chart-${i}" width="960" height="360"></canvas></figure>`
  ).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(options.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
tr.errored td { background: #fdd; } tr.skipped td { background: #eee; }
figure { margin: 1.5em 0; } figcaption { font-weight: 600; margin-bottom: .4em; }
.env th { width: 14em; }
</style></head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${options.intro}
${chartHtml}
${options.sections.map((s) => `<h2>${escapeHtml(s.title)}</h2>\n${s.html}`).join("\n")}
<script id="sb-data" type="application/json">${scriptJson({ charts: options.charts })}</script>
<script>${await chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/**
 * Tables that put figures side by side: a paper's claims beside what the run measured, and WINA
 * against TEAL at equal sparsity (as the WINA paper compares them).
 *
 * @param run The run.
 * @returns HTML sections.
 */
export function comparisonSections(run: RunData): { title: string; html: string }[] {
  const out: { title: string; html: string }[] = [];
  const fmt = (
    v: number | null | undefined,
    d = 4,
  ) => (v === null || v === undefined ? "—" : v.toFixed(d));
  const suites = (run.run.suites ?? []) as {
    id: string;
    claims?: { label: string; value: number; unit: string; source: string }[];
  }[];
  for (const s of suites) {
    if (!s.claims?.length) continue;
    const relu = run.cells.find((c) =>
      c.suite === s.id && c.method === "relu" && c.sparsity_realized !== null
    );
    const measured = relu ? 100 * (1 - relu.sparsity_realized!) : null;
    const layers = relu?.layer_density
      ? Object.entries(relu.layer_density).map(([k, v]) => `${k}: ${(100 * v).toFixed(1)} %`).join(
        "; ",
      )
      : "";
    const rows = s.claims.map((c) =>
      `<tr><td>${escapeHtml(c.label)}</td><td>${escapeHtml(c.value)} ${
        escapeHtml(c.unit)
      }</td><td>${escapeHtml(c.source)}</td></tr>`
    ).join("");
    out.push({
      title: `${s.id}: claims beside measurements`,
      // Only a relu cell measures natural sparsity; other suites' claims sit beside their tables.
      html: `<table><tr><th>claim</th><th>value</th><th>source</th></tr>${rows}</table>${
        relu && measured !== null
          ? `<p>Measured here (${escapeHtml(relu.model)}): <b>${
            measured.toFixed(1)
          } %</b> nonzero FFN activations over the evaluation samples, FLOP-weighted across layers (${
            escapeHtml(layers)
          }).</p>`
          : ""
      }`,
    });
  }
  for (const suite of [...new Set(run.cells.map((c) => c.suite))]) {
    const sc = run.cells.filter((c) =>
      c.suite === suite && c.status === "completed" && c.accuracy !== null
    );
    const first = sc[0]?.target;
    const at = (method: string, params: string, s: number) =>
      sc.find((c) =>
        c.target === first && c.method === method && c.params === params && c.sparsity_target === s
      )?.accuracy ?? null;
    const grid = [...new Set(sc.filter((c) => c.method === "teal").map((c) => c.sparsity_target!))]
      .sort((a, b) => a - b);
    if (grid.length === 0 || !sc.some((c) => c.method === "wina")) continue;
    const lower = sc[0]!.metric === "bpc";
    let wins = 0;
    let compared = 0;
    const rows = grid.map((s) => {
      const teal = at("teal", "{}", s);
      const wTop = at("wina", "{}", s);
      const wThr = at("wina", '{"select":"threshold"}', s);
      const best = [wTop, wThr].filter((v): v is number => v !== null);
      if (teal !== null && best.length) {
        compared++;
        const b = lower ? Math.min(...best) : Math.max(...best);
        if (lower ? b < teal : b > teal) wins++;
      }
      return `<tr><td>${s}</td><td>${fmt(teal)}</td><td>${fmt(wTop)}</td><td>${
        fmt(wThr)
      }</td></tr>`;
    }).join("");
    out.push({
      title: `${suite}: WINA vs TEAL at equal sparsity (${escapeHtml(sc[0]!.metric)}, ${
        lower ? "lower" : "higher"
      } is better)`,
      html:
        `<table><tr><th>sparsity</th><th>TEAL</th><th>WINA top-k</th><th>WINA threshold</th></tr>${rows}</table>
<p>WINA (better of its two forms) beats TEAL at <b>${wins} of ${compared}</b> sparsities on this model, as measured.</p>`,
    });
  }
  for (const suite of [...new Set(run.cells.map((c) => c.suite))]) {
    const section = coAdaptiveSection(run.cells.filter((c) => c.suite === suite), suite);
    if (section) out.push(section);
  }
  return out;
}

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

/**
 * CoreMatching's ablation: the co-adaptive setting against tokens-only and neurons-only at the
 * same FLOPs reduction. A single arm that never reaches that reduction cannot be matched and is
 * shown as such rather than extrapolated.
 */
function coAdaptiveSection(
  cells: readonly CellResult[],
  suite: string,
): { title: string; html: string } | null {
  const sc = cells.filter((c) =>
    c.status === "completed" && c.accuracy !== null && c.flops_reduction !== null
  );
  const first = sc[0]?.target;
  const arm = (m: string) =>
    sc.filter((c) => c.target === first && c.method === m).map((c) => ({
      x: c.flops_reduction!,
      y: c.accuracy!,
      params: c.params,
      n: c.eval_samples,
    }));
  const both = arm("corematching");
  const tokens = arm("corematching-tokens");
  const neurons = arm("corematching-neurons");
  if (both.length === 0 || (tokens.length === 0 && neurons.length === 0)) return null;
  const fmt = (v: number) => v.toFixed(4);
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
      const se = c.n ? Math.sqrt((c.y * (1 - c.y)) / c.n) : 0;
      const gap = c.y - Math.max(...alone);
      if (gap > se) wins++;
      else if (gap < -se) losses++;
    }
    return `<tr><td>${escapeHtml(c.params)}</td><td>${c.x.toFixed(3)}</td><td>${fmt(c.y)}</td><td>${
      t === null ? "not reached" : fmt(t)
    }</td><td>${n === null ? "not reached" : fmt(n)}</td></tr>`;
  }).join("");
  return {
    title: `${suite}: co-adaptive vs either sparsity alone at matched FLOPs (${
      escapeHtml(sc[0]!.metric)
    })`,
    html:
      `<table><tr><th>setting</th><th>x fewer FLOPs</th><th>tokens + neurons</th><th>tokens only (interpolated)</th><th>neurons only (interpolated)</th></tr>${rows}</table>
<p>Against the better single arm that reaches its FLOPs reduction, the co-adaptive combination wins at <b>${wins}</b>, loses at <b>${losses}</b> and ties (within one binomial standard error) at <b>${
        compared - wins - losses
      }</b> of ${compared} settings, as measured.</p>`,
  };
}

/**
 * Renders the report of one run.
 *
 * @param run The run.
 * @returns The HTML document.
 */
export async function renderRunReport(run: RunData): Promise<string> {
  const counts = ["completed", "errored", "skipped"].map((s) =>
    `${run.cells.filter((c) => c.status === s).length} ${s}`
  ).join(", ");
  return await renderPage({
    title: `sparsebench run ${run.id}`,
    intro: `<p>${escapeHtml(run.cells.length)} cells (${
      escapeHtml(counts)
    }). Speedups are dense time / variant time on the same target from interleaved runs; ORT runs masked graphs with dense matmuls, the wgsl target skips inactive weight rows.</p>`,
    charts: chartsFor(run.cells),
    sections: [
      ...comparisonSections(run),
      { title: "Environment", html: environmentTable(run.run) },
      { title: "All cells", html: cellTable(run.cells) },
    ],
  });
}

/**
 * Writes a run's report next to the others: `reports/<run-id>/index.html`, or
 * `reports/published/<run-id>/index.html` for a run under `results/published/`.
 *
 * @param runDir The run folder.
 * @param options `reportsDir` (default: the repository's `reports`).
 * @returns The path written.
 */
export async function writeRunReport(
  runDir: string,
  options: { reportsDir?: string } = {},
): Promise<string> {
  const run = await readRun(runDir);
  const base = options.reportsDir ?? `${REPO_ROOT}reports`;
  const published = /(^|\/)results\/published\//.test(runDir);
  const dir = `${base}${published ? "/published" : ""}/${run.id}`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/index.html`;
  await Deno.writeTextFile(path, await renderRunReport(run));
  return path;
}

/**
 * Renders the comparison of runs from different machines.
 *
 * @param runs The runs (the first is the reference).
 * @param compared Their matched cells.
 * @returns The HTML document.
 */
export async function renderCompareReport(
  runs: readonly RunData[],
  compared: readonly ComparedCell[],
): Promise<string> {
  const deviceOf = (r: RunData) => {
    const b = (r.run.backends ?? {}) as Record<string, { device?: string }>;
    return [...new Set(Object.values(b).map((x) => x.device))].join(" / ");
  };
  const labels = compared.map((c) =>
    `${c.suite} ${c.target} ${c.method}${c.sparsity !== null ? `@${c.sparsity}` : ""}`
  );
  const charts: ChartSpec[] = [];
  for (const suite of [...new Set(compared.map((c) => c.suite))]) {
    const idx = compared.map((c, i) => (c.suite === suite ? i : -1)).filter((i) => i >= 0);
    charts.push({
      id: `cmp-${suite}-time`,
      title: `${suite}: median time per run on each machine (ms, log scale)`,
      kind: "bar",
      labels: idx.map((i) => labels[i]!),
      datasets: runs.map((r, j) => ({
        label: `${r.id} (${deviceOf(r)})`,
        data: idx.map((i) => compared[i]!.timesMs[j]),
      })),
      yTitle: "ms",
      logY: true,
    });
    charts.push({
      id: `cmp-${suite}-speedup`,
      title: `${suite}: speedup over dense on each machine`,
      kind: "bar",
      labels: idx.map((i) => labels[i]!),
      datasets: runs.map((r, j) => ({
        label: r.id,
        data: idx.map((i) => compared[i]!.speedups[j]),
      })),
      yTitle: "speedup (x)",
    });
  }
  const head = ["cell", ...runs.flatMap((r) => [`${r.id} device`, `ms`, `ratio`, `p`, `speedup`])]
    .map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const fmt = (v: number | null) => (v === null ? "" : v.toPrecision(4));
  const rows = compared.map((c, i) =>
    `<tr><td>${escapeHtml(labels[i])}</td>${
      runs.map((_, j) =>
        `<td>${escapeHtml(c.devices[j] ?? "—")}</td><td>${fmt(c.timesMs[j]!)}</td><td>${
          fmt(c.ratios[j]!)
        }</td><td>${fmt(c.pValues[j]!)}</td><td>${fmt(c.speedups[j]!)}</td>`
      ).join("")
    }</tr>`
  ).join("\n");
  return await renderPage({
    title: `sparsebench comparison: ${runs.map((r) => r.id).join(" vs ")}`,
    intro: `<p>Machines: ${
      runs.map((r) => `<b>${escapeHtml(r.id)}</b>: ${escapeHtml(deviceOf(r))}`).join("; ")
    }. Ratio = time / time on the first machine; p = two-sided Mann–Whitney U on the raw timing samples (a difference with p &lt; 0.01 is unlikely to be noise).</p>`,
    charts,
    sections: [
      {
        title: "Cells side by side",
        html: `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`,
      },
      ...runs.map((r) => ({ title: `Environment of ${r.id}`, html: environmentTable(r.run) })),
    ],
  });
}
