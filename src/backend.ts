/**
 * The one small interface every execution target implements: ORT's wasm, node and WebGPU builds,
 * and the project's own WGSL kernels. `src/backends/mod.ts` creates them.
 *
 * @module
 */

import type { Sampler } from "./timing.ts";
import type { KernelPlan } from "./method.ts";
import type { ModelProto } from "./onnx/model.ts";
import type { AdapterFacts } from "../kernels/gpu_device.ts";

/** Ids of the execution targets. */
export type TargetId = "ort-wasm" | "ort-node" | "ort-webgpu" | "wgsl";

/** All target ids, in the order `list` shows them. */
export const TARGET_IDS: readonly TargetId[] = ["ort-wasm", "ort-node", "ort-webgpu", "wgsl"];

/** A tensor in host memory, as backends take and return it. */
export interface HostTensor {
  /** Element type. */
  type: "float32" | "int64" | "int32";
  /** Elements, row-major. */
  data: Float32Array | BigInt64Array | Int32Array;
  /** Shape. */
  dims: number[];
}

/** Named input or output tensors. */
export type TensorMap = Record<string, HostTensor>;

/** What a backend records about itself in every result and in `run.json`. */
export interface BackendIdentity {
  /** Target id. */
  target: TargetId;
  /** The device in words, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or the CPU model. */
  device: string;
  /** The runtime and its version, e.g. "onnxruntime-web 1.30.0 (wasm)". */
  runtime: string;
  /** Threads the runtime uses, where it has a setting. */
  threads?: number;
  /** WebGPU adapter facts, for GPU targets. */
  adapter?: AdapterFacts;
}

/** A model loaded on a backend, ready to run. */
export interface LoadedModel {
  /** Input names in graph order. */
  readonly inputNames: readonly string[];
  /** Output names in graph order. */
  readonly outputNames: readonly string[];
  /** Milliseconds to create the session plus the first run: the cold start. */
  readonly coldMs: number;
  /** Warnings found while loading (e.g. nodes placed on a fallback execution provider). */
  readonly warnings: readonly string[];
  /**
   * Runs once and returns the outputs in host memory.
   *
   * @param feeds Inputs.
   * @returns Outputs.
   */
  run(feeds: TensorMap): Promise<TensorMap>;
  /**
   * A sampler that times runs with fixed inputs. CPU targets time one run per sample; GPU targets
   * time batches of runs with one synchronisation and return the per-run slope, so the fixed cost
   * of a read-back does not enter the figure.
   *
   * @param feeds Inputs.
   * @param label Label for progress and warnings.
   * @returns The sampler.
   */
  sampler(feeds: TensorMap, label: string): Sampler;
  /**
   * The latency of one run including the read-back of its outputs, in ms (median of a few). On
   * CPU targets it equals a normal run; on GPU targets it includes the synchronisation floor.
   *
   * @param feeds Inputs.
   * @returns Milliseconds.
   */
  syncLatencyMs(feeds: TensorMap): Promise<number>;
  /** Frees the session. */
  release(): Promise<void>;
}

/** Options of {@linkcode Backend.load}. */
export interface LoadOptions {
  /** Names the model in errors. */
  label: string;
  /** Inputs of the first run (part of the cold start). */
  feeds: TensorMap;
  /** What a sparse variant's kernels skip (the `wgsl` backend); empty for the dense model. */
  kernelPlan?: KernelPlan;
  /**
   * The decoded model the bytes encode, so a backend that reads the graph (the `wgsl` backend)
   * does not decode it again. Backends must not mutate it.
   */
  decoded?: ModelProto;
  /** The decoded dense model the variant derives from (the `wgsl` backend builds its kernels from it). */
  dense?: ModelProto;
}

/** An execution target. */
export interface Backend {
  /** Target id. */
  readonly id: TargetId;
  /**
   * Checks whether the target can run on this machine.
   *
   * @returns Undefined when it can, otherwise the reason it cannot.
   */
  probe(): Promise<string | undefined>;
  /**
   * The backend's identity (device, runtime, versions).
   *
   * @returns Identity.
   */
  identity(): Promise<BackendIdentity>;
  /**
   * Loads a model.
   *
   * @param model ONNX bytes.
   * @param options `label` names the model in errors; `feeds` are the inputs of the first run,
   *   which is part of the cold-start time; `kernelPlan` tells the `wgsl` backend what the variant
   *   skips (ORT backends run the rewritten graph and ignore it).
   * @returns The loaded model.
   */
  load(model: Uint8Array, options: LoadOptions): Promise<LoadedModel>;
}

/**
 * Fails when any output holds NaN or infinity, naming the output.
 *
 * @param outputs Outputs of a run.
 * @param label Model label for the message.
 */
export function assertFinite(outputs: TensorMap, label: string): void {
  for (const [name, t] of Object.entries(outputs)) {
    if (!(t.data instanceof Float32Array)) continue;
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i]!)) {
        throw new RangeError(
          `Model ${label} produced ${t.data[i]} in output "${name}" at element ${i}`,
        );
      }
    }
  }
}
