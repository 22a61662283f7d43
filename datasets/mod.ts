/**
 * {@linkcode loadDataset} picks a dataset's loader by id; each loader is imported only when used.
 *
 * @module
 */

import { type Dataset, DATASET_IDS, type DatasetId, type LoadDatasetOptions } from "./types.ts";

/**
 * Loads a dataset by id, from the decoded cache when it is fresh.
 *
 * @example Usage
 * ```ts ignore
 * const mnist = await loadDataset("mnist");
 * console.log(mnist.kind, mnist.hash);
 * ```
 *
 * @param id Dataset id.
 * @param options Cache and package locations.
 * @returns The dataset.
 */
export async function loadDataset(
  id: DatasetId,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  if (options.source) {
    const { loadTensorSource } = await import("./tensor_source.ts");
    const { REPO_ROOT } = await import("../lib/repo_root.ts");
    const { source: _, ...rest } = options;
    return await loadTensorSource(options.source, {
      root: REPO_ROOT,
      load: (inner, o) => loadDataset(inner, { ...rest, ...o }),
    });
  }
  switch (id) {
    case "mnist":
      return await (await import("./mnist.ts")).loadMnist(options);
    case "fashion-mnist":
      return await (await import("./fashion_mnist.ts")).loadFashionMnist(options);
    case "english-text":
      return await (await import("./english_text.ts")).loadEnglishText(options);
    case "ocr-lines":
      return await (await import("./ocr_lines.ts")).loadOcrLines();
    case "ocr-pages":
      return await (await import("./ocr_lines.ts")).loadOcrPages();
    case "npy":
    case "random":
      throw new RangeError(
        `Cannot load dataset "${id}" without its source: a suite of a user's model pins it (dataset.source)`,
      );
  }
  throw new RangeError(
    `Cannot load dataset "${id as string}": unknown id (valid: ${DATASET_IDS.join(", ")})`,
  );
}
