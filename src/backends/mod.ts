/**
 * Creates backends by target id. The runtimes are imported only when their target is used, so a
 * machine without onnxruntime-node's native addon or without WebGPU can still run the others.
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
    case "ort-wasm":
      return new (await import("./ort_wasm.ts")).OrtWasmBackend();
    case "ort-node":
      return new (await import("./ort_node.ts")).OrtNodeBackend();
    case "ort-webgpu":
      return new (await import("./ort_webgpu.ts")).OrtWebGpuBackend();
    case "wgsl":
      return new (await import("./wgsl.ts")).WgslBackend();
  }
  throw new RangeError(`Unknown target "${id}" (valid: ${TARGET_IDS.join(", ")})`);
}
