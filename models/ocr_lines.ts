/**
 * `deno run --allow-read --allow-write models/ocr_lines.ts`: writes `datasets/ocr/lines.json`, the
 * text of the OCR evaluation set: words of the English-text evaluation split (chapters 116–135 of
 * Moby Dick) packed into lines of 16–30 characters, and the same from the calibration split for
 * calibration. `models/ocr_render.py` then renders them with DejaVu Sans.
 *
 * @module
 */

import { loadEnglishText } from "../datasets/english_text.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

const d = await loadEnglishText();
const text = (split: "evaluation" | "calibration") =>
  Array.from(d.splits[split].ids, (i) => d.vocab[i]!).join("");

/** Packs words into lines of at most `max` characters, dropping lines shorter than `min`. */
function pack(t: string, count: number, skip: number, min = 16, max = 30): string[] {
  const words = t.split(/\s+/).filter((w) => w.length > 0 && w.length <= max);
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if ((cur ? cur.length + 1 : 0) + w.length > max) {
      if (cur.length >= min) lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
    if (lines.length >= skip + count) break;
  }
  return lines.slice(skip, skip + count);
}

const evaluation = text("evaluation");
const calibration = text("calibration");
const out = {
  source: `${d.package}@${d.version} English text, dataset hash ${d.hash}`,
  rule: "words of the split packed into lines of 16-30 characters, in order",
  lines: { evaluation: pack(evaluation, 128, 0), calibration: pack(calibration, 32, 0) },
  // Page lines follow the recognition lines, so no text is shared between the two sets.
  pages: { evaluation: pack(evaluation, 16 * 6, 128), calibration: pack(calibration, 4 * 6, 32) },
};
await Deno.writeTextFile(
  `${REPO_ROOT}datasets/ocr/lines.json`,
  JSON.stringify(out, null, 1) + "\n",
);
console.log(
  `datasets/ocr/lines.json: ${out.lines.evaluation.length} + ${out.lines.calibration.length} lines, ${
    out.pages.evaluation.length / 6
  } + ${out.pages.calibration.length / 6} pages`,
);
