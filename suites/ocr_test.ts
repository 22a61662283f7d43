import assert from "node:assert/strict";
import { loadOcrLines, loadOcrPages } from "../datasets/ocr_lines.ts";
import { createBackend } from "../src/backends/mod.ts";
import { evaluateTensors } from "../src/evaluate_tensors.ts";
import { importModel } from "../src/onnx/import.ts";
import { repoPath } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";
import ocrRec from "./ocr_rec.ts";
import ocrDet from "./ocr_det.ts";

Deno.test("the rendered OCR sets decode to the hashes the ocr-rec and ocr-det suites pin", async () => {
  const lines = await loadOcrLines();
  assert.equal(lines.hash, ocrRec.dataset.hash);
  assert.equal(lines.splits.evaluation.count, 128);
  assert.deepEqual(lines.splits.evaluation.inputs.x!.dims, [128, 3, 48, 480]);
  const pages = await loadOcrPages();
  assert.equal(pages.hash, ocrDet.dataset.hash);
});

Deno.test("PP-OCRv4 reads the first rendered lines with greedy CTC decoding (CER under 1 %)", async () => {
  const bytes = await Deno.readFile(repoPath(ocrRec.model.path));
  assert.equal(await sha256Hex(bytes), ocrRec.model.sha256);
  const { bytes: model } = await importModel(bytes);
  const lines = await loadOcrLines();
  const backend = await createBackend("ort-node");
  const task = ocrRec.task as Extract<typeof ocrRec.task, { kind: "tensors" }>;
  const x = lines.splits.evaluation.inputs.x!;
  const loaded = await backend.load(model, {
    label: "pp-ocrv4-rec",
    feeds: { x: { type: "float32", dims: [1, 3, 48, 480], data: x.data.slice(0, 3 * 48 * 480) } },
  });
  try {
    const ev = await evaluateTensors(loaded, task, lines, { samples: 4, batch: 4 });
    assert.ok(ev.metric < 0.01, `CER ${ev.metric}`);
    assert.equal(ev.predictions.length, 4 * 60);
  } finally {
    await loaded.release();
  }
});
