/**
 * The `ort-node` target: onnxruntime-node's CPU execution provider, loaded from Deno through npm.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, TensorMap } from "../backend.ts";
import { cpuModel } from "../environment.ts";
import {
  cpuLoadedModel,
  createTimed,
  fromOrtTensor,
  type OrtModuleLike,
  type OrtSessionLike,
  toOrtFeeds,
} from "./_ort_cpu_session.ts";
import { oneLine } from "../../lib/one_line.ts";

/**
 * Session options of every `ort-node` session.
 *
 * The runner keeps the dense and the sparse session loaded and alternates them. ORT's pool threads
 * spin for a while after each run, so the idle session's workers took a core from the one being
 * timed: on 2 cores two identical ViT sessions measured medians of 15.8–16.3 ms (p10–p90
 * 11.4–22.1 ms) with spinning and 7.0–7.7 ms (p10–p90 5.8–9.1 ms) without it
 * (`tools/ort_node_spinning.ts`).
 *
 * @param threads Intra-op threads.
 * @returns The options for `InferenceSession.create`.
 */
export function ortNodeSessionOptions(threads: number): {
  executionProviders: string[];
  intraOpNumThreads: number;
  interOpNumThreads: number;
  logSeverityLevel: 3;
  extra: {
    session: { intra_op: { allow_spinning: string }; inter_op: { allow_spinning: string } };
  };
} {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  };
}

/**
 * Runs a graph once on onnxruntime-node: the reference the wgsl target's kernels are checked against.
 *
 * @param model ONNX bytes.
 * @param feeds Inputs.
 * @returns Every graph output.
 */
export async function runOnOrtNode(model: Uint8Array, feeds: TensorMap): Promise<TensorMap> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  try {
    const out = await session.run(toOrtFeeds(ort as unknown as OrtModuleLike, feeds) as never);
    const result: TensorMap = {};
    for (const [name, t] of Object.entries(out)) result[name] = fromOrtTensor(name, t);
    return result;
  } finally {
    await session.release();
  }
}

/** onnxruntime-node on the CPU; intra-op threads = logical cores (recorded). */
export class OrtNodeBackend implements Backend {
  /** Target id. */
  readonly id = "ort-node" as const;
  /** Intra-op threads used by every session. */
  readonly threads: number;
  #ort: typeof import("onnxruntime-node") | undefined;

  /**
   * Creates the backend.
   *
   * @param options `threads` overrides the intra-op thread count.
   */
  constructor(options: { threads?: number } = {}) {
    this.threads = options.threads ?? navigator.hardwareConcurrency;
  }

  async #module(): Promise<typeof import("onnxruntime-node")> {
    return this.#ort ??= await import("onnxruntime-node");
  }

  /** @returns Why onnxruntime-node cannot load here, or undefined. */
  async probe(): Promise<string | undefined> {
    try {
      await this.#module();
      return undefined;
    } catch (e) {
      return `onnxruntime-node does not load: ${oneLine(e)}`;
    }
  }

  /** @returns The identity. */
  async identity(): Promise<BackendIdentity> {
    const pkg = JSON.parse(
      await Deno.readTextFile(
        new URL("../../node_modules/onnxruntime-node/package.json", import.meta.url),
      ),
    );
    return {
      target: this.id,
      device: `CPU: ${cpuModel()}`,
      runtime: `onnxruntime-node ${pkg.version} (cpu, pool threads do not spin)`,
      threads: this.threads,
    };
  }

  /**
   * @param model ONNX bytes.
   * @param options Label and first-run feeds.
   * @returns The loaded model.
   */
  async load(
    model: Uint8Array,
    options: { label: string; feeds: TensorMap },
  ): Promise<LoadedModel> {
    const ort = await this.#module();
    const { session, coldMs } = await createTimed(
      () => ort.InferenceSession.create(model, ortNodeSessionOptions(this.threads)),
      options.label,
      (s) => s.run(toOrtFeeds(ort as unknown as OrtModuleLike, options.feeds) as never),
    );
    return cpuLoadedModel(
      ort as unknown as OrtModuleLike,
      session as unknown as OrtSessionLike,
      coldMs,
    );
  }
}
