/**
 * Captures what ORT-web's WebAssembly runtime writes to stderr while a session is created.
 *
 * Under Deno, ORT-web's Emscripten glue takes the Node.js path and logs with `fs.writeSync(2, …)`,
 * not through `console`, so the log is intercepted at `node:fs`. The only use is reading ORT's
 * verbose "Node placements" report, which tells whether any node fell back from the WebGPU
 * execution provider to the CPU one.
 *
 * @module
 */

import fs from "node:fs";

let listener: ((line: string) => void) | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = fs.writeSync;
  const patched = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]): number {
    if (fd === 2 && listener && typeof data === "string") {
      for (const line of data.split("\n")) if (line) listener(line);
      return data.length;
    }
    return (original as (...a: unknown[]) => number).call(fs, fd, data, ...rest);
  };
  (fs as unknown as { writeSync: unknown }).writeSync = patched;
}

/**
 * Runs `fn` while capturing (and silencing) ORT's stderr lines.
 *
 * @param fn The work, e.g. creating a session with verbose logging.
 * @returns Its result and the captured lines.
 */
export async function captureOrtLog<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: string[] }> {
  install();
  const lines: string[] = [];
  const previous = listener;
  listener = (l) => lines.push(l);
  try {
    return { result: await fn(), lines };
  } finally {
    listener = previous;
  }
}

/** Where ORT placed nodes, parsed from its verbose "Node placements" report. */
export interface Placement {
  /** Execution providers that received nodes. */
  providers: string[];
  /** Op types of the nodes placed on each provider (when ORT lists them). */
  opsByProvider: Record<string, string[]>;
}

/**
 * Parses ORT's verbose node-placement report.
 *
 * @param lines Captured log lines.
 * @returns The placement; empty when ORT printed no report.
 */
export function parsePlacement(lines: readonly string[]): Placement {
  const opsByProvider: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of lines) {
    const m = line.match(/placed on \[(\w+)\]/);
    if (m) {
      current = m[1]!;
      opsByProvider[current] ??= [];
      continue;
    }
    const node = line.match(/VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/);
    if (node && current) opsByProvider[current]!.push(node[1]!);
  }
  return { providers: Object.keys(opsByProvider), opsByProvider };
}
