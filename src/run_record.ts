/**
 * `run.json`: what a run was asked to do (its arguments), where it ran (environment, backends),
 * what it pinned (suite files, models, data, extra inputs with their hashes), and how it went
 * (status, wall time, each resume). A resume reads the run's own arguments from here and never
 * rewrites what an earlier session recorded; it appends to `sessions`.
 *
 * @module
 */

import type { Environment } from "./environment.ts";
import { checkId } from "./run_dir.ts";

/** How a run ended, as run.json records it. `running` on disk after a kill means interrupted. */
export type RunStatus = "running" | "finished";

/** One process's work on a run: the first start or a resume. */
export interface RunSession {
  /** When it started (ISO 8601). */
  startedAt: string;
  /** Its wall time, ms. */
  wallMs: number;
  /** Cells it recorded. */
  cells: number;
  /** Git commit and dirty state of the code it ran. */
  git: Environment["git"];
}

/** The parsed `run.json`. Unknown fields are kept as they are. */
export interface RunRecord {
  /** Run id (the folder's name). */
  runId: string;
  /** How the run ended (or `running`). */
  status: RunStatus;
  /** When the run first started (ISO 8601). */
  startedAt: string;
  /** Wall time of all sessions, ms. */
  wallMs: number;
  /** The command line that started the run (`deno task bench ...`). */
  commandLine: string[];
  /** Whether the run used the quick forms. */
  quick: boolean;
  /** Environment of the first session. */
  environment: Environment;
  /** Identities of the backends used, by target (merged over sessions). */
  backends: Record<string, unknown>;
  /** Suite files, their hashes and pins. */
  suites: Record<string, unknown>[];
  /** The share of the cells this run holds, when it is one shard of a sharded run. */
  shard?: { index: number; count: number };
  /** The runs a merged run was joined from (`deno task merge`). */
  mergedFrom?: string[];
  /** Each session that worked on the run, the first start included. */
  sessions?: RunSession[];
  /** Anything else an earlier version wrote. */
  [field: string]: unknown;
}

/**
 * Parses and checks `run.json`, with one-line errors naming the file and the fix.
 *
 * @param text The file's text.
 * @param path The file, for messages.
 * @returns The record.
 * @throws {Error} When it is not a run record.
 */
export function parseRunRecord(text: string, path: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path} is not valid JSON (${
        (e as Error).message
      }); restore it from a copy, or start a new run`,
    );
  }
  const bad = (what: string) =>
    new Error(`${path} is not a run record: ${what}; restore it from a copy, or start a new run`);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw bad("not a JSON object");
  const r = value as Record<string, unknown>;
  if (typeof r.runId !== "string") throw bad(`"runId" is not a string`);
  try {
    checkId("run id", r.runId);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!Array.isArray(r.suites) || r.suites.some((s) => !s || typeof s !== "object")) {
    throw bad(`"suites" is not a list of suite records`);
  }
  if (
    r.commandLine !== undefined &&
    (!Array.isArray(r.commandLine) || r.commandLine.some((a) => typeof a !== "string"))
  ) {
    throw bad(`"commandLine" is not a list of strings`);
  }
  if (r.backends !== undefined && (typeof r.backends !== "object" || r.backends === null)) {
    throw bad(`"backends" is not an object`);
  }
  return {
    ...r,
    status: r.status === "finished" ? "finished" : "running",
    startedAt: typeof r.startedAt === "string" ? r.startedAt : "",
    wallMs: typeof r.wallMs === "number" ? r.wallMs : 0,
    commandLine: (r.commandLine as string[] | undefined) ?? [],
    quick: r.quick === true,
    backends: (r.backends as Record<string, unknown> | undefined) ?? {},
  } as RunRecord;
}
