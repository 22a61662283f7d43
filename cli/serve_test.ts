import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { sha256File } from "../lib/sha256.ts";
import { HAS_CHROMIUM } from "../src/report/chromium.ts";
import { readJournal } from "../src/journal.ts";
import { planModelSuite } from "../src/plan.ts";
import type { CellResult } from "../src/result.ts";
import { BROWSER_SUITES, browserForm } from "../web/browser_suites.ts";
import { BROWSER_TARGETS } from "../web/page_backends.ts";

/**
 * CI runs the whole embedded default in the page, as a user's first run does. On this 2-core
 * machine that takes 3 minutes when it is quiet (186 s of page time; the published browser run
 * 20261201T214038Z) and up to 12 while other work shares the cores (710 s; 20261201T210414Z), so
 * the page gets 25 minutes before the test gives up.
 */
const TIMEOUT_S = 1500;

Deno.test({
  name:
    "serve: the page runs the embedded default in headless Chromium on every browser target and the server writes the run with the suites' pins",
  ignore: !HAS_CHROMIUM,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "sb-serve-test-" });
    try {
      // The server needs the network permission the test task does not grant: a child runs it.
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-net=127.0.0.1",
          "--allow-env",
          "--allow-sys",
          "--allow-run",
          `${REPO_ROOT}tools/browser_run.ts`,
          "--out",
          `${out}/results`,
          "--reports",
          `${out}/reports`,
          "--timeout-s",
          String(TIMEOUT_S),
        ],
        cwd: REPO_ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(child.stdout);
      const stderr = new TextDecoder().decode(child.stderr);
      assert.ok(child.success, `browser run failed:\n${stderr}`);
      const path = stdout.match(/^results: (.+)$/m)?.[1];
      assert.ok(path, `no results line in:\n${stdout}`);

      const run = JSON.parse(await Deno.readTextFile(`${path}/run.json`));
      assert.equal(run.status, "finished");
      assert.match(run.browser.userAgent, /Chrome\//);
      assert.equal(run.browser.crossOriginIsolated, true, "COOP/COEP did not isolate the page");
      const hasGpu = run.browser.adapter !== null;
      if (!hasGpu) {
        console.warn(`warning: no WebGPU adapter in Chromium (${run.browser.adapterError})`);
      }
      const { cells, dropped } = readJournal(await Deno.readTextFile(`${path}/cells.jsonl`));
      assert.deepEqual(dropped, []);
      const usable = (c: CellResult) => hasGpu || c.target === "ort-wasm" || c.target === "cpu";

      assert.deepEqual(
        run.suites.map((r: { id: string }) => r.id),
        BROWSER_SUITES.map((s) => s.id),
      );
      for (const s of BROWSER_SUITES) {
        const record = run.suites.find((r: { id: string }) => r.id === s.id);
        assert.ok(record, `run.json records no suite ${s.id}`);
        const mine = cells.filter((c) => c.suite === s.id);
        assert.ok(mine.length > 0, `no ${s.id} cells`);
        for (const c of mine.filter(usable)) {
          assert.equal(c.status, "completed", `${c.key}: ${c.error}`);
        }
        assert.ok(run.suiteWallMs[s.id] > 0, `no wall time for ${s.id}`);
        if (s.kind === "custom") {
          // The kernel sources the page ran are the ones on disk.
          for (const f of record.files ?? []) {
            assert.equal(f.sha256, await sha256File(`${REPO_ROOT}${f.path}`), f.path);
          }
          continue;
        }
        assert.equal(record.model.sha256, s.model.sha256);
        assert.equal(record.dataset.hash, s.dataset.hash);
        // Exactly the planned cells of the suite's browser form, each with the suite's pins.
        const form = browserForm(s).suite;
        assert.equal(form.kind, "model");
        const plan = planModelSuite(form as typeof s, true, { targets: BROWSER_TARGETS });
        assert.equal(mine.length, plan.targets.length * plan.variants.length, s.id);
        for (const t of plan.targets) {
          for (const v of plan.variants) {
            const c = mine.find((c) =>
              c.target === t && c.method === v.method && c.sparsity_target === v.sparsity
            );
            assert.ok(c, `no ${s.id} ${t} ${v.method} cell`);
            assert.equal(c.model_sha256, s.model.sha256);
            assert.equal(c.dataset_hash, s.dataset.hash);
            // A GPU sample is a clamped slope, (T(1 + K) - T(1)) / K >= 0: on a busy software
            // adapter a median can be 0, which is a measured figure, not a missing one.
            if (usable(c)) {
              assert.ok(c.time_median_ms !== null && c.time_median_ms >= 0, `${c.key}: no time`);
              assert.ok(c.samples_ms.length > 0, `${c.key} has no samples`);
            }
          }
        }
        // Accuracy is measured once per variant (on ort-wasm in the page) and shared by its targets.
        for (const v of plan.variants) {
          const acc = mine.filter((c) => c.method === v.method && c.sparsity_target === v.sparsity)
            .map((c) => c.accuracy);
          assert.ok(acc.every((a) => a !== null && a === acc[0]), `${s.id} ${v.method}`);
        }
        // Where the suite names ort-node, the run says what the page ran instead.
        const subs = run.browser.substitutions.filter((x: { suite: string }) => x.suite === s.id);
        assert.deepEqual(subs, browserForm(s).substitutions);
      }
      // Without a server, the same folder is offered as a download.
      const download = stdout.match(/^download: (.*)$/m)?.[1]?.split(" ") ?? [];
      assert.deepEqual(
        download.map((n) => n.replace(/^[^/]+\//, "")).sort(),
        ["cells.jsonl", "results.csv", "results.json", "run.json"],
      );
      const csv = await Deno.readTextFile(`${path}/results.csv`);
      assert.equal(csv.trim().split("\n").length, 1 + cells.length);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
