/**
 * The files of a run made in a browser page, the same files `deno task bench` writes: the journal
 * (`cells.jsonl`), `results.csv`, `results.json` and `run.json`, whose `browser` field records the
 * user agent, the isolation state, the wasm thread count and the WebGPU adapter. The server writes
 * them into `results/<run-id>/`; without a server the page offers them as a download.
 *
 * @module
 */

import type { AdapterFacts } from "../kernels/gpu_device.ts";
import { toCsv } from "../src/export_csv.ts";
import { journalLine } from "../src/journal.ts";
import type { CellResult } from "../src/result.ts";
import type { Substitution } from "./browser_suites.ts";

/** What the page records about the browser it ran in. */
export interface BrowserFacts {
  /** `navigator.userAgent`. */
  userAgent: string;
  /** `crossOriginIsolated`: whether the COOP/COEP headers took (wasm threads and 5 µs timers). */
  crossOriginIsolated: boolean;
  /** `navigator.hardwareConcurrency`. */
  hardwareConcurrency: number;
  /** ORT-web wasm threads the run used. */
  wasmThreads: number;
  /** The WebGPU adapter, or null when the page had none. */
  adapter: AdapterFacts | null;
  /** Why there was no adapter, when there was none. */
  adapterError?: string;
  /** The page's query string (what it was asked to run). */
  page: string;
  /**
   * Where a suite's browser form ran another target than the suite names (ort-wasm for
   * ort-node, which a page cannot load): `web/browser_suites.ts`.
   */
  substitutions?: Substitution[];
}

/** What a page posts back when its run ends. */
export interface BrowserRun {
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** Its wall time, ms. */
  wallMs: number;
  /** Wall time per suite, ms (from the end of one cell to the end of the next). */
  suiteWallMs?: Record<string, number>;
  /** Quick forms. */
  quick: boolean;
  /** Suite ids run. */
  suites: string[];
  /** The finished cells. */
  cells: CellResult[];
  /** Identities of the backends used, by target. */
  backends: Record<string, unknown>;
  /** The browser. */
  browser: BrowserFacts;
}

/**
 * `run.json`'s environment (`src/environment.ts`, which reads the OS and so stays out of the page):
 * only its git state is used here.
 */
export interface RunEnvironment {
  /** Git commit and dirty state of the code that ran. */
  git: unknown;
}

/** What only the machine that writes the folder knows: the code's state and the suites' pins. */
export interface RunContext {
  /** Run id. */
  runId: string;
  /** Environment (git commit and package versions; the server's, or "unknown" in a download). */
  environment: RunEnvironment;
  /** Suite files, their hashes and pins, as `bench` records them. */
  suiteRecords: Record<string, unknown>[];
}

/**
 * The run record of a browser run, in `src/run_record.ts`'s shape.
 *
 * @param run What the page posted.
 * @param context The id, environment and suite records.
 * @returns The record.
 */
export function browserRunRecord(run: BrowserRun, context: RunContext): Record<string, unknown> {
  return {
    runId: context.runId,
    status: "finished",
    startedAt: run.startedAt,
    wallMs: Math.round(run.wallMs),
    commandLine: ["deno", "task", "serve"],
    quick: run.quick,
    environment: context.environment,
    backends: run.backends,
    suites: context.suiteRecords,
    browser: run.browser,
    ...(run.suiteWallMs ? { suiteWallMs: run.suiteWallMs } : {}),
    sessions: [{
      startedAt: run.startedAt,
      wallMs: Math.round(run.wallMs),
      cells: run.cells.length,
      git: context.environment.git,
    }],
  };
}

/**
 * The files of a browser run, by name.
 *
 * @param run What the page posted.
 * @param context The id, environment and suite records.
 * @returns File name → text.
 */
export function browserRunFiles(run: BrowserRun, context: RunContext): Record<string, string> {
  return {
    "cells.jsonl": run.cells.map((c) => journalLine(c)).join(""),
    "results.csv": toCsv(run.cells),
    "results.json": JSON.stringify(run.cells, null, 1) + "\n",
    "run.json": JSON.stringify(browserRunRecord(run, context), null, 2) + "\n",
  };
}
