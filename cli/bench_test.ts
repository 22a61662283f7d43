import assert from "node:assert/strict";
import { main } from "./bench.ts";

async function errorOf(args: string[]): Promise<{ code: number; message: string }> {
  const original = console.error;
  let message = "";
  console.error = (...a: unknown[]) => (message += a.join(" "));
  try {
    return { code: await main(args), message };
  } finally {
    console.error = original;
  }
}

Deno.test("bench rejects unknown suite, target and variant ids, listing the valid ones", async () => {
  const suite = await errorOf(["--suite", "nope"]);
  assert.equal(suite.code, 2);
  assert.match(suite.message, /Unknown suite "nope" \(valid: mlp-mnist/);
  const target = await errorOf(["--target", "cuda"]);
  assert.match(target.message, /Unknown target "cuda" \(valid: ort-wasm, ort-node, ort-webgpu/);
  const variant = await errorOf(["--variant", "magic"]);
  assert.match(variant.message, /Unknown variant "magic" \(valid: relu, /);
});

Deno.test("bench --variant names a custom suite's own kernels, and lists them when one is wrong", async () => {
  const wrong = await errorOf(["--suite", "kernels", "--variant", "input-sparse-skp"]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.message, /Unknown variant "input-sparse-skp" \(valid: .*input-sparse-skip,/);
  // Without the suite selected, its kernels are not variants.
  const alone = await errorOf(["--variant", "input-sparse-skip"]);
  assert.match(alone.message, /Unknown variant "input-sparse-skip"/);
});

Deno.test("bench refuses ids with / or .. before touching the file system", async () => {
  for (
    const args of [["--suite", "../x"], ["--resume", "../../etc"], ["--target", "a/b"], [
      "--variant",
      "..",
    ]]
  ) {
    const r = await errorOf(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.message, /Invalid .* \(no "\/" or "\.\."\)/);
  }
});

Deno.test("bench --resume of a run that does not exist says so in one line", async () => {
  const dir = await Deno.makeTempDir();
  const r = await errorOf(["--out", dir, "--resume", "20260101T000000Z-x-0000"]);
  assert.equal(r.code, 2);
  assert.match(r.message, /Cannot resume run 20260101T000000Z-x-0000: .*run\.json not found/);
});

Deno.test("bench rejects unknown flags", async () => {
  const r = await errorOf(["--fast"]);
  assert.equal(r.code, 2);
  assert.match(r.message, /--fast/);
});

Deno.test("bench rejects a --sparsity that is not a number in [0, 1)", async () => {
  for (const v of ["half", "1", "-0.1", ""]) {
    const r = await errorOf([`--sparsity=${v}`]);
    assert.equal(r.code, 2, v);
    assert.match(r.message, /--sparsity ".*" is not a number in \[0, 1\)/);
  }
});
