/**
 * Where a run's finished cells go. The runner needs only this much of a run folder, so the same
 * engine can record into `RunDir` (files, Deno) or into memory (a browser page that posts the
 * cells back to the server).
 *
 * @module
 */

import type { CellResult } from "./result.ts";

/** The sink of a run's cells. */
export interface RunSink {
  /** Cells finished so far (including those loaded on resume), in completion order. */
  readonly cells: CellResult[];
  /**
   * Whether a cell is finished; errored cells count as not finished, so a resume retries them.
   *
   * @param key Cell key.
   * @returns True when it completed or was skipped.
   */
  isFinished(key: string): boolean;
  /**
   * Records a finished cell (the last record of a key wins).
   *
   * @param cell The cell.
   */
  record(cell: CellResult): Promise<void>;
}

/** A sink that keeps the cells in memory, in completion order. */
export class MemorySink implements RunSink {
  #finished = new Map<string, CellResult>();

  /** Cells finished so far, in completion order. */
  get cells(): CellResult[] {
    return [...this.#finished.values()];
  }

  /**
   * @param key Cell key.
   * @returns True when it completed or was skipped.
   */
  isFinished(key: string): boolean {
    const c = this.#finished.get(key);
    return c !== undefined && c.status !== "errored";
  }

  /** @param cell The cell. */
  record(cell: CellResult): Promise<void> {
    this.#finished.delete(cell.key);
    this.#finished.set(cell.key, cell);
    return Promise.resolve();
  }
}
