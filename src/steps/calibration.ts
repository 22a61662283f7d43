/**
 * Calibration capture: runs a model on the calibration split on ORT node with the values a method
 * asks for exposed as outputs, and hands them back flattened to rows.
 *
 * @module
 */

import type { Backend, TensorMap } from "../backend.ts";
import type { Dataset } from "../../datasets/types.ts";
import { captureCalibration } from "../evaluate.ts";
import type { Captured } from "../method.ts";
import { encodeModel, type ModelProto } from "../onnx/model.ts";
import { cloneModel } from "../onnx/rewriter.ts";
import type { ModelSuite } from "../suite.ts";

/** What the capture needs about the suite. */
export interface CaptureOptions {
  /** The suite. */
  suite: ModelSuite;
  /** Its dataset. */
  dataset: Dataset;
  /** The timed input (the first run of the session). */
  feeds: TensorMap;
  /** Calibration samples. */
  samples: number;
  /** Progress line. */
  status: (message: string) => void;
}

/**
 * Creates the calibration capture a method's `prepare` calls.
 *
 * @param cpu The CPU backend that runs it (ORT node).
 * @param options The suite, data and sizes.
 * @returns The capture function of {@linkcode MethodContext}.
 */
export function createCapture(
  cpu: Backend,
  options: CaptureOptions,
): (model: ModelProto, values: string[]) => Promise<Map<string, Captured>> {
  const { suite, dataset, feeds, samples } = options;
  return async (model, values) => {
    const probe = cloneModel(model);
    const outputs = new Set((probe.graph!.output ?? []).map((o) => o.name));
    for (const v of values) if (!outputs.has(v)) probe.graph!.output!.push({ name: v });
    const loaded = await cpu.load(encodeModel(probe), {
      label: `${suite.model.id} (calibration)`,
      feeds,
    });
    try {
      options.status(`${suite.id}: calibrating on ${samples} samples`);
      return await captureCalibration((f) => loaded.run(f), values, suite.task, dataset, {
        samples,
        batch: suite.task.kind === "char-lm"
          ? 8
          : suite.task.kind === "tensors"
          ? (suite.evalBatch ?? 1)
          : 64,
      });
    } finally {
      await loaded.release();
    }
  };
}
