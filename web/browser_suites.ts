/**
 * The suites of the embedded default that run in a browser page. The others need parts that are
 * Deno-only today: the kernels, SDR and lazy-neuron suites time through the Deno GPU timer and
 * read files, and the ViT/LM slices calibrate and time on onnxruntime-node.
 *
 * @module
 */

import mlpMnist from "../suites/mlp_mnist.ts";
import type { ModelSuite } from "../src/suite.ts";

/** Suites a page can run, by id. */
export const BROWSER_SUITES: readonly ModelSuite[] = [mlpMnist];
