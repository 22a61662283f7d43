import assert from "node:assert/strict";
import { main } from "./suite_new.ts";
import { buildUserSuite } from "../src/user/user_suite.ts";
import { planModelSuite } from "../src/plan.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import type { ModelSuite } from "../src/suite.ts";

Deno.test("suite new writes a pinned suite that plans the same cells as the --model run", async () => {
  await Deno.mkdir(`${REPO_ROOT}.cache`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${REPO_ROOT}.cache` });
  try {
    const args = [
      "new",
      "--model",
      "src/onnx/testdata/gpt2.torchscript.onnx",
      "--data",
      "random:4",
    ];
    const log = console.log;
    const error = console.error;
    console.log = () => {};
    console.error = () => {};
    let code;
    try {
      code = await main([...args, "--id", "gpt2-ts", "--dir", dir]);
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.equal(code, 0);
    const written = (await import(`${dir}/gpt2_ts.ts`)).default as ModelSuite;
    const built = await buildUserSuite(
      { model: "src/onnx/testdata/gpt2.torchscript.onnx", data: "random:4", id: "gpt2-ts" },
      { root: REPO_ROOT, cwd: REPO_ROOT },
    );
    assert.equal(written.model.sha256, built.suite.model.sha256);
    assert.equal(written.dataset.hash, built.suite.dataset.hash);
    assert.deepEqual(planModelSuite(written, false), planModelSuite(built.suite, false));
    assert.match(await Deno.readTextFile(`${dir}/mod.ts`), /gpt2_ts\.ts/);
    const again = await main([...args, "--id", "gpt2-ts", "--dir", dir]);
    assert.equal(again, 2, "an existing suite is not replaced without --force");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
