/**
 * The page shell every report shares: one self-contained HTML file (Chart.js inlined, the data in
 * a JSON block, no network request) under a Content-Security-Policy that runs only the two
 * scripts it names by hash. Findings come first, then the charts, then the sections.
 *
 * @module
 */

import { REPO_ROOT } from "../../lib/repo_root.ts";
import { chartCsv, type ChartSpec } from "./chart_spec.ts";
import { chartSvg } from "./chart_svg.ts";
import { Html, html, jsonScript } from "./html.ts";
import { PAGE_SCRIPT } from "./page_script.ts";
import type { Finding, ReportSection } from "./study.ts";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1320px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 12px; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } table.sortable th { cursor: pointer; }
tr.errored td { background: #fdd; } tr.skipped td { background: #eee; }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: 1.5em 0; } figcaption { font-weight: 600; margin-bottom: .4em; }
figcaption a { font-weight: 400; margin-left: .6em; font-size: 12px; }
canvas { max-width: 100%; }
#findings { border: 1px solid #bcd; background: #f5f9ff; padding: .6em 1.2em; border-radius: 4px; }
#findings h2 { margin-top: .4em; } #findings li { margin: .3em 0; } .warn { background: #fff4d6; border: 1px solid #e0b84a; padding: .4em .8em; border-radius: 4px; }
dl.fields { display: grid; grid-template-columns: 16em 1fr; gap: 2px 1em; font-size: 13px; }
dl.fields dt { font-weight: 600; } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; } td details { max-width: 28em; overflow-wrap: anywhere; }
`;

/**
 * Chart.js's UMD bundle, to inline.
 *
 * @returns The script text, safe inside a `<script>` element.
 */
export async function chartJsSource(): Promise<string> {
  const src = await Deno.readTextFile(`${REPO_ROOT}node_modules/chart.js/dist/chart.umd.min.js`);
  return src.replaceAll("</script", "<\\/script");
}

async function cspHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/** What a page holds. */
export interface PageOptions {
  /** Title (plain text). */
  title: string;
  /** Markup under the title. */
  intro: Html;
  /** The findings block's sentences (shown first; omitted when empty). */
  findings?: readonly Finding[];
  /** Charts. */
  charts: readonly ChartSpec[];
  /** Sections after the charts. */
  sections: readonly ReportSection[];
  /** CSP sources for images besides `data:` and `blob:` (the index shows its previews). */
  imgSrc?: string;
}

/**
 * The findings block: banners first, then one sentence per finding.
 *
 * @param findings The sentences.
 * @returns The `<section id="findings">` markup ("" when there are none).
 */
export function findingsBlock(findings: readonly Finding[]): Html {
  if (findings.length === 0) return html``;
  const warn = findings.filter((f) => f.level === "warn");
  const info = findings.filter((f) => f.level !== "warn");
  return html`<section id="findings"><h2>Findings</h2>${
    warn.map((f) => html`<p class="warn">${f.text}</p>`)
  }<ul>${info.map((f) => html`<li>${f.text}</li>`)}</ul></section>`;
}

/**
 * Renders a page.
 *
 * @param options Title, intro, findings, charts and sections.
 * @returns The HTML document.
 */
export async function renderPage(options: PageOptions): Promise<string> {
  // A page without charts (the index) does not carry Chart.js.
  const chartJs = options.charts.length > 0 ? await chartJsSource() : "";
  const scripts = chartJs ? [chartJs, PAGE_SCRIPT] : [PAGE_SCRIPT];
  const hashes = await Promise.all(scripts.map(cspHash));
  const styleHash = await cspHash(STYLE);
  const img = ["data:", "blob:", ...(options.imgSrc ? [options.imgSrc] : [])].join(" ");
  const csp = `default-src 'none'; script-src ${
    hashes.join(" ")
  }; style-src ${styleHash}; img-src ${img}; base-uri 'none'; form-action 'none'`;
  const charts = options.charts.map((c) => ({ ...c, csv: chartCsv(c), svg: chartSvg(c) }));
  const figures = options.charts.map((c, i) =>
    html`
      <figure>
        <figcaption>${c.title}
          <a href="#" id="csv-${i}">CSV</a><a href="#" id="png-${i}">PNG</a><a href="#" id="svg-${i}">SVG</a>
        </figcaption>
        <canvas id="chart-${i}" width="960" height="360"></canvas>
      </figure>
    `
  );
  const page = html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="${csp}">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${options.title}</title>
        <style>${Html.trusted(STYLE)}</style>
      </head>
      <body>
    <h1>${options.title}</h1>
    ${options.intro}
    ${findingsBlock(options.findings ?? [])}
    ${figures}
    ${options.sections.map((s) => html`<h2>${s.title}</h2>\n${s.body}\n`)}
    ${jsonScript("sb-data", { charts })}
    ${scripts.map((src) => html`<script>${Html.trusted(src)}</script>`)}
      </body>
    </html>
  `;
  return page.toString();
}
