import assert from "node:assert/strict";
import { journalLine, readJournal } from "./journal.ts";
import { emptyCell } from "./result.ts";

const cell = (key: string) =>
  emptyCell({
    key,
    suite: "s",
    model: "m",
    model_sha256: "",
    dataset: "d",
    dataset_hash: "",
    target: "ort-wasm",
    device: "",
    method: "dense",
    params: "{}",
    sparsity_target: null,
    metric: "accuracy",
  });

Deno.test("the journal keeps -Infinity, Infinity and NaN through a round trip", () => {
  const c = { ...cell("a"), accuracy: -Infinity, extra: { log_p: -Infinity, x: NaN, y: Infinity } };
  const [back] = readJournal(journalLine(c)).cells;
  assert.equal(back!.accuracy, -Infinity);
  assert.equal(back!.extra.log_p, -Infinity);
  assert.ok(Number.isNaN(back!.extra.x));
  assert.equal(back!.extra.y, Infinity);
});

Deno.test("readJournal() drops a torn last line and lines that are not cells, naming each", () => {
  const text = journalLine(cell("a")) + "{}\n" + "[1]\n" + "not json\n" +
    journalLine(cell("b")) + journalLine(cell("c")).slice(0, 30);
  const r = readJournal(text);
  assert.deepEqual(r.cells.map((c) => c.key), ["a", "b"]);
  assert.equal(r.dropped.length, 4);
  assert.match(r.dropped[0]!, /cut short/);
  assert.match(r.dropped.join("\n"), /line 2: not a cell/);
  assert.match(r.dropped.join("\n"), /line 4: not JSON/);
  assert.equal(
    r.validBytes,
    new TextEncoder().encode(text.slice(0, text.lastIndexOf("\n") + 1)).length,
  );
});

Deno.test("readJournal() keeps the last record of a retried cell and fills fields old journals lack", () => {
  const old = { ...cell("a"), status: "errored" } as Record<string, unknown>;
  delete old.time_basis;
  delete old.extra;
  const r = readJournal(
    JSON.stringify(old) + "\n" + journalLine(cell("b")) + journalLine(cell("a")),
  );
  assert.deepEqual(r.cells.map((c) => [c.key, c.status]), [["b", "completed"], ["a", "completed"]]);
  const first = readJournal(JSON.stringify(old) + "\n").cells[0]!;
  assert.equal(first.time_basis, "");
  assert.deepEqual(first.extra, {});
});
