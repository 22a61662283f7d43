import assert from "node:assert/strict";
import { REPO_ROOT } from "../../lib/repo_root.ts";
import { HAS_CHROMIUM, paintedPixels, withPages } from "./chromium.ts";

async function published(): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(`${REPO_ROOT}results/published`)) {
      if (e.isDirectory) ids.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return ids.sort();
}

const ids = await published();

Deno.test({
  name:
    "every published report renders in Chromium with findings, non-blank charts, no overflow at 1400 px and a preview under 200 KB",
  ignore: !HAS_CHROMIUM || ids.length === 0,
}, async () => {
  const files = ids.map((id) => `${REPO_ROOT}reports/published/${id}/index.html`);
  for (const [i, f] of files.entries()) {
    await Deno.stat(f).catch(() =>
      assert.fail(`no report for ${ids[i]}: run deno task report --all`)
    );
    const preview = await Deno.stat(f.replace(/index\.html$/, "preview.png")).catch(() =>
      assert.fail(`no preview for ${ids[i]}: run deno task report --all --previews`)
    );
    assert.ok(preview.size <= 200_000, `the preview of ${ids[i]} is ${preview.size} bytes`);
  }
  const problems = await withPages(files, async (page, log, file) => {
    const out: string[] = [];
    const width = await page.evaluate(() =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
        .document.documentElement.scrollWidth
    );
    if (width > 1400) out.push(`overflows: ${width} px wide`);
    const findings = await page.$$eval(
      "#findings li, #findings p",
      (els: { textContent: string }[]) => els.map((e) => e.textContent),
    );
    if (!findings.some((t: string) => /\d/.test(t))) out.push("no finding with a figure");
    const painted = await paintedPixels(page);
    painted.forEach((p, i) => {
      if (p <= 1000) out.push(`chart ${i} is blank`);
    });
    out.push(
      ...log.errors.map((e) => `console: ${e}`),
      ...log.requests.map((r) => `request: ${r}`),
    );
    return out.map((p) => `${file.split("/").at(-2)}: ${p}`);
  });
  assert.deepEqual(problems.flat(), []);
});

Deno.test({
  name: "the index lists every published run and loads in Chromium without errors",
  ignore: !HAS_CHROMIUM || ids.length === 0,
}, async () => {
  const [seen] = await withPages([`${REPO_ROOT}reports/index.html`], async (page, log) => {
    assert.deepEqual(log.errors, []);
    return await page.$$eval(
      "a[href^='published/']",
      (els: { getAttribute(n: string): string }[]) => els.map((e) => e.getAttribute("href")),
    );
  });
  for (const id of ids) {
    assert.ok(seen!.includes(`published/${id}/index.html`), `index lacks ${id}`);
  }
});

Deno.test({
  name: "every published comparison renders in Chromium with findings and no overflow at 1400 px",
  ignore: !HAS_CHROMIUM,
}, async () => {
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(`${REPO_ROOT}reports/published`)) {
      if (e.isDirectory && e.name.startsWith("compare-")) {
        files.push(`${REPO_ROOT}reports/published/${e.name}/index.html`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const problems = await withPages(files, async (page, log, file) => {
    const width = await page.evaluate(() =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
        .document.documentElement.scrollWidth
    );
    const findings = await page.$$eval("#findings li", (els: unknown[]) => els.length);
    return [
      ...(width > 1400 ? [`overflows: ${width} px`] : []),
      ...(findings === 0 ? ["no findings"] : []),
      ...log.errors,
    ].map((p) => `${file}: ${p}`);
  });
  assert.deepEqual(problems.flat(), []);
});
