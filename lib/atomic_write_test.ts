import assert from "node:assert/strict";
import { writeFileAtomic } from "./atomic_write.ts";

Deno.test("writeFileAtomic() replaces a file whole and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomic(`${dir}/a.html`, "old");
  await writeFileAtomic(`${dir}/a.html`, new TextEncoder().encode("new"));
  assert.equal(await Deno.readTextFile(`${dir}/a.html`), "new");
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assert.deepEqual(names, ["a.html"]);
});

Deno.test("writeFileAtomic() keeps the previous file when the write fails", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomic(`${dir}/a.html`, "old");
  await assert.rejects(() => writeFileAtomic(`${dir}/missing/a.html`, "new"));
  await Deno.mkdir(`${dir}/b.html`);
  await Deno.writeTextFile(`${dir}/b.html/x`, "");
  await assert.rejects(() => writeFileAtomic(`${dir}/b.html`, "new"));
  assert.equal(await Deno.readTextFile(`${dir}/a.html`), "old");
});

Deno.test("a process killed while writing leaves the previous file readable and whole", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/index.html`;
  const old = "old report\n".repeat(1000);
  await writeFileAtomic(path, old);
  const code = `
    import { writeFileAtomic } from ${
    JSON.stringify(new URL("./atomic_write.ts", import.meta.url).href)
  };
    const big = "new report\\n".repeat(4_000_000);
    console.log("ready");
    for (;;) await writeFileAtomic(${JSON.stringify(path)}, big);
  `;
  let kills = 0;
  for (const delayMs of [5, 40, 120]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    kills++;
    const text = await Deno.readTextFile(path);
    assert.ok(
      text === old || text === "new report\n".repeat(4_000_000),
      `after kill ${kills} the file is neither the old nor the new one whole (${text.length} chars)`,
    );
  }
  assert.equal(kills, 3);
});
