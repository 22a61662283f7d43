/**
 * What a run reports its progress to: the runner calls it, a display implements it (a terminal
 * bar in `progress.ts`, the page's bar in a browser).
 *
 * @module
 */

/** Reports progress of a run. */
export interface Progress {
  /**
   * Sets the total number of cells.
   *
   * @param total Cells planned.
   */
  setTotal(total: number): void;
  /**
   * Marks one cell finished.
   *
   * @param label What finished.
   */
  tick(label: string): void;
  /**
   * Shows what is happening now (a long step inside a cell).
   *
   * @param message One line.
   */
  status(message: string): void;
  /**
   * Prints a line that stays (a warning or an error).
   *
   * @param message One line.
   */
  log(message: string): void;
  /** Ends the display. */
  done(): void;
}
