import assert from "node:assert/strict";
import { renderRunReport, summarySections, writeRunReport } from "./run_report.ts";
import { readRun } from "./run_data.ts";
import { runFindings } from "./findings.ts";
import { renderIndex, supersession } from "./index_page.ts";
import { emptyCell } from "../result.ts";
import type { CellResult } from "../result.ts";

function cell(method: string, over: Partial<CellResult> = {}): CellResult {
  return {
    ...emptyCell({
      key: `k-${method}-${over.sparsity_target ?? ""}`,
      suite: "s",
      model: "m",
      model_sha256: "0".repeat(64),
      dataset: "mnist",
      dataset_hash: "1".repeat(64),
      target: "ort-wasm",
      device: "cpu",
      method,
      params: "{}",
      sparsity_target: null,
      metric: "accuracy",
    }),
    ...over,
  };
}

async function runFolder(
  root: string,
  run: Record<string, unknown>,
  cells: readonly unknown[],
  sub = "results",
): Promise<string> {
  const dir = `${root}/${sub}/${String(run.runId ?? "x")}`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify(run));
  await Deno.writeTextFile(`${dir}/cells.jsonl`, cells.map((c) => JSON.stringify(c)).join("\n"));
  return dir;
}

Deno.test("readRun() refuses a run id that is not a safe folder name, naming the file", async () => {
  const root = await Deno.makeTempDir();
  for (const bad of [".", "..", "../x", "a/b", "", ".hidden"]) {
    const dir = `${root}/r${crypto.randomUUID()}`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify({ runId: bad }));
    await Deno.writeTextFile(`${dir}/cells.jsonl`, "");
    await assert.rejects(() => readRun(dir), (e: Error) => {
      assert.match(e.message, /run\.json has an Invalid run id/);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  }
  for (const bad of ["null", "[]", '"oops"']) {
    const dir = `${root}/j${crypto.randomUUID()}`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/run.json`, bad);
    await Deno.writeTextFile(`${dir}/cells.jsonl`, "");
    await assert.rejects(() => readRun(dir), /run\.json is not a JSON object/);
  }
});

Deno.test("readRun() skips journal lines that are not cells and types the ones that are", async () => {
  const root = await Deno.makeTempDir();
  const dir = await runFolder(root, { runId: "r1" }, [
    {},
    cell("dense", { speedup: "fast" as unknown as number }),
    { key: "x" },
  ]);
  await Deno.writeTextFile(`${dir}/cells.jsonl`, '\n{"key":"torn', { append: true });
  const run = await readRun(dir);
  assert.equal(run.cells.length, 1);
  assert.equal(run.cells[0]!.speedup, null);
});

Deno.test("writeRunReport() refuses to replace a published report unless forced", async () => {
  const root = await Deno.makeTempDir();
  const dir = await runFolder(
    root,
    { runId: "pub1", status: "finished" },
    [cell("dense")],
    "results/published",
  );
  const reportsDir = `${root}/reports`;
  const path = await writeRunReport(dir, { reportsDir });
  assert.equal(path, `${reportsDir}/published/pub1/index.html`);
  const before = await Deno.readTextFile(path);
  await assert.rejects(
    () => writeRunReport(dir, { reportsDir }),
    /Refusing to overwrite the published report .*pass --force/,
  );
  assert.equal(await Deno.readTextFile(path), before);
  assert.equal(await writeRunReport(dir, { reportsDir, force: true }), path);
  // An unpublished run's report is simply rebuilt.
  const other = await runFolder(root, { runId: "own1" }, [cell("dense")]);
  await writeRunReport(other, { reportsDir });
  await writeRunReport(other, { reportsDir });
});

Deno.test("the report shows the paired dense median a speedup was divided by", async () => {
  const teal = cell("teal", {
    sparsity_target: 0.5,
    speedup: 2,
    speedup_ci_low: 1.8,
    speedup_ci_high: 2.2,
    time_median_ms: 0.078,
    gate: "pass",
  });
  (teal as unknown as Record<string, unknown>).dense_paired_median_ms = 0.157;
  const run = {
    id: "r",
    run: { runId: "r", status: "finished" },
    cells: [cell("dense", { time_median_ms: 0.338, speedup: 1 }), teal],
  };
  const findings = runFindings(run).map((f) => f.text).join("\n");
  assert.match(findings, /2\.00x \[1\.80, 2\.20\], measurably faster than dense/);
  assert.match(findings, /0\.0780 ms vs 0\.157 ms paired dense/);
  const html = await renderRunReport(run);
  assert.match(html, /<th>dense_paired_median_ms<\/th>/);
  assert.match(html, /<td>0\.1570<\/td>/);
});

Deno.test("a published run whose run.json still says running is shown as interrupted", async () => {
  const run = {
    id: "r2",
    run: { runId: "r2", status: "running", backends: {} },
    cells: [cell("dense")],
  };
  const banner = runFindings(run, { published: true }).find((f) => f.level === "warn");
  assert.match(banner?.text ?? "", /This run is interrupted: run\.json says "running"/);
  const html = await renderRunReport(run, { published: true });
  assert.match(html, /status interrupted/);
  const index = await renderIndex([{ id: "r2", run }]);
  assert.match(index, /<td>interrupted<\/td>/);
});

Deno.test("a run is superseded only by a later finished run of all its cells on its device", () => {
  const r = (id: string, startedAt: string, targets: string[], status = "finished") => ({
    id,
    run: { runId: id, status, startedAt, suites: [{ id: "s" }], backends: { x: { device: "d" } } },
    cells: targets.map((t) => cell("dense", { target: t, key: `s|${t}|dense` })),
  });
  const old = r("a", "2026-01-01", ["ort-wasm", "wgsl"]);
  const fewerTargets = r("b", "2026-01-02", ["ort-wasm"]);
  const killed = r("c", "2026-01-03", ["ort-wasm", "wgsl"], "running");
  const full = r("d", "2026-01-04", ["ort-wasm", "wgsl", "ort-node"]);
  assert.deepEqual(
    [...supersession([old, fewerTargets, killed, full]).entries()],
    [["a", "d"], ["b", "d"], ["c", "d"]],
  );
  assert.deepEqual([...supersession([old, fewerTargets]).entries()], []);
});

Deno.test("summarySections() leaves out the FLOPs and gate columns that no variant fills", () => {
  const run = {
    id: "r",
    run: { runId: "r", status: "finished" },
    cells: [cell("imp", { accuracy: 0.9, sparsity_target: 0.2 }), cell("ap", { accuracy: 0.91 })],
  };
  const body = String(summarySections(run, [])[0]!.body);
  assert.ok(body.includes("<th>accuracy</th>"));
  assert.ok(!body.includes("x fewer FLOPs") && !body.includes("<th>gate</th>"), body);
  const gated = {
    ...run,
    cells: [cell("imp", { accuracy: 0.9, flops_reduction: 2, gate: "pass" })],
  };
  const full = String(summarySections(gated, [])[0]!.body);
  assert.ok(full.includes("<th>x fewer FLOPs</th>") && full.includes("<th>gate</th>"));
  assert.ok(full.includes("<td>2.00</td>") && full.includes("<td>pass</td>"));
});
