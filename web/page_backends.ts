/**
 * The targets a browser page can run, built from the same backend classes Deno uses: ORT-web on
 * wasm and on WebGPU, and the project's WGSL kernels (checked against ORT-web's wasm build, since
 * onnxruntime-node's native addon cannot load in a page).
 *
 * @module
 */

import type { Backend, TargetId, TensorMap } from "../src/backend.ts";
import { OrtWasmBackend } from "../src/backends/ort_wasm.ts";
import { OrtWebGpuBackend } from "../src/backends/ort_webgpu.ts";
import { WgslBackend } from "../src/backends/wgsl.ts";
import { captureConsole } from "./console_tap.ts";

/** The targets a page can run. */
export const BROWSER_TARGETS: readonly TargetId[] = ["ort-wasm", "ort-webgpu", "wgsl"];

/**
 * A short name of the browser, from its user agent (e.g. "Chrome 150"), for identities.
 *
 * @param userAgent `navigator.userAgent`.
 * @returns The name.
 */
export function browserName(userAgent: string): string {
  const m = userAgent.match(/(HeadlessChrome|Chrome|Firefox|Version)\/(\d+)/);
  if (!m) return "a browser";
  return `${m[1] === "Version" ? "Safari" : m[1]} ${m[2]}`;
}

/**
 * Creates the backend factory of a page run.
 *
 * @param options `wasmThreads`: ORT-web wasm threads (1 matches Deno's, so the two are comparable).
 * @returns The factory the runner calls per target.
 */
export function browserBackends(
  options: { wasmThreads: number },
): (id: TargetId) => Promise<Backend> {
  const device = `CPU (${navigator.hardwareConcurrency} logical cores, in ${
    browserName(navigator.userAgent)
  })`;
  const cpu = new OrtWasmBackend({ threads: options.wasmThreads, device });
  const reference = async (model: Uint8Array, feeds: TensorMap): Promise<TensorMap> => {
    const loaded = await cpu.load(model, { label: "wgsl reference", feeds });
    try {
      return await loaded.run(feeds);
    } finally {
      await loaded.release();
    }
  };
  return (id) => {
    switch (id) {
      case "ort-wasm":
        return Promise.resolve(cpu);
      case "ort-webgpu":
        return Promise.resolve(new OrtWebGpuBackend({ logTap: captureConsole }));
      case "wgsl":
        return Promise.resolve(
          new WgslBackend({ reference, host: browserName(navigator.userAgent) }),
        );
      default:
        return Promise.reject(
          new Error(`Target ${id} does not run in a browser (its runtime is Deno-only)`),
        );
    }
  };
}
