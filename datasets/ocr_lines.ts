/**
 * The OCR evaluation set rendered here (`datasets/ocr/`, made by `models/ocr_lines.ts` and
 * `models/ocr_render.py` with Debian's DejaVu Sans): text lines of the English-text evaluation
 * split for the recogniser, and pages of six lines with their text masks for the detector. The
 * committed files are checked against their sha256 in `manifest.json` before use; ground truth is
 * exact (the rendered text itself).
 *
 * - `ocr-lines`: input `x` [N, 3, 48, 320] as PaddleOCR's recogniser preprocesses a line
 *   ((v / 255 − 0.5) / 0.5, padding columns 0); labels are PP-OCR class sequences padded with −1.
 * - `ocr-pages`: input `x` [N, 3, 320, 320] normalised with ImageNet's mean and standard deviation
 *   per channel (PaddleOCR's detector); labels are the shrunk text-box masks (DB's target).
 *
 * @module
 */

import { REPO_ROOT } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { decodeNpy } from "./npy.ts";
import { finish, sliceSamples } from "./tensor_source.ts";
import type { SampleTensor, TensorDataset, TensorSplit } from "./types.ts";

/** Folder of the committed set. */
export const OCR_DIR = `${REPO_ROOT}datasets/ocr`;

interface Manifest {
  lines: { evaluation: number; calibration: number };
  pages: { evaluation: number; calibration: number };
  sha256: Record<string, string>;
}

async function readChecked(name: string, manifest: Manifest) {
  const bytes = await Deno.readFile(`${OCR_DIR}/${name}`);
  const actual = await sha256Hex(bytes);
  if (actual !== manifest.sha256[name]) {
    throw new Error(
      `datasets/ocr/${name}: sha256 ${actual} does not match manifest.json (restore it with \`git checkout -- datasets/ocr\`)`,
    );
  }
  return decodeNpy(bytes, `datasets/ocr/${name}`);
}

async function manifest(): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(`${OCR_DIR}/manifest.json`)) as Manifest;
}

function split(
  x: SampleTensor,
  labels: { data: Int32Array; dims: number[] },
  counts: { evaluation: number; calibration: number },
): Record<"train" | "evaluation" | "calibration", TensorSplit> {
  const per = labels.data.length / labels.dims[0]!;
  const part = (from: number, n: number): TensorSplit => ({
    inputs: { x: sliceSamples(x, from, n) },
    labels: {
      data: labels.data.subarray(from * per, (from + n) * per),
      dims: [n, ...labels.dims.slice(1)],
    },
    count: n,
  });
  return {
    train: { inputs: {}, count: 0 },
    evaluation: part(0, counts.evaluation),
    calibration: part(counts.evaluation, counts.calibration),
  };
}

/**
 * Loads the rendered text lines (the recogniser's set).
 *
 * @returns The dataset.
 */
export async function loadOcrLines(): Promise<TensorDataset> {
  const m = await manifest();
  const images = await readChecked("lines.images.npy", m);
  const widths = await readChecked("lines.widths.npy", m);
  const labels = await readChecked("lines.labels.npy", m);
  const [n, h, w] = images.shape as [number, number, number];
  const x = new Float32Array(n * 3 * h * w);
  for (let i = 0; i < n; i++) {
    const width = Number(widths.data[i]);
    for (let y = 0; y < h; y++) {
      for (let c = 0; c < width; c++) {
        const v = (Number(images.data[(i * h + y) * w + c]) / 255 - 0.5) / 0.5;
        for (let ch = 0; ch < 3; ch++) x[((i * 3 + ch) * h + y) * w + c] = v;
      }
    }
  }
  return await finish({
    id: "ocr-lines",
    package: "sparsebench-ocr",
    version: "1",
    labelKind: "sequence",
    splitRule:
      "lines of the English-text evaluation split (evaluation) and calibration split (calibration), rendered in DejaVu Sans",
    splits: split(
      { type: "float32", dims: [n, 3, h, w], data: x },
      { data: Int32Array.from(labels.data as Int32Array), dims: labels.shape },
      m.lines,
    ),
  });
}

/**
 * Loads the rendered pages and their text masks (the detector's set).
 *
 * @returns The dataset.
 */
export async function loadOcrPages(): Promise<TensorDataset> {
  const m = await manifest();
  const images = await readChecked("pages.images.npy", m);
  const masks = await readChecked("pages.masks.npy", m);
  const [n, h, w] = images.shape as [number, number, number];
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(n * 3 * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      const v = Number(images.data[i * h * w + p]) / 255;
      for (let ch = 0; ch < 3; ch++) x[(i * 3 + ch) * h * w + p] = (v - mean[ch]!) / std[ch]!;
    }
  }
  return await finish({
    id: "ocr-pages",
    package: "sparsebench-ocr",
    version: "1",
    labelKind: "mask",
    splitRule:
      "pages of six lines of the English-text evaluation split (evaluation) and calibration split (calibration), rendered in DejaVu Sans",
    splits: split(
      { type: "float32", dims: [n, 3, h, w], data: x },
      { data: Int32Array.from(masks.data as Int32Array), dims: masks.shape },
      m.pages,
    ),
  });
}
