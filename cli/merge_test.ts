import assert from "node:assert/strict";
import { captureOutput } from "./_testing.ts";
import { repoPath } from "../lib/repo_root.ts";
import { readJournal } from "../src/journal.ts";
import { assignShards } from "../src/shard.ts";
import { main as bench } from "./bench.ts";
import { main as merge } from "./merge.ts";

const QUICK = ["--suite", "mlp-mnist", "--quick", "--target", "ort-wasm", "--target", "ort-node"];

const quiet = captureOutput;

const runDirOf = (out: string) => out.match(/^results: (.+)$/m)![1]!;
const keysOf = async (dir: string) =>
  readJournal(await Deno.readTextFile(`${dir}/cells.jsonl`)).cells.map((c) => c.key).sort();

Deno.test("assignShards() deals units by cost, the same way every time", () => {
  const units = [5, 1, 4, 2, 3].map((c, i) => ({ key: `u${i}`, costS: c }));
  const a = assignShards(units, 2);
  assert.deepEqual(a, assignShards([...units].reverse(), 2));
  const load = [0, 0];
  for (const u of units) load[a.get(u.key)! - 1]! += u.costS;
  assert.ok(Math.abs(load[0]! - load[1]!) <= 1, `${load}`);
});

Deno.test("shards run in separate processes merge into exactly the cells of an unsharded run", async () => {
  const out = await Deno.makeTempDir();
  const whole = await quiet(() => bench([...QUICK, "--out", out]));
  assert.equal(whole.value, 0, whole.err);
  const want = await keysOf(runDirOf(whole.out));
  const shardsOut = `${out}/shards`;
  const children = [1, 2].map((k) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/bench.ts", ...QUICK, "--shard", `${k}/2`, "--out", shardsOut],
      cwd: repoPath(""),
      stdout: "piped",
      stderr: "piped",
    }).output()
  );
  const done = await Promise.all(children);
  const dirs = done.map((r) => {
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    return runDirOf(new TextDecoder().decode(r.stdout));
  });
  const parts = await Promise.all(dirs.map(keysOf));
  assert.ok(parts.every((p) => p.length > 0), "both shards hold cells");
  assert.equal(parts[0]!.filter((k) => parts[1]!.includes(k)).length, 0, "no cell in both");
  const merged = await quiet(() => merge([...dirs, "--out", `${out}/merged`]));
  assert.equal(merged.value, 0, merged.err);
  assert.deepEqual(await keysOf(runDirOf(merged.out)), want);
  const record = JSON.parse(await Deno.readTextFile(`${runDirOf(merged.out)}/run.json`));
  assert.equal(record.mergedFrom.length, 2);

  // One shard alone: merged, but the missing one is named and the exit code says so.
  const partial = await quiet(() => merge([dirs[0]!, "--out", `${out}/merged`]));
  assert.equal(partial.value, 3);
  assert.match(partial.err, /shard\(s\) 2 missing/);
  // The same shard twice, and a run of other arguments, are refused.
  const twice = await quiet(() => merge([dirs[0]!, dirs[0]!, "--out", `${out}/merged`]));
  assert.equal(twice.value, 2);
  assert.match(twice.err, /are both shard 1\/2/);
  const other = await quiet(() =>
    bench([
      "--suite",
      "mlp-mnist",
      "--quick",
      "--target",
      "ort-wasm",
      "--shard",
      "2/2",
      "--out",
      shardsOut,
    ])
  );
  const mixed = await quiet(() => merge([dirs[0]!, runDirOf(other.out), "--out", `${out}/merged`]));
  assert.equal(mixed.value, 2);
  assert.match(mixed.err, /different arguments/);
});
