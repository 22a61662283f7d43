/**
 * What a run made in a browser page (`deno task serve`) records beyond a Deno run: the browser
 * (user agent, WebGPU adapter, cross-origin isolation, wasm threads) and the substitutions, where a
 * suite's browser form ran another target than the suite names (ort-wasm for ort-node, which a
 * page cannot load). A suite's description and its study's text name the Deno targets, so the
 * report says where the page ran something else. A run without a `browser` field gets nothing.
 *
 * @module
 */

import type { Finding, ReportSection } from "./study.ts";
import { type Html, html } from "./html.ts";

/** One substitution as run.json records it (`web/browser_suites.ts`). */
export interface RecordedSubstitution {
  /** Suite id. */
  suite: string;
  /** What the target does there: `accuracy`, `calibration` or `timing`. */
  role: string;
  /** The target the suite names. */
  from: string;
  /** The target the page ran instead. */
  to: string;
}

function record(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : null;
}

function text(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

/**
 * The browser facts of a run, or null for a run not made in a browser.
 *
 * @param run `run.json`.
 * @returns `run.browser`, when it is an object.
 */
export function browserFacts(run: Record<string, unknown>): Record<string, unknown> | null {
  return record(run.browser);
}

/**
 * The substitutions a browser run recorded; entries that are not objects are dropped.
 *
 * @param run `run.json`.
 * @returns The substitutions, in recorded order ([] for a Deno run).
 */
export function substitutionsOf(run: Record<string, unknown>): RecordedSubstitution[] {
  const subs = browserFacts(run)?.substitutions;
  if (!Array.isArray(subs)) return [];
  return subs.flatMap((s) => {
    const r = record(s);
    if (!r) return [];
    return [{ suite: text(r.suite), role: text(r.role), from: text(r.from), to: text(r.to) }];
  });
}

/** Substitutions of one suite and one pair of targets, with every role they cover. */
interface SubstitutionRow {
  suite: string;
  from: string;
  to: string;
  roles: string[];
}

function grouped(subs: readonly RecordedSubstitution[]): SubstitutionRow[] {
  const rows = new Map<string, SubstitutionRow>();
  for (const s of subs) {
    const key = JSON.stringify([s.suite, s.from, s.to]);
    const row = rows.get(key) ?? { suite: s.suite, from: s.from, to: s.to, roles: [] };
    if (!row.roles.includes(s.role)) row.roles.push(s.role);
    rows.set(key, row);
  }
  return [...rows.values()];
}

function adapterText(browser: Record<string, unknown>): string {
  const a = record(browser.adapter);
  if (!a) {
    return `none${browser.adapterError ? ` (${text(browser.adapterError)})` : ""}`;
  }
  const parts = [a.vendor, a.architecture].map(text).filter((p) => p !== "");
  const name = text(a.description) || parts.join(" ") || "unnamed adapter";
  const detail = [
    ...(parts.length > 0 && name !== parts.join(" ") ? [parts.join(", ")] : []),
    ...(a.isFallbackAdapter === true ? ["software fallback adapter"] : []),
  ];
  return detail.length > 0 ? `${name} (${detail.join("; ")})` : name;
}

function isolationText(browser: Record<string, unknown>): string {
  if (browser.crossOriginIsolated === true) {
    return "yes (COOP/COEP took: wasm threads and fine timers available)";
  }
  if (browser.crossOriginIsolated === false) {
    return "no (wasm ran single-threaded; timers are coarse)";
  }
  return "not recorded";
}

/**
 * The warning a browser run with substitutions opens with (none otherwise): the suites'
 * descriptions name ort-node, the page ran ort-wasm.
 *
 * @param run `run.json`.
 * @returns Zero or one banner.
 */
export function browserFindings(run: Record<string, unknown>): Finding[] {
  const rows = grouped(substitutionsOf(run));
  if (rows.length === 0) return [];
  const pairs = [...new Set(rows.map((r) => `${r.to} for ${r.from}`))].join(", ");
  const suites = [...new Set(rows.map((r) => r.suite))];
  return [{
    level: "warn",
    text: `This run ran in a browser page, which ran ${pairs} in ${suites.length} suite(s) (${
      suites.join(", ")
    }): where a suite's description or a section names ${
      [...new Set(rows.map((r) => r.from))].join(", ")
    }, read the target used in "Browser and substitutions".`,
  }];
}

function substitutionTable(rows: readonly SubstitutionRow[]): Html {
  if (rows.length === 0) return html``;
  return html`
    <p>Where the page ran another target than the suite names:</p>
    <div class="scroll">
      <table class="substitutions">
        <thead>
          <tr>
            <th>suite</th>
            <th>named target</th>
            <th>target used</th>
            <th>for</th>
          </tr>
        </thead>
        <tbody>${rows.map((r) =>
          html`
            <tr>
              <td>${r.suite}</td>
              <td>${r.from}</td>
              <td>${r.to}</td>
              <td>${r.roles.join(", ")}</td>
            </tr>
          `
        )}</tbody>
      </table>
    </div>
  `;
}

/**
 * The section of a browser run: the browser it ran in and a table of the substitutions. A run
 * without a `browser` field gets none.
 *
 * @param run `run.json`.
 * @returns Zero or one section.
 */
export function browserSections(run: Record<string, unknown>): ReportSection[] {
  const browser = browserFacts(run);
  if (!browser) return [];
  const adapter = record(browser.adapter);
  const features = Array.isArray(adapter?.features) ? adapter.features.map(text) : [];
  const rows: [string, string][] = [
    ["user agent", text(browser.userAgent) || "not recorded"],
    ["WebGPU adapter", adapterText(browser)],
    ...(typeof adapter?.maxStorageBufferBindingSize === "number"
      ? [[
        "max storage buffer (MiB)",
        (adapter.maxStorageBufferBindingSize / 2 ** 20).toFixed(0),
      ] as [string, string]]
      : []),
    ["crossOriginIsolated", isolationText(browser)],
    ["logical cores (hardwareConcurrency)", text(browser.hardwareConcurrency)],
    ["ORT-web wasm threads", text(browser.wasmThreads)],
    ["page", text(browser.page)],
  ];
  const subs = grouped(substitutionsOf(run));
  return [{
    title: "Browser and substitutions",
    body: html`
      <dl class="fields">${rows.filter(([, v]) => v !== "").map(([k, v]) =>
        html`
          <dt>${k}</dt>
          <dd>${v}</dd>
        `
      )}${features.length > 0
        ? html`
          <dt>adapter features</dt>
          <dd>
            <details><summary>${features.length} features</summary>${features.join(", ")}</details>
          </dd>
        `
        : ""}</dl>
      ${substitutionTable(subs)}
    `,
  }];
}
