/**
 * Headless Chromium for the reports' tests and previews: Debian's `/usr/bin/chromium` driven by
 * playwright-core, offline (every non-file request is aborted and recorded), collecting console
 * errors, page errors and dialogs, with a fresh profile per launch.
 *
 * @module
 */

import { writeFileAtomic } from "../../lib/atomic_write.ts";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed (the browser tests are skipped without it). */
export const HAS_CHROMIUM = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** What a page did while it was open. */
export interface PageLog {
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Requests to anything but file:// (aborted). */
  requests: string[];
  /** Dialogs (alert, confirm, prompt) that opened (dismissed). */
  dialogs: string[];
}

/** A loaded page, typed loosely: Deno's type check has no DOM library. */
// deno-lint-ignore no-explicit-any
export type LoadedPage = any;

/**
 * Opens each file in a fresh page of one headless Chromium and hands it to `use`.
 *
 * @param files HTML files.
 * @param use Called with each loaded page and its log; its result is collected.
 * @param options Viewport (default 1400 x 1000), whether to wait for `body[data-ready]`, and the
 *   folder for the throw-away profile and playwright's temporary files (default: the system's).
 * @returns The results of `use`, in order.
 */
export async function withPages<T>(
  files: readonly string[],
  use: (page: LoadedPage, log: PageLog, file: string) => Promise<T>,
  options: { width?: number; height?: number; waitReady?: boolean; tempDir?: string } = {},
): Promise<T[]> {
  if (!HAS_CHROMIUM) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium`);
  }
  if (options.tempDir) {
    await Deno.mkdir(options.tempDir, { recursive: true });
    // playwright puts its artifacts in os.tmpdir(); keep them inside the folder we may write.
    Deno.env.set("TMPDIR", options.tempDir);
  }
  // playwright-core probes /proc for WSL when it loads; Deno grants /proc only with --allow-all,
  // which the test task does not have. These machines are not WSL: answer "no" for those paths.
  const fs = (await import("node:fs")).default;
  const existsSync = fs.existsSync;
  (fs as { existsSync: (p: unknown) => boolean }).existsSync = (p: unknown) =>
    typeof p === "string" && (p.startsWith("/proc/") || p === "/run/WSL")
      ? false
      : existsSync(p as string);
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({
    prefix: "sb-chromium-",
    ...(options.tempDir ? { dir: options.tempDir } : {}),
  });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: options.width ?? 1400, height: options.height ?? 1000 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const out: T[] = [];
  try {
    for (const file of files) {
      const page = await context.newPage();
      const log: PageLog = { errors: [], requests: [], dialogs: [] };
      await page.route("**/*", (route: LoadedPage) => {
        const url = route.request().url();
        if (!url.startsWith("file://")) {
          log.requests.push(url);
          return route.abort();
        }
        return route.continue();
      });
      page.on("console", (m: LoadedPage) => {
        if (m.type() === "error") log.errors.push(m.text());
      });
      page.on("pageerror", (e: unknown) => log.errors.push(String(e)));
      page.on("dialog", (d: LoadedPage) => {
        log.dialogs.push(d.message());
        return d.dismiss();
      });
      await page.goto(`file://${file}`);
      if (options.waitReady !== false) {
        await page.waitForSelector("body[data-ready='1']", { timeout: 30000 });
      }
      out.push(await use(page, log, file));
      await page.close();
    }
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
  return out;
}

/**
 * The number of painted pixels of every canvas on a page.
 *
 * @param page The page.
 * @returns One count per canvas.
 */
export async function paintedPixels(page: LoadedPage): Promise<number[]> {
  return await page.$$eval("canvas", (els: LoadedPage[]) =>
    els.map((c: LoadedPage) => {
      const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
      return painted;
    }));
}

/**
 * Screenshots the top of each report (its findings and first chart) as a PNG preview, cropped
 * shorter until it fits `maxBytes`.
 *
 * @param pages `[html file, png file]` pairs.
 * @param options Viewport size (default 820 x 760), page zoom (default 0.6), size limit (default
 *   200,000 bytes), and the temporary folder.
 * @returns The byte size of each preview written.
 */
export async function writePreviews(
  pages: readonly (readonly [string, string])[],
  options: {
    width?: number;
    height?: number;
    zoom?: number;
    maxBytes?: number;
    tempDir?: string;
  } = {},
): Promise<number[]> {
  const pngOf = new Map(pages);
  const width = options.width ?? 820;
  const maxBytes = options.maxBytes ?? 200_000;
  return await withPages(pages.map(([html]) => html), async (page, _log, file) => {
    let height = options.height ?? 760;
    // Zoomed out, the top of even a long findings block leaves room for the first chart.
    await page.evaluate((z: number) => {
      (globalThis as unknown as { document: { body: { style: { zoom: string } } } }).document
        .body.style.zoom = String(z);
    }, options.zoom ?? 0.6);
    let png: Uint8Array = await page.screenshot({ type: "png", fullPage: false });
    while (png.length > maxBytes && height > 300) {
      height = Math.round(height * 0.85);
      png = await page.screenshot({ type: "png", clip: { x: 0, y: 0, width, height } });
    }
    if (png.length > maxBytes) {
      throw new Error(`The preview of ${file} stays above ${maxBytes} bytes even at ${height} px`);
    }
    await writeFileAtomic(pngOf.get(file)!, png);
    return png.length;
  }, {
    width,
    height: options.height ?? 760,
    ...(options.tempDir ? { tempDir: options.tempDir } : {}),
  });
}
