/**
 * The journal of a run, `cells.jsonl`: one finished cell per line. It is the run's source of
 * truth (results.csv and results.json are rebuilt from it), so reading it must survive any kill:
 * a torn last line (a kill mid-write) and lines that are not cells are dropped and reported,
 * never parsed into a wrong cell. Numbers JSON cannot hold (±Infinity, NaN) are written as
 * `{"$float": "-Infinity"}` and read back as numbers.
 *
 * @module
 */

import { type CellResult, type CellStatus, emptyCell } from "./result.ts";

const STATUSES: readonly CellStatus[] = ["completed", "errored", "skipped"];

/** What reading a journal found. */
export interface JournalRead {
  /** The cells, the last record of each key winning, in the order they last finished. */
  cells: CellResult[];
  /** One message per line dropped (torn or not a cell), with its line number. */
  dropped: string[];
  /** Bytes of valid journal: where a torn tail starts (the file's length when none). */
  validBytes: number;
}

/**
 * One journal line for a cell, newline included.
 *
 * @param cell The cell.
 * @returns The line.
 */
export function journalLine(cell: CellResult): string {
  return JSON.stringify(
    cell,
    (_k, v) => typeof v === "number" && !Number.isFinite(v) ? { $float: String(v) } : v,
  ) + "\n";
}

function revive(_k: string, v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$float" && typeof o.$float === "string") {
      return Number(o.$float);
    }
  }
  return v;
}

/**
 * Checks a parsed journal line and fills the fields older journals lack with their empty values.
 *
 * @param value The parsed line.
 * @returns The cell, or a reason it is not one.
 */
export function toCell(value: unknown): CellResult | string {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const o = value as Record<string, unknown>;
  for (const f of ["key", "suite", "target", "method"] as const) {
    if (typeof o[f] !== "string" || (f === "key" && o[f] === "")) return `no "${f}" string`;
  }
  if (!STATUSES.includes(o.status as CellStatus)) return `status ${JSON.stringify(o.status)}`;
  const base = emptyCell({
    key: o.key as string,
    suite: o.suite as string,
    model: "",
    model_sha256: "",
    dataset: "",
    dataset_hash: "",
    target: o.target as string,
    device: "",
    method: o.method as string,
    params: "{}",
    sparsity_target: null,
    metric: "",
  });
  const cell = { ...base, ...o } as CellResult;
  if (!cell.extra || typeof cell.extra !== "object" || Array.isArray(cell.extra)) cell.extra = {};
  if (!Array.isArray(cell.samples_ms)) cell.samples_ms = [];
  if (!Array.isArray(cell.dense_samples_ms)) cell.dense_samples_ms = [];
  return cell;
}

/**
 * Parses journal text.
 *
 * @param text The journal.
 * @returns Cells, dropped lines and the length of the valid part.
 */
export function readJournal(text: string): JournalRead {
  const cells = new Map<string, CellResult>();
  const dropped: string[] = [];
  const lines = text.split("\n");
  // A journal that does not end in a newline was cut mid-write: its tail is not a finished cell.
  const torn = !text.endsWith("\n") && text.length > 0;
  let validChars = text.length;
  if (torn) {
    validChars = text.lastIndexOf("\n") + 1;
    dropped.push(`line ${lines.length}: cut short (a kill during the write); that cell runs again`);
  }
  const complete = torn ? lines.slice(0, -1) : lines;
  complete.forEach((line, i) => {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line, revive);
    } catch {
      dropped.push(`line ${i + 1}: not JSON`);
      return;
    }
    const cell = toCell(parsed);
    if (typeof cell === "string") {
      dropped.push(`line ${i + 1}: not a cell (${cell})`);
      return;
    }
    cells.delete(cell.key);
    cells.set(cell.key, cell);
  });
  return {
    cells: [...cells.values()],
    dropped,
    validBytes: new TextEncoder().encode(text.slice(0, validChars)).length,
  };
}
