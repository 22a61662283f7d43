/**
 * The first step of a model suite: nothing runs on a model or dataset that is not the one the
 * suite pins. The model file's sha256, the dataset loader's package and version, and the decoded
 * dataset's content hash are all checked before anything is measured.
 *
 * @module
 */

import type { Dataset, DatasetSource } from "../../datasets/types.ts";
import { sha256Hex } from "../../lib/sha256_hex.ts";
import { importModel } from "../onnx/import.ts";
import type { ModelProto } from "../onnx/model.ts";
import type { ModelSuite } from "../suite.ts";

/** The pinned inputs of a suite, checked. */
export interface PinnedInputs {
  /** The dense model, decoded. */
  dense: ModelProto;
  /** The dense model's file bytes (what ORT loads for the dense cells). */
  denseBytes: Uint8Array;
  /** The dataset. */
  dataset: Dataset;
}

/** How the pinned inputs are read. */
export interface PinReaders {
  /** Reads a model file, path relative to the repository. */
  readModel: (path: string) => Promise<Uint8Array>;
  /** Loads a dataset by id (a user dataset from its source). */
  dataset: (id: Dataset["id"], source?: DatasetSource) => Promise<Dataset>;
}

/**
 * Reads and checks a suite's model and dataset against its pins.
 *
 * @param suite The suite.
 * @param readers How to read them.
 * @returns The checked inputs.
 * @throws {Error} Naming the file and both hashes when a pin does not match.
 */
export async function checkPins(suite: ModelSuite, readers: PinReaders): Promise<PinnedInputs> {
  const denseBytes = await readers.readModel(suite.model.path);
  const actual = await sha256Hex(denseBytes);
  if (actual !== suite.model.sha256) {
    throw new Error(
      `Model file ${suite.model.path}: sha256 ${actual} does not match the pinned ${suite.model.sha256} (restore it with \`git checkout -- ${suite.model.path}\`)`,
    );
  }
  const dataset = await readers.dataset(suite.dataset.id, suite.dataset.source);
  if (dataset.package !== suite.dataset.package || dataset.version !== suite.dataset.version) {
    throw new Error(
      `Dataset ${suite.dataset.id}: loader reads ${dataset.package}@${dataset.version}, the suite pins ${suite.dataset.package}@${suite.dataset.version}`,
    );
  }
  if (dataset.hash !== suite.dataset.hash) {
    throw new Error(
      `Dataset ${suite.dataset.id}: content hash ${dataset.hash} does not match the pinned ${suite.dataset.hash}`,
    );
  }
  // Real exports are normalised once (Constant-held weights become initializers, external data is
  // read in, through the same reader as the model); a model that needs none of it keeps its bytes.
  const path = suite.model.path;
  const imported = await importModel(denseBytes, {
    source: path,
    dir: path.includes("/") ? path.replace(/\/[^/]*$/, "") : ".",
    readFile: (p) => readers.readModel(p),
  });
  return { dense: imported.model, denseBytes: imported.bytes, dataset };
}
