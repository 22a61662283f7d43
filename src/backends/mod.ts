/**
 * Creates backends by target id, in Deno. The runtimes are imported only when their target is used,
 * so a machine without onnxruntime-node's native addon or without WebGPU can still run the others.
 * (A browser page builds the browser-safe backends itself: `web/page_backends.ts`.)
 *
 * @module
 */

import { type Backend, TARGET_IDS } from "../backend.ts";

/**
 * Creates the backend for a target id; the runtime is imported only when its target is used.
 *
 * @param id Target id.
 * @returns The backend.
 * @throws {RangeError} For an unknown id, listing the valid ones.
 */
export async function createBackend(id: string): Promise<Backend> {
  switch (id) {
    case "ort-wasm": {
      const { cpuModel } = await import("../environment.ts");
      return new (await import("./ort_wasm.ts")).OrtWasmBackend({ device: `CPU: ${cpuModel()}` });
    }
    case "ort-node":
      return new (await import("./ort_node.ts")).OrtNodeBackend();
    case "ort-webgpu":
      return new (await import("./ort_webgpu.ts")).OrtWebGpuBackend({
        logTap: (await import("./_ort_log_tap.ts")).captureOrtLog,
      });
    case "wgsl":
      return new (await import("./wgsl.ts")).WgslBackend({
        reference: (await import("./ort_node.ts")).runOnOrtNode,
        host: `Deno ${Deno.version.deno}`,
      });
  }
  throw new RangeError(`Unknown target "${id}" (valid: ${TARGET_IDS.join(", ")})`);
}
