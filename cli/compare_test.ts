import assert from "node:assert/strict";
import { main } from "./compare.ts";
import { emptyCell } from "../src/result.ts";

async function run(root: string, id: string, ms: number): Promise<string> {
  const dir = `${root}/results/published/${id}`;
  await Deno.mkdir(dir, { recursive: true });
  const suite = { id: "s", sha256: "a".repeat(64), model: { sha256: "b".repeat(64) } };
  await Deno.writeTextFile(
    `${dir}/run.json`,
    JSON.stringify({
      runId: id,
      status: "finished",
      environment: { git: { commit: "c".repeat(40), dirty: false } },
      suites: [suite],
    }),
  );
  const cell = {
    ...emptyCell({
      key: "k",
      suite: "s",
      model: "m",
      model_sha256: "b".repeat(64),
      dataset: "d",
      dataset_hash: "",
      target: "wgsl",
      device: id,
      method: "dense",
      params: "{}",
      sparsity_target: null,
      metric: "accuracy",
    }),
    time_median_ms: ms,
    samples_ms: [ms, ms * 1.01, ms * 0.99, ms],
  };
  await Deno.writeTextFile(`${dir}/cells.jsonl`, JSON.stringify(cell) + "\n");
  return dir;
}

Deno.test("compare --out refuses to overwrite a published comparison unless --force", async () => {
  const root = await Deno.makeTempDir();
  const a = await run(root, "a1", 1);
  const b = await run(root, "b1", 2);
  const out = `${root}/reports/published/compare-a1-vs-b1`;
  assert.equal(await main([a, b, "--out", out]), 0);
  const before = await Deno.readTextFile(`${out}/index.html`);
  const errors: string[] = [];
  const error = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await main([a, b, "--out", out]), 1);
  } finally {
    console.error = error;
  }
  assert.match(errors.join("\n"), /refusing to overwrite the published comparison .*--force/);
  assert.equal(await Deno.readTextFile(`${out}/index.html`), before);
  assert.equal(await main([a, b, "--out", out, "--force"]), 0);
});
