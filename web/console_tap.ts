/**
 * Reads what ORT-web logs in a browser page. Its WebAssembly runtime prints through `console`
 * (functions it may bind once, when it starts), so the tap is installed before ORT loads and
 * stays; while a capture runs, the lines go to it instead of the console.
 *
 * @module
 */

const METHODS = ["log", "info", "warn", "error", "debug"] as const;

let listener: ((line: string) => void) | undefined;
let installed = false;

/** Routes `console` output to the capture in progress; call once, before ORT is imported. */
export function installConsoleTap(): void {
  if (installed) return;
  installed = true;
  for (const m of METHODS) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      if (!listener) return original(...args);
      const text = args.map((a) => typeof a === "string" ? a : String(a)).join(" ");
      for (const line of text.split("\n")) if (line) listener(line);
    };
  }
}

/**
 * Runs `fn` while capturing (and silencing) the page's console lines.
 *
 * @param fn The work, e.g. creating a session with verbose logging.
 * @returns Its result and the captured lines.
 */
export async function captureConsole<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: string[] }> {
  installConsoleTap();
  const lines: string[] = [];
  const previous = listener;
  listener = (l) => lines.push(l);
  try {
    return { result: await fn(), lines };
  } finally {
    listener = previous;
  }
}
