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
