/**
 * The repository root, for code that reads the committed tree (models, suites, published runs).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/**
 * The repository root as a file-system path with a trailing separator. It comes from
 * `fileURLToPath`, not `URL.pathname`, so a checkout under a path with spaces or non-ASCII
 * characters is found as it is (the URL form is percent-encoded).
 */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/**
 * Resolves a path relative to the repository root.
 *
 * @example
 * ```ts
 * import { repoPath } from "./repo_root.ts";
 * console.log(repoPath("models/mlp-relu-mnist.onnx"));
 * ```
 *
 * @param relative A path relative to the root, with `/` separators.
 * @returns The absolute path.
 */
export function repoPath(relative: string): string {
  return `${REPO_ROOT}${relative}`;
}
