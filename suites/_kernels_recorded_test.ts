import assert from "node:assert/strict";
import { RECORDED_GEMVS, recordedGemv, recordedSource } from "./_kernels_recorded.ts";
import { GEMV_SWEEP, gemvTuningLabel } from "../kernels/tuning.ts";

const GPU = { isFallbackAdapter: false };

Deno.test("recordedGemv() finds each recorded launch for its adapter, shape and precision", () => {
  for (const r of RECORDED_GEMVS) {
    const facts = { ...GPU, description: `NVIDIA ${r.adapter} (test)` };
    assert.equal(recordedGemv(facts, r, { dtype: r.dtype }), r);
    // The other precision finds its own entry or none, never this one.
    const other = r.dtype === "f32" ? "f16" : "f32";
    assert.notEqual(recordedGemv(facts, r, { dtype: other }), r);
  }
});

Deno.test("recordedGemv() finds nothing for unrecorded shapes, other adapters or software ones", () => {
  const r = RECORDED_GEMVS[0]!;
  const facts = { ...GPU, description: `NVIDIA ${r.adapter}` };
  // A shape no published run measured: its cells time their own trials.
  const unmeasured = { k: r.k + 1, n: r.n };
  assert.ok(!RECORDED_GEMVS.some((e) => e.k === unmeasured.k && e.n === unmeasured.n));
  assert.equal(recordedGemv(facts, unmeasured, { dtype: r.dtype }), undefined);
  assert.equal(
    recordedGemv({ ...GPU, description: "AMD Radeon RX 7900" }, r, { dtype: r.dtype }),
    undefined,
  );
  // Software adapters sweep their own shapes, even one that reports a recorded GPU's name.
  const llvmpipe = { isFallbackAdapter: true, description: "llvmpipe (LLVM 15.0.6, 256 bits)" };
  for (const e of RECORDED_GEMVS) {
    assert.equal(recordedGemv(llvmpipe, e, { dtype: e.dtype }), undefined);
    assert.equal(
      recordedGemv({ ...facts, isFallbackAdapter: true }, e, { dtype: e.dtype }),
      undefined,
    );
  }
});

Deno.test("every recorded launch is one shape of the GPU sweep, once per adapter, shape and dtype", () => {
  const sweep = new Set(GEMV_SWEEP.map(gemvTuningLabel));
  const keys = new Set<string>();
  for (const r of RECORDED_GEMVS) {
    for (const t of [r.gemv, ...(r.neighbours ?? []).map((c) => c.gemv)]) {
      assert.ok(sweep.has(gemvTuningLabel(t)), `${gemvTuningLabel(t)} is not in GEMV_SWEEP`);
    }
    const key = `${r.adapter} ${r.k}x${r.n} ${r.dtype}`;
    assert.ok(!keys.has(key), `${key} is recorded twice`);
    keys.add(key);
    assert.ok(r.runs.length > 0);
    assert.match(recordedSource(r), /^recorded \(\d{8}T\d{6}Z-/);
  }
});

/** A published run's rows and the hash of the gemv.wgsl it ran, or undefined where absent. */
async function published(
  run: string,
): Promise<{ rows: Record<string, unknown>[]; gemvSha: string | undefined } | undefined> {
  const dir = new URL(`../results/published/${run}/`, import.meta.url);
  let text: string;
  let meta: { suites: { id: string; files?: { path: string; sha256: string }[] }[] };
  try {
    text = await Deno.readTextFile(new URL("cells.jsonl", dir));
    meta = JSON.parse(await Deno.readTextFile(new URL("run.json", dir)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const files = meta.suites.find((s) => s.id === "kernels")?.files ?? [];
  return {
    rows: text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)),
    gemvSha: files.find((f) => f.path === "kernels/gemv.wgsl")?.sha256,
  };
}

async function sha256(path: URL): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("every recorded launch is the winner its published run recorded, on the tree's gemv.wgsl", async (t) => {
  const gemvSha = await sha256(new URL("../kernels/gemv.wgsl", import.meta.url));
  for (const r of RECORDED_GEMVS) {
    const choices = [
      ...r.runs.map((run) => ({ run, gemv: r.gemv })),
      ...(r.neighbours ?? []),
    ];
    for (const c of choices) {
      const cell = `${r.k}x${r.n} ${r.dtype} from ${c.run}`;
      const run = await published(c.run);
      // Device calls leave the published runs out of the copied tree (tools/device_slim.sh).
      if (!run) {
        await t.step({ name: `${cell} (published run absent)`, ignore: true, fn: () => {} });
        continue;
      }
      assert.equal(run.gemvSha, gemvSha, `${c.run} timed another kernels/gemv.wgsl`);
      const row = run.rows.find((x) => {
        const extra = x.extra as Record<string, unknown>;
        return extra.kernel === (r.dtype === "f16" ? "gemv-f16" : "gemv") &&
          extra.shape === `${r.k}x${r.n}` && x.status === "completed";
      });
      assert.ok(row, `${cell}: no completed dense row`);
      assert.ok(String(row.device).includes(r.adapter), `${cell}: ran on ${row.device}`);
      assert.equal(
        (row.extra as Record<string, unknown>).tuning,
        gemvTuningLabel(c.gemv),
        `${cell}: the run chose another shape`,
      );
    }
  }
});
