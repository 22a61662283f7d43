/**
 * A run folder as the reports read it: `run.json` and the journal's cells.
 *
 * @module
 */

import type { CellResult } from "../result.ts";

/** A run as the report reads it from `results/<run-id>/`. */
export interface RunData {
  /** Run id. */
  id: string;
  /** `run.json`. */
  run: Record<string, unknown>;
  /** The cells. */
  cells: CellResult[];
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
  const cells = new Map<string, CellResult>();
  let journal = "";
  try {
    journal = await Deno.readTextFile(`${path}/cells.jsonl`);
  } catch {
    throw new Error(`Cannot read run ${path}: cells.jsonl is missing`);
  }
  for (const line of journal.split("\n")) {
    if (!line.trim()) continue;
    try {
      const c = JSON.parse(line) as CellResult;
      cells.set(c.key, c);
    } catch {
      // A line cut short by a kill: that cell was not finished.
    }
  }
  return { id: String(run.runId ?? path.split("/").pop()), run, cells: [...cells.values()] };
}
