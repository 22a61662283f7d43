/**
 * The part of the ONNX Runtime backends that is the same for onnxruntime-node and
 * onnxruntime-web's wasm build: both expose `InferenceSession` and `Tensor` with one API.
 *
 * @module
 */

import type { HostTensor, LoadedModel, TensorMap } from "../backend.ts";
import type { Clock, Sampler } from "../timing.ts";
import { wallClock } from "../timing.ts";
import { oneLine } from "../../lib/one_line.ts";

/** The slice of the ORT JavaScript API the backends use. */
export interface OrtTensorLike {
  type: string;
  data: unknown;
  dims: readonly number[];
  dispose?: () => void;
  getData?: (releaseData?: boolean) => Promise<unknown>;
}

/** A session as ORT's JavaScript API shapes it. */
export interface OrtSessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The module-level API: a tensor constructor. */
export interface OrtModuleLike {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike;
}

/**
 * Converts host tensors to ORT tensors.
 *
 * @param ort The ORT module.
 * @param feeds Host tensors.
 * @returns ORT tensors.
 */
export function toOrtFeeds(ort: OrtModuleLike, feeds: TensorMap): Record<string, OrtTensorLike> {
  const out: Record<string, OrtTensorLike> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.type, t.data, t.dims);
  return out;
}

/**
 * Converts an ORT output held in host memory to a host tensor.
 *
 * @param name Output name, for the error message.
 * @param t The ORT tensor.
 * @returns The host tensor.
 */
export function fromOrtTensor(name: string, t: OrtTensorLike): HostTensor {
  const dims = [...t.dims];
  if (t.type === "float32") return { type: "float32", data: t.data as Float32Array, dims };
  if (t.type === "int64") return { type: "int64", data: t.data as BigInt64Array, dims };
  if (t.type === "int32") return { type: "int32", data: t.data as Int32Array, dims };
  throw new TypeError(
    `Output "${name}" has element type ${t.type}, which the harness does not read`,
  );
}

/**
 * Wraps an ORT session whose outputs land in host memory (CPU execution providers).
 *
 * @param ort The ORT module.
 * @param session The session.
 * @param coldMs Session creation plus first run, in ms.
 * @returns The loaded model.
 */
export function cpuLoadedModel(
  ort: OrtModuleLike,
  session: OrtSessionLike,
  coldMs: number,
): LoadedModel {
  const run = async (feeds: TensorMap): Promise<TensorMap> => {
    const out = await session.run(toOrtFeeds(ort, feeds));
    const result: TensorMap = {};
    for (const [name, t] of Object.entries(out)) result[name] = fromOrtTensor(name, t);
    return result;
  };
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    coldMs,
    warnings: [],
    run,
    sampler(feeds: TensorMap, label: string): Sampler {
      const ortFeeds = toOrtFeeds(ort, feeds);
      return {
        label,
        async sample(clock: Clock = wallClock): Promise<number> {
          const t0 = clock.now();
          await session.run(ortFeeds);
          return clock.now() - t0;
        },
      };
    },
    async syncLatencyMs(feeds: TensorMap): Promise<number> {
      const ortFeeds = toOrtFeeds(ort, feeds);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await session.run(ortFeeds);
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b)[1]!;
    },
    release: () => session.release(),
  };
}

/**
 * Creates a session and times the cold start (creation plus one run), turning ORT's errors into
 * one-line messages that name the model.
 *
 * @param create Creates the session.
 * @param label Model label.
 * @param firstRun Runs once on the new session.
 * @returns The session and the cold time.
 */
export async function createTimed<S>(
  create: () => Promise<S>,
  label: string,
  firstRun: (s: S) => Promise<unknown>,
): Promise<{ session: S; coldMs: number }> {
  const t0 = performance.now();
  let session: S;
  try {
    session = await create();
  } catch (e) {
    throw new Error(`Cannot load model ${label}: ${oneLine(e)}`);
  }
  try {
    await firstRun(session);
  } catch (e) {
    throw new Error(`Cannot run model ${label}: ${oneLine(e)}`);
  }
  return { session, coldMs: performance.now() - t0 };
}
