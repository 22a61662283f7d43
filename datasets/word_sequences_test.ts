import assert from "node:assert/strict";
import {
  buildCatalogue,
  FIRST_ITEM_ID,
  historyBefore,
  loadWordSequences,
  OTHER_ID,
  PAD_ID,
  tokenizeWords,
  WORD_ITEMS,
} from "./word_sequences.ts";

Deno.test("tokenizeWords() lower-cases, keeps inner apostrophes and drops punctuation", () => {
  assert.deepEqual(tokenizeWords("Call me Ishmael. Don't -- 'twas 1851!"), [
    "call",
    "me",
    "ishmael",
    "don't",
    "twas",
  ]);
});

Deno.test("buildCatalogue() orders by count, ties alphabetically", () => {
  assert.deepEqual(buildCatalogue(["b", "a", "c", "b", "c", "d"], 3), ["b", "c", "a"]);
});

Deno.test("historyBefore() pads on the left where the stream starts later", () => {
  const ids = Uint16Array.of(5, 6, 7, 8);
  assert.deepEqual([...historyBefore(ids, 2, 4)], [PAD_ID, PAD_ID, 5, 6]);
  assert.deepEqual([...historyBefore(ids, 4, 2)], [7, 8]);
});

Deno.test("loadWordSequences() maps every word to the catalogue or 'other' and matches concepts to it", async () => {
  const d = await loadWordSequences();
  assert.equal(d.items.length, WORD_ITEMS);
  assert.equal(d.items[0], "the");
  for (const s of ["train", "calibration", "evaluation"] as const) {
    const ids = d.splits[s].ids;
    assert.ok(
      ids.every((i) => i === OTHER_ID || (i >= FIRST_ITEM_ID && i < FIRST_ITEM_ID + WORD_ITEMS)),
    );
  }
  const month = d.concepts.find((c) => c.name === "month")!;
  assert.deepEqual([...month.words].sort(), [
    "april",
    "august",
    "december",
    "february",
    "january",
    "july",
    "june",
    "march",
    "may",
    "november",
    "october",
    "september",
  ]);
  assert.equal(month.itemMask.reduce((a, b) => a + b, 0), 12);
  assert.equal(d.hash, (await loadWordSequences()).hash);
});
