/**
 * Errors shortened to one line, for result records and the progress output.
 *
 * @module
 */

/**
 * The first non-empty line of an error's message (runtimes often append stack-like detail).
 *
 * @example
 * ```ts
 * import { oneLine } from "./one_line.ts";
 * console.log(oneLine(new Error("bad shape\n  at node 3"))); // "bad shape"
 * ```
 *
 * @param e Anything thrown.
 * @returns One line.
 */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n").map((l) => l.trim()).filter(Boolean)[0] ?? "unknown error";
}
