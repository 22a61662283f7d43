/**
 * A run's folder, `results/<run-id>/`: created exclusively (two runs never share one), owned by
 * one process at a time (a lock file naming the owner's pid; a stale lock left by a killed
 * process is detected and taken over), a journal of finished cells appended and synced one line
 * at a time (a kill loses at most the cell in progress; a torn last line is repaired on open),
 * and result files replaced atomically.
 *
 * @module
 */

import { writeFileAtomic } from "../lib/atomic_write.ts";
import { journalLine, readJournal } from "./journal.ts";
import type { CellResult } from "./result.ts";
import type { RunSink } from "./run_sink.ts";

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks an id (suite, target, variant, run id) before it is used in a path or a lookup: no "/",
 * no "..", not "." — wherever it comes from (the command line or a file).
 *
 * @param kind What the id names, for the message.
 * @param id The id.
 * @returns The id.
 * @throws {RangeError} When it could escape a folder.
 */
export function checkId(kind: string, id: string): string {
  if (typeof id !== "string" || !SAFE_ID.test(id) || id.includes("..")) {
    throw new RangeError(
      `Invalid ${kind} ${
        JSON.stringify(id)
      }: use letters, digits, ".", "_" and "-", starting with a letter or digit (no "/" or "..")`,
    );
  }
  return id;
}

/**
 * A new run id: UTC time, host and 48 random bits (ids made in the same second by concurrent
 * starts do not collide in practice; the folder is still created exclusively).
 *
 * @param now The time.
 * @returns E.g. "20261130T021500Z-ci-3f9a0c11d2e4".
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let host = "host";
  try {
    host = Deno.hostname().replace(/[^A-Za-z0-9-]/g, "").slice(0, 16) || "host";
  } catch {
    host = "host";
  }
  const rand = crypto.getRandomValues(new Uint8Array(6));
  return `${stamp}-${host}-${[...rand].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The owner recorded in a run folder's lock file. */
interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "host";
  }
}

/** An open run folder. */
export class RunDir implements RunSink {
  /** Folder path. */
  readonly path: string;
  /** Run id (the folder's name). */
  readonly id: string;
  #dropped: string[] = [];
  #finished = new Map<string, CellResult>();
  #lock: Deno.FsFile | undefined;

  private constructor(path: string, id: string) {
    this.path = path;
    this.id = id;
  }

  /** Journal lines dropped when the folder was opened (torn or not cells), one message each. */
  get dropped(): readonly string[] {
    return this.#dropped;
  }

  /**
   * Creates a new run folder under `parent` with an empty journal, locked by this process.
   *
   * @param parent Parent folder (e.g. "results").
   * @param id Run id.
   * @param options `files`: files to write before anything else (the run's `run.json`), so a
   *   run killed at any point after its folder appears can be resumed.
   * @returns The run folder.
   * @throws {Error} When the folder exists.
   */
  static async create(
    parent: string,
    id: string,
    options: { files?: (id: string) => Record<string, string> } = {},
  ): Promise<RunDir> {
    checkId("run id", id);
    await Deno.mkdir(parent, { recursive: true });
    const path = `${parent}/${id}`;
    try {
      await Deno.mkdir(path);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Error(
          `Run folder ${path} already exists: runs never share a folder (to complete that run, use --resume ${id})`,
        );
      }
      throw e;
    }
    const dir = new RunDir(path, id);
    for (const [name, text] of Object.entries(options.files?.(id) ?? {})) {
      await dir.writeAtomic(name, text);
    }
    await dir.#takeLock();
    // An empty journal from the start, so a run killed in its first cell can still be resumed.
    await Deno.writeTextFile(`${path}/cells.jsonl`, "", { append: true, create: true });
    return dir;
  }

  /**
   * Creates a run folder with a fresh id, retrying on the (unlikely) collision.
   *
   * @param parent Parent folder.
   * @param options As for {@linkcode RunDir.create}.
   * @returns The run folder.
   */
  static async createNew(
    parent: string,
    options: { files?: (id: string) => Record<string, string> } = {},
  ): Promise<RunDir> {
    for (let attempt = 0;; attempt++) {
      try {
        return await RunDir.create(parent, newRunId(), options);
      } catch (e) {
        if (attempt >= 4 || !(e instanceof Error) || !/already exists/.test(e.message)) throw e;
      }
    }
  }

  /**
   * Opens an interrupted run to complete it: takes its lock, repairs a torn last journal line
   * (what parses is kept; what was dropped is listed in {@linkcode RunDir.dropped}), and loads
   * the cells it finished.
   *
   * @param parent Parent folder.
   * @param id Run id.
   * @returns The run folder.
   * @throws {Error} When the run is missing or another live process owns it.
   */
  static async resume(parent: string, id: string): Promise<RunDir> {
    checkId("run id", id);
    const path = `${parent}/${id}`;
    try {
      await Deno.stat(path);
    } catch {
      throw new Error(
        `Cannot resume run ${id}: ${path} not found (list the runs with \`ls ${parent}\`)`,
      );
    }
    const dir = new RunDir(path, id);
    await dir.#takeLock();
    let text = "";
    try {
      text = await Deno.readTextFile(`${path}/cells.jsonl`);
    } catch {
      // Killed before the first cell: nothing finished yet.
    }
    const read = readJournal(text);
    dir.#dropped = read.dropped;
    if (read.validBytes < new TextEncoder().encode(text).length) {
      // Cut the torn tail so the next line is not appended onto it.
      await Deno.truncate(`${path}/cells.jsonl`, read.validBytes);
    }
    for (const cell of read.cells) dir.#finished.set(cell.key, cell);
    return dir;
  }

  /**
   * Takes the folder's lock: an OS file lock on `run.lock`, which the system releases when the
   * owner dies however it dies, so a lock left by a killed run is never mistaken for a live one.
   * The file names the owner, for the message another process shows.
   */
  async #takeLock(): Promise<void> {
    const lockPath = `${this.path}/run.lock`;
    const file = await Deno.open(lockPath, { read: true, write: true, create: true });
    if (!(await file.tryLock(true))) {
      let owner: Partial<LockOwner> = {};
      try {
        owner = JSON.parse(await Deno.readTextFile(lockPath));
      } catch {
        // Written a moment from now.
      }
      file.close();
      throw new Error(
        `Run ${this.id} is in use by process ${owner.pid ?? "?"} on ${
          owner.host ?? "this host"
        } (since ${owner.since ?? "now"}): wait for it to finish, or stop it first`,
      );
    }
    const me: LockOwner = { pid: Deno.pid, host: hostName(), since: new Date().toISOString() };
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
    this.#lock = file;
  }

  /** Releases the lock (the run can then be resumed by another process). */
  async close(): Promise<void> {
    const file = this.#lock;
    if (!file) return;
    this.#lock = undefined;
    // The file stays (removing it would let two processes lock two different files).
    await file.truncate(0).catch(() => {});
    await file.unlock().catch(() => {});
    file.close();
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
   * Appends a finished cell to the journal, its line and newline in one write, and syncs it.
   *
   * @param cell The cell.
   */
  async record(cell: CellResult): Promise<void> {
    this.#finished.delete(cell.key);
    this.#finished.set(cell.key, cell);
    const file = await Deno.open(`${this.path}/cells.jsonl`, { append: true, create: true });
    try {
      const bytes = new TextEncoder().encode(journalLine(cell));
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
    await writeFileAtomic(`${this.path}/${name}`, content);
  }
}
