/**
 * The `ort-wasm` target: onnxruntime-web's WebAssembly (SIMD) execution provider.
 *
 * ORT-web picks one thread when `crossOriginIsolated` is not true, which is always the case in
 * Deno; the thread count is set explicitly and recorded so the figure is not a silent default.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, TensorMap } from "../backend.ts";
import {
  cpuLoadedModel,
  createTimed,
  type OrtModuleLike,
  type OrtSessionLike,
  toOrtFeeds,
} from "./_ort_cpu_session.ts";
import { oneLine } from "../../lib/one_line.ts";

/** onnxruntime-web on the wasm execution provider. */
export class OrtWasmBackend implements Backend {
  /** Target id. */
  readonly id = "ort-wasm" as const;
  /** wasm threads. */
  readonly threads: number;
  /** What the identity names as the device. */
  readonly device: string;
  #ort: typeof import("onnxruntime-web") | undefined;

  /**
   * Creates the backend.
   *
   * @param options `threads` (default 1, ORT-web's choice in Deno); `device`, the CPU's name
   *   (Deno's factory reads it from the OS; a browser page cannot).
   */
  constructor(options: { threads?: number; device?: string } = {}) {
    this.threads = options.threads ?? 1;
    this.device = options.device ?? `CPU (${navigator.hardwareConcurrency} logical cores)`;
  }

  async #module(): Promise<typeof import("onnxruntime-web")> {
    if (!this.#ort) {
      const ort = await import("onnxruntime-web");
      ort.env.wasm.numThreads = this.threads;
      ort.env.logLevel = "error";
      this.#ort = ort;
    }
    return this.#ort;
  }

  /** @returns Why the wasm build cannot load here, or undefined. */
  async probe(): Promise<string | undefined> {
    try {
      await this.#module();
      return undefined;
    } catch (e) {
      return `onnxruntime-web does not load: ${oneLine(e)}`;
    }
  }

  /** @returns The identity. */
  async identity(): Promise<BackendIdentity> {
    const ort = await this.#module();
    return {
      target: this.id,
      device: this.device,
      runtime: `onnxruntime-web ${ort.env.versions.web} (wasm, simd)`,
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
        ort.InferenceSession.create(model, { executionProviders: ["wasm"], logSeverityLevel: 3 }),
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
