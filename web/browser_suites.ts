/**
 * The suites of the embedded default that run in a browser page. The others need parts that are
 * Deno-only today: the kernels suite compares with ORT through the Deno backend factory, and the
 * ViT/LM slices (lazy-neuron, activation sparsity, CoreMatching) calibrate or time on
 * onnxruntime-node in their quick forms.
 *
 * @module
 */

import mlpMnist from "../suites/mlp_mnist.ts";
import sdr from "../suites/sdr.ts";
import type { Suite } from "../src/suite.ts";

/** Suites a page can run, by id. */
export const BROWSER_SUITES: readonly Suite[] = [mlpMnist, sdr];
