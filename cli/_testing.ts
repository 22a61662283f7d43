/**
 * Test helpers for the commands: run a command's `main` with its console output captured.
 *
 * @module
 */

/** What a command printed, and what it returned. */
export interface Captured<T> {
  /** The returned value (an exit code for `main`). */
  value: T;
  /** Everything written to `console.log`, a line each. */
  out: string;
  /** Everything written to `console.error`, a line each. */
  err: string;
}

/**
 * Runs `f` with `console.log` and `console.error` captured.
 *
 * @param f What to run.
 * @returns Its value and output.
 */
export async function captureOutput<T>(f: () => Promise<T>): Promise<Captured<T>> {
  const [log, error] = [console.log, console.error];
  let out = "";
  let err = "";
  console.log = (...a: unknown[]) => (out += a.join(" ") + "\n");
  console.error = (...a: unknown[]) => (err += a.join(" ") + "\n");
  try {
    return { value: await f(), out, err };
  } finally {
    [console.log, console.error] = [log, error];
  }
}
