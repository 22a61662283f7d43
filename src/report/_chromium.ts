/**
 * Headless Chromium for the report tests: Debian's `/usr/bin/chromium` driven by playwright-core,
 * offline (every non-file request is aborted and recorded), collecting console errors, page
 * errors and dialogs.
 *
 * @module
 */

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
 * @param options Viewport width (default 1400) and whether to wait for `body[data-ready]`.
 * @returns The results of `use`, in order.
 */
export async function withPages<T>(
  files: readonly string[],
  use: (page: LoadedPage, log: PageLog, file: string) => Promise<T>,
  options: { width?: number; waitReady?: boolean } = {},
): Promise<T[]> {
  // playwright-core probes /proc for WSL when it loads; Deno grants /proc only with --allow-all,
  // which the test task does not have. These machines are not WSL: answer "no" for those paths.
  const fs = (await import("node:fs")).default;
  const existsSync = fs.existsSync;
  (fs as { existsSync: (p: unknown) => boolean }).existsSync = (p: unknown) =>
    typeof p === "string" && (p.startsWith("/proc/") || p === "/run/WSL")
      ? false
      : existsSync(p as string);
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "sb-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: options.width ?? 1400, height: 1000 },
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
