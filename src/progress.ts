/**
 * Progress on stderr: a bar with counts and an ETA on a terminal, plain lines otherwise (CI logs),
 * so results on stdout stay clean.
 *
 * @module
 */

import type { Progress } from "./run_progress.ts";

export type { Progress };

/**
 * Formats a duration for humans.
 *
 * @param ms Milliseconds.
 * @returns E.g. "1m05s" or "42s".
 */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * A progress display on stderr.
 *
 * @param options `interactive` (default: whether stderr is a terminal); `quiet` prints only logs.
 * @returns The progress reporter.
 */
export function createProgress(options: { interactive?: boolean; quiet?: boolean } = {}): Progress {
  const interactive = options.interactive ?? Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  const start = performance.now();
  let total = 0;
  let done = 0;
  let current = "";
  const line = () => {
    const frac = total > 0 ? done / total : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = performance.now() - start;
    const eta = done > 0 ? formatDuration((elapsed / done) * (total - done)) : "?";
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} cells, ${
      formatDuration(elapsed)
    } elapsed, ETA ${eta}  ${current}`.slice(0, 160);
  };
  const redraw = () => {
    if (interactive && !options.quiet) write(`\r\x1b[2K${line()}`);
  };
  return {
    setTotal(n) {
      total = n;
      redraw();
    },
    tick(label) {
      done++;
      current = "";
      if (options.quiet) return;
      if (interactive) redraw();
      else write(`${line()} done: ${label}\n`);
    },
    status(message) {
      current = message;
      redraw();
    },
    log(message) {
      if (interactive) write(`\r\x1b[2K${message}\n`);
      else write(`${message}\n`);
      redraw();
    },
    done() {
      if (interactive && !options.quiet) write(`\r\x1b[2K${line()}\n`);
    },
  };
}
