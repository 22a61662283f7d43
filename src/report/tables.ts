/**
 * The tables every run report ends with: all cells (collapsible, sortable, empty columns
 * hidden, suite-specific figures in a details cell) and the environment with the pins, as
 * readable fields.
 *
 * @module
 */

import type { CellResult } from "../result.ts";
import { type Html, html } from "./html.ts";

const COLUMNS = [
  "suite",
  "target",
  "device",
  "method",
  "params",
  "sparsity_target",
  "sparsity_realized",
  "flops_reduction",
  "time_median_ms",
  "dense_paired_median_ms",
  "time_basis",
  "speedup",
  "speedup_ci_low",
  "speedup_ci_high",
  "accuracy",
  "accuracy_dense",
  "gate",
  "status",
  "error",
] as const;

/**
 * A figure as a table shows it: integers as they are, other numbers to 4 significant digits.
 *
 * @param v Any value.
 * @returns Text.
 */
export function formatValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function field(c: CellResult, k: string): unknown {
  return (c as unknown as Record<string, unknown>)[k];
}

/**
 * Every cell, one row each, in a collapsible, sortable table.
 *
 * @param cells The cells.
 * @returns The markup.
 */
export function cellTable(cells: readonly CellResult[]): Html {
  const cols = COLUMNS.filter((k) => cells.some((c) => formatValue(field(c, k)) !== ""));
  const extra = (c: CellResult) => {
    const entries = Object.entries(c.extra);
    if (entries.length === 0) return html``;
    return html`<details><summary>${entries.length} fields</summary>${
      entries.map(([k, v]) => html`${k}=${formatValue(v)}<br>`)
    }</details>`;
  };
  return html`
    <details>
      <summary>${cells.length} cells (click a column to sort)</summary>
      <div class="scroll">
        <table class="sortable">
          <thead>
            <tr>${[...cols, "extra"].map((c) => html`<th>${c}</th>`)}</tr>
          </thead>
          <tbody>${cells.map((c) =>
            html`<tr class="${c.status}">${
              cols.map((k) => html`<td>${formatValue(field(c, k))}</td>`)
            }<td>${extra(c)}</td></tr>\n`
          )}</tbody>
        </table>
      </div>
    </details>
  `;
}

function fields(rows: readonly [string, unknown][]): Html {
  return html`<dl class="fields">${
    rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) =>
      html`
        <dt>${k}</dt>
        <dd>${formatValue(v)}</dd>
      `
    )
  }</dl>`;
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

/**
 * A run's environment, targets and pins (model sha256, dataset hash, suite hash, seed) as fields.
 *
 * @param run `run.json`.
 * @returns The markup.
 */
export function environmentTable(run: Record<string, unknown>): Html {
  const env = record(run.environment);
  const git = record(env.git);
  const rows: [string, unknown][] = [
    ["run", run.runId],
    ["command", Array.isArray(run.commandLine) ? run.commandLine.join(" ") : run.commandLine],
    ["status", run.status],
    ["started", run.startedAt],
    ["wall time (s)", typeof run.wallMs === "number" ? (run.wallMs / 1000).toFixed(1) : ""],
    ["quick", run.quick],
    [
      "git commit",
      git.commit === undefined ? undefined : `${git.commit}${git.dirty ? " (dirty)" : ""}`,
    ],
    ["deno / v8 / typescript", `${env.deno} / ${env.v8} / ${env.typescript}`],
    ["os", env.os],
    [
      "cpu",
      env.cpuModel === undefined ? undefined : `${env.cpuModel} (${env.cpuCores} logical cores)`,
    ],
    ["memory (GiB)", env.memoryGiB],
    [
      "packages",
      Object.entries(record(env.packages)).map(([k, v]) => `${k} ${v}`).join(", "),
    ],
  ];
  for (const [target, id] of Object.entries(record(run.backends))) {
    const b = record(id);
    rows.push([
      `target ${target}`,
      `${b.device} — ${b.runtime}${b.threads ? `, ${b.threads} threads` : ""}`,
    ]);
  }
  for (const s of Array.isArray(run.suites) ? run.suites : []) {
    const suite = record(s);
    const model = record(suite.model);
    const dataset = record(suite.dataset);
    rows.push([
      `suite ${suite.id}`,
      `${suite.file ?? ""} sha256 ${suite.sha256 ?? "?"}, seed ${suite.seed ?? "?"}`,
    ]);
    if (model.sha256) rows.push([`  model`, `${model.path ?? ""} sha256 ${model.sha256}`]);
    if (dataset.hash) rows.push([`  dataset`, `${dataset.id ?? ""} hash ${dataset.hash}`]);
  }
  return fields(rows);
}
