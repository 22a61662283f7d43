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
  oneLine,
  type OrtModuleLike,
  type OrtSessionLike,
  toOrtFeeds,
} from "./_ort_cpu_session.ts";

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
      runtime: `onnxruntime-node ${pkg.version} (cpu)`,
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
      () =>
        ort.InferenceSession.create(model, {
          executionProviders: ["cpu"],
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          logSeverityLevel: 3,
        }),
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
