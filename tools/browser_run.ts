/**
 * Runs the page of `deno task serve` in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) and waits until the server has written the run: the CI check of the browser
 * suites and the way a browser run on this machine is made for publishing.
 *
 * WebGPU headless: `--enable-unsafe-webgpu` gives Chromium a SwiftShader adapter (a CPU one) on a
 * machine without a GPU; on a machine with one, `--use-webgpu-adapter` or Vulkan flags choose it.
 * Here (Mesa, no Vulkan driver installed) no flag set tried gave it llvmpipe: ANGLE on GL with
 * `--use-webgpu-adapter=compat`, and Vulkan with Mesa's lavapipe driver named by VK_ICD_FILENAMES,
 * both still answer with SwiftShader, so Chromium's WebGPU figures are SwiftShader's while Deno's
 * are llvmpipe's.
 *
 * Usage: `deno run -A tools/browser_run.ts [--query "target=ort-wasm&variant=teal"] [--out DIR]
 * [--reports DIR] [--timeout-s S]` (default 1200 s: the whole embedded default takes about ten
 * minutes on two busy cores)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CHROMIUM, HAS_CHROMIUM } from "../src/report/chromium.ts";
import { startServer } from "../cli/serve.ts";

/** Flags for a quiet, fresh, headless Chromium that has a WebGPU adapter. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--enable-unsafe-webgpu",
];

/** What a browser run left. */
export interface BrowserRunResult {
  /** The run folder the server wrote. */
  path: string;
  /** The page's console errors and uncaught errors. */
  errors: string[];
  /** The entries of the run folder the page offers as a download (its .tar). */
  download: string[];
}

/**
 * Serves the page, opens it in headless Chromium with `autostart=1`, and waits for the run to be
 * posted and written.
 *
 * @param options `query` (the page's options, e.g. "variant=teal"), `out` (parent of run
 *   folders), `reportsDir` (default `reports/`), `timeoutMs` (default 110 s), `log` (server
 *   lines), `onStatus` (the page's status line, every 15 s while it changes).
 * @returns The run folder and the page's errors.
 * @throws {Error} When the page fails or time runs out, with the page's own message.
 */
export async function runInChromium(
  options: {
    query?: string;
    out: string;
    reportsDir?: string;
    timeoutMs?: number;
    log?: (line: string) => void;
    onStatus?: (status: string) => void;
  },
): Promise<BrowserRunResult> {
  if (!HAS_CHROMIUM) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium`);
  }
  const server = await startServer({
    port: 0,
    out: options.out,
    ...(options.reportsDir ? { reportsDir: options.reportsDir } : {}),
    log: options.log ?? (() => {}),
  });
  const tmp = await Deno.makeTempDir({ prefix: "sb-browser-" });
  Deno.env.set("TMPDIR", tmp);
  // playwright-core probes /proc for WSL when it loads; Deno grants /proc only with --allow-all.
  const fs = (await import("node:fs")).default;
  const existsSync = fs.existsSync;
  (fs as { existsSync: (p: unknown) => boolean }).existsSync = (p: unknown) =>
    typeof p === "string" && (p.startsWith("/proc/") || p === "/run/WSL")
      ? false
      : existsSync(p as string);
  const { chromium } = await import("playwright-core");
  const context = await chromium.launchPersistentContext(`${tmp}/profile`, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS],
  });
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    const query = `autostart=1${options.query ? `&${options.query}` : ""}`;
    await page.goto(`${server.url}?${query}`);
    // Wait for the end, passing the page's status line on as it changes.
    const deadline = Date.now() + (options.timeoutMs ?? 110_000);
    let said = "";
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`The page did not finish in time; last status: ${said || "none"}`);
      }
      const ended = await page.waitForSelector(
        "body[data-state='posted'], body[data-state='failed']",
        { timeout: Math.min(left, 15_000) },
      ).then(() => true, () => false);
      if (ended) break;
      // The page's thread may be busy for seconds (ORT-web wasm runs on it): no answer is no news.
      const status = String(
        await page.textContent("#status", { timeout: 5_000 }).catch(() => said) ?? "",
      );
      if (status !== said) options.onStatus?.(said = status);
    }
    const state = await page.getAttribute("body", "data-state");
    if (state !== "posted") {
      throw new Error(`The page failed: ${await page.getAttribute("body", "data-error")}`);
    }
    const runId = await page.getAttribute("body", "data-run-id");
    // The names in the offered tar: 100-byte name fields at each 512-byte header.
    const href = await page.getAttribute("#download", "href");
    const download: string[] = await page.evaluate(async (url: string) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const names: string[] = [];
      let off = 0;
      while (off + 512 <= bytes.length && bytes[off] !== 0) {
        const name = new TextDecoder().decode(bytes.subarray(off, off + 100)).replace(/\0.*$/s, "");
        const size = parseInt(new TextDecoder().decode(bytes.subarray(off + 124, off + 135)), 8);
        names.push(name);
        off += 512 + Math.ceil(size / 512) * 512;
      }
      return names;
    }, href ?? "");
    return { path: `${options.out}/${runId}`, errors, download };
  } finally {
    await context.close();
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      query: { type: "string", default: "" },
      out: { type: "string", default: "results" },
      reports: { type: "string" },
      "timeout-s": { type: "string", default: "1200" },
    },
  });
  const timeoutS = Number(values["timeout-s"]);
  if (!(timeoutS > 0)) {
    console.error(
      `Error: --timeout-s "${values["timeout-s"]}" is not a positive number of seconds`,
    );
    Deno.exit(2);
  }
  const r = await runInChromium({
    query: values.query,
    out: values.out,
    ...(values.reports ? { reportsDir: values.reports } : {}),
    timeoutMs: timeoutS * 1000,
    log: (l) => console.error(l),
    onStatus: (s) => console.error(`page: ${s}`),
  });
  for (const e of r.errors) console.error(`page: ${e}`);
  console.log(`download: ${r.download.join(" ")}`);
  console.log(`results: ${r.path}`);
}
