/**
 * Fault injection on the bench: kills, torn and foreign journal lines, concurrent resumes,
 * resumes with other arguments, damaged inputs, a checkout path with spaces. Each test names the
 * fault; none may lose a finished cell or record a wrong one.
 */

import assert from "node:assert/strict";
import { captureOutput } from "./_testing.ts";
import { repoPath } from "../lib/repo_root.ts";
import { parseCsv } from "../src/export_csv.ts";
import { readJournal } from "../src/journal.ts";
import { EXIT_INCOMPLETE, EXIT_NOTHING_RAN, EXIT_OK, main } from "./bench.ts";

const QUICK = ["--suite", "mlp-mnist", "--quick", "--target", "ort-wasm"];

const quiet = captureOutput;

function runDirOf(out: string): string {
  const m = out.match(/^results: (.+)$/m);
  assert.ok(m, `no results line in:\n${out}`);
  return m[1]!;
}

async function keys(dir: string): Promise<string[]> {
  return readJournal(await Deno.readTextFile(`${dir}/cells.jsonl`)).cells.map((c) => c.key).sort();
}

/** A bench process started by the task's own command line, so its permissions are the task's. */
function spawnBench(args: string[], cwd = repoPath("")): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      "--allow-run=git",
      "cli/bench.ts",
      ...args,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** A process that takes a run folder's lock the way bench does and holds it until killed. */
function spawnLockHolder(lockPath: string): { child: Deno.ChildProcess; ready: Promise<void> } {
  const code = `const f = await Deno.open(${JSON.stringify(lockPath)}, { read: true, write: true });
if (!(await f.tryLock(true))) Deno.exit(1);
await f.truncate(0);
await f.write(new TextEncoder().encode(JSON.stringify({ pid: Deno.pid, host: Deno.hostname(), since: "now" })));
console.log("locked");
setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ready = (async () => {
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /locked/);
    reader.releaseLock();
  })();
  return { child, ready };
}

let reference: string[] | undefined;
async function uninterrupted(): Promise<string[]> {
  if (reference) return reference;
  const out = await Deno.makeTempDir();
  const r = await quiet(() => main([...QUICK, "--out", out]));
  assert.equal(r.value, EXIT_OK, r.err);
  return reference = await keys(runDirOf(r.out));
}

Deno.test("bench killed in its first cell or after any journal line resumes to the cells of an uninterrupted run", async () => {
  const want = await uninterrupted();
  const out = await Deno.makeTempDir();
  for (const after of [0, 1, 2, 3]) {
    const child = spawnBench([...QUICK, "--out", out]);
    // Wait for the journal to hold `after` lines, then kill without warning.
    let dir = "";
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      dir = "";
      for await (const e of Deno.readDir(out)) {
        const text = await Deno.readTextFile(`${out}/${e.name}/cells.jsonl`).catch(() => undefined);
        if (text !== undefined && text.split("\n").filter(Boolean).length >= after) {
          dir = `${out}/${e.name}`;
        }
      }
      if (dir) break;
    }
    child.kill("SIGKILL");
    await child.output();
    assert.ok(dir, `no journal with ${after} lines`);
    const id = dir.split("/").pop()!;
    const r = await quiet(() => main(["--out", out, "--resume", id]));
    assert.equal(r.value, EXIT_OK, r.err);
    const got = await keys(dir);
    assert.deepEqual(got, want, `killed after ${after} lines`);
    const csv = parseCsv(await Deno.readTextFile(`${dir}/results.csv`));
    assert.equal(csv.length, want.length, "one CSV row per cell, no duplicate");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --resume repairs a torn last journal line and drops foreign lines with a warning", async () => {
  const want = await uninterrupted();
  const out = await Deno.makeTempDir();
  const first = await quiet(() => main([...QUICK, "--out", out]));
  const dir = runDirOf(first.out);
  const id = dir.split("/").pop()!;
  const lines = (await Deno.readTextFile(`${dir}/cells.jsonl`)).split("\n").filter(Boolean);
  // The last cell cut mid-write, and a line that parses but is no cell.
  await Deno.writeTextFile(
    `${dir}/cells.jsonl`,
    [lines[0], "{}", ...lines.slice(1, -1), lines.at(-1)!.slice(0, 40)].join("\n"),
  );
  const r = await quiet(() => main(["--out", out, "--resume", id]));
  assert.equal(r.value, EXIT_OK, r.err);
  assert.match(r.err, /line 2: not a cell/);
  assert.match(r.err, /cut short/);
  assert.deepEqual(await keys(dir), want);
  const text = await Deno.readTextFile(`${dir}/cells.jsonl`);
  assert.equal(readJournal(text).dropped.filter((d) => /cut short/.test(d)).length, 0);
  assert.equal(parseCsv(await Deno.readTextFile(`${dir}/results.csv`)).length, want.length);
});

Deno.test("bench --resume runs the run's own arguments and refuses ones that change it", async () => {
  const out = await Deno.makeTempDir();
  const first = await quiet(() => main([...QUICK, "--out", out]));
  const dir = runDirOf(first.out);
  const id = dir.split("/").pop()!;
  const runJson = await Deno.readTextFile(`${dir}/run.json`);
  const changed = await quiet(() => main(["--out", out, "--resume", id, "--suite", "kernels"]));
  assert.equal(changed.value, 2);
  assert.match(changed.err, /--resume completes run .* as it was started/);
  const full = await quiet(() => main(["--out", out, "--resume", id, "--full"]));
  assert.equal(full.value, 2);
  // A finished run resumed: nothing to do, nothing rewritten, and no default suites added.
  const again = await quiet(() => main(["--out", out, "--resume", id]));
  assert.equal(again.value, EXIT_OK, again.err);
  assert.equal(await Deno.readTextFile(`${dir}/run.json`), runJson);
  assert.equal((await keys(dir)).length, 4);
});

Deno.test("two processes never work one run: a live lock refuses, a stale one is taken over", async () => {
  const out = await Deno.makeTempDir();
  const first = await quiet(() => main([...QUICK, "--out", out]));
  const dir = runDirOf(first.out);
  const id = dir.split("/").pop()!;
  // A live owner: another process holding the folder's lock.
  const holder = spawnLockHolder(`${dir}/run.lock`);
  try {
    await holder.ready;
    const busy = await quiet(() => main(["--out", out, "--resume", id]));
    assert.equal(busy.value, 2);
    assert.match(busy.err, /is in use by process \d+/);
  } finally {
    holder.child.kill("SIGKILL");
    await holder.child.status;
  }
  // The owner was killed: the OS released its lock, so the run resumes at once.
  const stale = await quiet(() => main(["--out", out, "--resume", id]));
  assert.equal(stale.value, EXIT_OK, stale.err);
  // Two real processes resuming at once: exactly one works the run.
  await Deno.writeTextFile(`${dir}/cells.jsonl`, "");
  const [a, b] = [
    spawnBench(["--out", out, "--resume", id]),
    spawnBench(["--out", out, "--resume", id]),
  ];
  const [ra, rb] = await Promise.all([a.output(), b.output()]);
  const codes = [ra.code, rb.code].sort();
  assert.deepEqual(
    codes,
    [0, 2],
    new TextDecoder().decode(ra.stderr) + new TextDecoder().decode(rb.stderr),
  );
  const lines = (await Deno.readTextFile(`${dir}/cells.jsonl`)).split("\n").filter(Boolean);
  assert.equal(lines.length, 4, "no cell run twice");
});

Deno.test("bench exits 3 when every cell errored and 4 when there was nothing to run", async () => {
  const out = await Deno.makeTempDir();
  const damaged = await quiet(() =>
    main([...QUICK, "--out", out], {
      readModel: async (p) => {
        const bytes = await Deno.readFile(repoPath(p));
        bytes[bytes.length - 1]! ^= 0xff;
        return bytes;
      },
    })
  );
  assert.equal(damaged.value, EXIT_INCOMPLETE);
  assert.match(damaged.err, /incomplete: 4 errored/);
  assert.match(damaged.err, /--resume/);
  const none = await quiet(() =>
    main(["--suite", "kernels", "--quick", "--target", "ort-wasm", "--out", out])
  );
  assert.equal(none.value, EXIT_NOTHING_RAN);
  assert.match(none.err, /nothing ran/);
});

Deno.test("bench warns when a --variant or --sparsity value matches nothing in the suite", async () => {
  const out = await Deno.makeTempDir();
  const r = await quiet(() =>
    main([...QUICK, "--variant", "topk", "--sparsity", "0.99", "--out", out])
  );
  assert.match(r.err, /no sparsity 0\.99 .*grid: 0\.5/);
  const cells = await keys(runDirOf(r.out));
  assert.equal(cells.length, 1, "dense alone, as asked, but not silently");
});

Deno.test("bench and its run folder work from a checkout path with spaces and any --out", async () => {
  const root = await Deno.makeTempDir();
  const checkout = `${root}/with space/r`;
  // A copy of the source tree (what git tracks or would track), without the other models and the
  // published runs; symlinks would not do, as Deno resolves them to the real path.
  const list = await new Deno.Command("git", {
    args: ["ls-files", "-co", "--exclude-standard"],
    cwd: repoPath(""),
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(list.stdout).split("\n").filter((f) =>
    f && !/^(results|reports|src\/onnx\/testdata)\//.test(f) &&
    !(/^models\/.*\.onnx$/.test(f) && f !== "models/mlp-relu-mnist.onnx")
  );
  for (const f of files) {
    const info = await Deno.lstat(repoPath(f)).catch(() => undefined);
    if (!info?.isFile) continue; // deleted in the working tree, or a link (node_modules)
    await Deno.mkdir(`${checkout}/${f}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.copyFile(repoPath(f), `${checkout}/${f}`);
  }
  await Deno.symlink(repoPath("node_modules"), `${checkout}/node_modules`);
  const out = `${root}/elsewhere entirely`;
  const r = await spawnBench([...QUICK, "--out", out], checkout).output();
  const stdout = new TextDecoder().decode(r.stdout);
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  const dir = runDirOf(stdout);
  assert.ok(dir.startsWith(out), dir);
  assert.equal((await keys(dir)).length, 4);
  await Deno.remove(root, { recursive: true });
});
