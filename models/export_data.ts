/**
 * Writes the decoded datasets as flat binary files for the PyTorch training scripts, so that
 * training sees exactly the splits (and hashes) the suites evaluate on.
 *
 * Usage: `deno task export-data [--out DIR] [ID...]` (default: all datasets into
 * `.cache/export`). Per dataset it writes `<split>.images.f32` (or `.images.u8`, pixel × 255, when the pixels are whole 1/255 steps) and `<split>.labels.u8` (images) or
 * `<split>.ids.u8` (text), plus `meta.json` with shapes, vocabulary and hashes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BuiltinDatasetId, DATASET_IDS, SPLIT_NAMES } from "../datasets/types.ts";
import { loadDataset } from "../datasets/mod.ts";
import { bytesOf } from "../lib/sha256.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: `${REPO_ROOT}.cache/export` },
    help: { type: "boolean" },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(
    "Usage: deno task export-data [--out DIR] [mnist|fashion-mnist|english-text|word-sequences ...]",
  );
  Deno.exit(0);
}
const ids = (positionals.length ? positionals : [...DATASET_IDS, "word-sequences"]) as string[];
for (const id of ids) {
  if (id === "word-sequences") {
    // The recommender's words (datasets/word_sequences.ts), for models/train_sasrec.py.
    const words = await import("../datasets/word_sequences.ts");
    await words.writeWordSequencesExport(await words.loadWordSequences(), `${values.out}/${id}`);
    console.log(`${id}: ${values.out}/${id}`);
    continue;
  }
  if (!DATASET_IDS.includes(id as BuiltinDatasetId)) {
    console.error(`Error: unknown dataset "${id}" (valid: ${DATASET_IDS.join(", ")})`);
    Deno.exit(2);
  }
  const d = await loadDataset(id as BuiltinDatasetId);
  // Tensor sets (the rendered OCR lines) are committed as .npy already.
  if (d.kind === "tensors") continue;
  const dir = `${values.out}/${id}`;
  await Deno.mkdir(dir, { recursive: true });
  const meta: Record<string, unknown> = {
    id,
    package: `${d.package}@${d.version}`,
    hash: d.hash,
    splitHashes: d.splitHashes,
    splitRule: d.splitRule,
  };
  for (const s of SPLIT_NAMES) {
    if (d.kind === "image") {
      const images = d.splits[s].images;
      // Fashion-MNIST pixels are whole 1/255 steps: a byte each keeps the export small enough to
      // carry to the GPU machine.
      const bytes = images.every((v) => Math.fround(Math.round(v * 255) / 255) === v)
        ? Uint8Array.from(images, (v) => Math.round(v * 255))
        : undefined;
      if (bytes) await Deno.writeFile(`${dir}/${s}.images.u8`, bytes);
      else await Deno.writeFile(`${dir}/${s}.images.f32`, bytesOf(images));
      await Deno.writeFile(`${dir}/${s}.labels.u8`, d.splits[s].labels);
      meta[s] = { count: d.splits[s].count, shape: d.imageShape, format: bytes ? "u8/255" : "f32" };
    } else {
      await Deno.writeFile(`${dir}/${s}.ids.u8`, d.splits[s].ids);
      meta[s] = { length: d.splits[s].ids.length, sections: d.splits[s].sections };
    }
  }
  if (d.kind === "text") meta.vocab = d.vocab;
  else meta.classes = d.classes;
  await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta, null, 2));
  console.log(`${id}: ${dir}`);
}
