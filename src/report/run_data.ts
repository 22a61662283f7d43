/**
 * A run folder as the reports read it: `run.json` and the journal's cells.
 *
 * @module
 */

import { type CellResult, emptyCell } from "../result.ts";
import { readJournal } from "../journal.ts";
import { checkId } from "../run_dir.ts";

/** A run as the report reads it from `results/<run-id>/`. */
export interface RunData {
  /** Run id. */
  id: string;
  /** `run.json`. */
  run: Record<string, unknown>;
  /** The cells. */
  cells: CellResult[];
}

const NUMERIC = new Set(
  Object.entries(emptyCell({
    key: "",
    suite: "",
    model: "",
    model_sha256: "",
    dataset: "",
    dataset_hash: "",
    target: "",
    device: "",
    method: "",
    params: "",
    sparsity_target: null,
    metric: "",
  })).filter(([k, v]) => v === null && k !== "layer_density" && k !== "gate").map(([k]) => k),
);

/**
 * A journal line as a cell the reports can trust the types of: a line that is not a cell (e.g.
 * `{}`) is dropped; numbers that are not finite numbers become null, text fields become text.
 *
 * @param value A parsed journal line.
 * @returns The cell, or null.
 */
export function normalizeCell(value: unknown): CellResult | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.key !== "string" || typeof v.suite !== "string") return null;
  const out: Record<string, unknown> = { ...v };
  for (const k of NUMERIC) {
    if (k in out && !(typeof out[k] === "number" && Number.isFinite(out[k]))) out[k] = null;
  }
  for (const k of ["model", "target", "device", "method", "params", "metric", "status", "error"]) {
    out[k] = typeof out[k] === "string" ? out[k] : String(out[k] ?? "");
  }
  if (out.params === "") out.params = "{}";
  if (!["completed", "errored", "skipped"].includes(out.status as string)) out.status = "errored";
  if (out.gate !== "pass" && out.gate !== "fail") out.gate = null;
  const extra = out.extra;
  out.extra = extra !== null && typeof extra === "object" && !Array.isArray(extra) ? extra : {};
  const ld = out.layer_density;
  out.layer_density = ld !== null && typeof ld === "object" && !Array.isArray(ld) ? ld : null;
  for (const k of ["samples_ms", "dense_samples_ms"]) {
    out[k] = Array.isArray(out[k]) ? (out[k] as unknown[]).filter(Number.isFinite) : [];
  }
  return out as unknown as CellResult;
}

/**
 * Reads a run folder: run.json and the cells (from the journal, so interrupted runs report too).
 *
 * @param dir The run folder.
 * @returns The run.
 */
export async function readRun(dir: string): Promise<RunData> {
  const path = dir.replace(/\/+$/, "");
  let run: Record<string, unknown>;
  try {
    run = JSON.parse(await Deno.readTextFile(`${path}/run.json`));
  } catch {
    throw new Error(`Cannot read run ${path}: run.json is missing or not JSON`);
  }
  if (run === null || typeof run !== "object" || Array.isArray(run)) {
    throw new Error(`Cannot read run ${path}: run.json is not a JSON object`);
  }
  let journal = "";
  try {
    journal = await Deno.readTextFile(`${path}/cells.jsonl`);
  } catch {
    throw new Error(`Cannot read run ${path}: cells.jsonl is missing`);
  }
  // The journal's own reader: torn and foreign lines are dropped, never parsed into a cell.
  const cells = readJournal(journal).cells.flatMap((c) => normalizeCell(c) ?? []);
  // The id names the report's folder: an id of "." or "../x" would write over other reports.
  const id = String(run.runId ?? path.split("/").pop());
  try {
    checkId("run id", id);
  } catch (e) {
    throw new Error(`Cannot read run ${path}: run.json has an ${(e as Error).message}`);
  }
  return { id, run, cells };
}
