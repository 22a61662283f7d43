/**
 * A run's folder, `results/<run-id>/`: created exclusively (two runs never share one), a journal
 * of finished cells appended and synced one line at a time (a `kill -9` loses at most the cell in
 * progress), and result files replaced atomically (temporary file, then rename).
 *
 * @module
 */

import type { CellResult } from "./result.ts";

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks an id taken from the command line (suite, target, variant, run id) before it is used
 * in a path or a lookup: no "/" and no "..".
 *
 * @param kind What the id names, for the message.
 * @param id The id.
 * @returns The id.
 * @throws {RangeError} When it could escape a folder.
 */
export function checkId(kind: string, id: string): string {
  if (!SAFE_ID.test(id) || id.includes("..")) {
    throw new RangeError(
      `Invalid ${kind} "${id}": use letters, digits, ".", "_" and "-" (no "/" or "..")`,
    );
  }
  return id;
}

/**
 * A new run id: UTC time, host and a random suffix.
 *
 * @param now The time.
 * @returns E.g. "20261130T021500Z-ci-3f9a".
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let host = "host";
  try {
    host = Deno.hostname().replace(/[^A-Za-z0-9-]/g, "").slice(0, 16) || "host";
  } catch {
    host = "host";
  }
  const rand = crypto.getRandomValues(new Uint8Array(2));
  return `${stamp}-${host}-${[...rand].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** An open run folder. */
export class RunDir {
  /** Folder path. */
  readonly path: string;
  /** Run id (the folder's name). */
  readonly id: string;
  #finished = new Map<string, CellResult>();

  private constructor(path: string, id: string) {
    this.path = path;
    this.id = id;
  }

  /**
   * Creates a new run folder under `parent`; fails if it exists.
   *
   * @param parent Parent folder (e.g. "results").
   * @param id Run id.
   * @returns The run folder.
   */
  static async create(parent: string, id: string): Promise<RunDir> {
    checkId("run id", id);
    await Deno.mkdir(parent, { recursive: true });
    const path = `${parent}/${id}`;
    try {
      await Deno.mkdir(path);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Error(
          `Run folder ${path} already exists: runs never share a folder (use --resume ${id} to complete it)`,
        );
      }
      throw e;
    }
    return new RunDir(path, id);
  }

  /**
   * Opens an interrupted run to complete it, loading the cells it finished.
   *
   * @param parent Parent folder.
   * @param id Run id.
   * @returns The run folder.
   */
  static async resume(parent: string, id: string): Promise<RunDir> {
    checkId("run id", id);
    const path = `${parent}/${id}`;
    let text: string;
    try {
      text = await Deno.readTextFile(`${path}/cells.jsonl`);
    } catch {
      throw new Error(`Cannot resume run ${id}: ${path}/cells.jsonl not found`);
    }
    const dir = new RunDir(path, id);
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const cell = JSON.parse(line) as CellResult;
        dir.#finished.set(cell.key, cell);
      } catch {
        // A line cut short by a kill: that cell was not finished, it runs again.
      }
    }
    return dir;
  }

  /** Cells finished so far (including those loaded on resume), in completion order. */
  get cells(): CellResult[] {
    return [...this.#finished.values()];
  }

  /**
   * Whether a cell is finished. Errored cells count as not finished, so a resume retries them.
   *
   * @param key Cell key.
   * @returns True when it completed or was skipped.
   */
  isFinished(key: string): boolean {
    const c = this.#finished.get(key);
    return c !== undefined && c.status !== "errored";
  }

  /**
   * Appends a finished cell to the journal and syncs it to disk.
   *
   * @param cell The cell.
   */
  async record(cell: CellResult): Promise<void> {
    this.#finished.delete(cell.key);
    this.#finished.set(cell.key, cell);
    const file = await Deno.open(`${this.path}/cells.jsonl`, { append: true, create: true });
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(cell) + "\n");
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
  }

  /**
   * Writes a file in the run folder atomically.
   *
   * @param name File name.
   * @param content Text.
   */
  async writeAtomic(name: string, content: string): Promise<void> {
    await writeTextAtomic(`${this.path}/${name}`, content);
  }
}

/**
 * Writes a text file atomically: a temporary file beside it, then a rename.
 *
 * @param path Destination.
 * @param content Text.
 */
export async function writeTextAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, content);
  await Deno.rename(tmp, path);
}
