import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { HAS_CHROMIUM } from "../src/report/chromium.ts";
import { readJournal } from "../src/journal.ts";
import mlpMnist from "../suites/mlp_mnist.ts";

Deno.test({
  name:
    "serve: the page runs mlp-mnist (dense, TEAL) and sdr in headless Chromium on every browser target and the server writes the run with the suites' pins",
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
          "--query",
          "variant=teal",
          "--out",
          `${out}/results`,
          "--reports",
          `${out}/reports`,
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
      const suite = run.suites.find((s: { id: string }) => s.id === "mlp-mnist");
      assert.equal(suite.model.sha256, mlpMnist.model.sha256);
      assert.equal(suite.dataset.hash, mlpMnist.dataset.hash);

      const { cells, dropped } = readJournal(await Deno.readTextFile(`${path}/cells.jsonl`));
      assert.deepEqual(dropped, []);
      const hasGpu = run.browser.adapter !== null;
      const targets = hasGpu ? ["ort-wasm", "ort-webgpu", "wgsl"] : ["ort-wasm"];
      for (const t of targets) {
        for (const m of ["dense", "teal"]) {
          const c = cells.find((c) => c.suite === "mlp-mnist" && c.target === t && c.method === m);
          assert.ok(c, `no ${t} ${m} cell`);
          assert.equal(c.status, "completed", `${t} ${m}: ${c.error}`);
          assert.equal(c.model_sha256, mlpMnist.model.sha256);
          assert.equal(c.dataset_hash, mlpMnist.dataset.hash);
          assert.ok(c.time_median_ms !== null && c.time_median_ms > 0, `${t} ${m} has no time`);
        }
      }
      const sdr = cells.filter((c) => c.suite === "sdr");
      assert.ok(sdr.length > 0, "no sdr cells");
      for (const c of sdr) {
        if (hasGpu || c.target === "cpu") {
          assert.equal(c.status, "completed", `${c.key}: ${c.error}`);
        }
      }
      // Accuracy is measured once per variant (on ort-wasm) and shared by its targets.
      const teal = cells.filter((c) => c.suite === "mlp-mnist" && c.method === "teal").map((c) =>
        c.accuracy
      );
      assert.ok(teal.every((a) => a !== null && a === teal[0]));
      if (!hasGpu) {
        console.warn(`warning: no WebGPU adapter in Chromium (${run.browser.adapterError})`);
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
