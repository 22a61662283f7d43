/**
 * One WebGPU device per process, shared by ORT-web's WebGPU execution provider and the project's
 * WGSL kernels, created with the adapter's own limits (the WebGPU defaults cap storage bindings at
 * 128 MiB, too small for a 4096×11008 f32 weight).
 *
 * @module
 */

/** What a WebGPU adapter reports about itself. */
export interface AdapterFacts {
  /** `GPUAdapterInfo.vendor`. */
  vendor: string;
  /** `GPUAdapterInfo.architecture`. */
  architecture: string;
  /** `GPUAdapterInfo.description`. */
  description: string;
  /** Whether it is a software (fallback) adapter. */
  isFallbackAdapter: boolean;
  /** Features the adapter offers. */
  features: string[];
  /** `maxStorageBufferBindingSize`, bytes. */
  maxStorageBufferBindingSize: number;
}

/** The shared adapter and device. */
export interface GpuContext {
  /** The adapter. */
  adapter: GPUAdapter;
  /** The device. */
  device: GPUDevice;
  /** What the adapter reports about itself. */
  facts: AdapterFacts;
  /** Whether timestamp queries were enabled on the device. */
  hasTimestamps: boolean;
  /** Whether `shader-f16` was enabled on the device. */
  hasF16: boolean;
}

let shared: Promise<GpuContext> | undefined;

/**
 * The process-wide WebGPU device, created on first use.
 *
 * @returns The context.
 * @throws {Error} When there is no WebGPU adapter, with what to do about it.
 */
export function acquireGpu(): Promise<GpuContext> {
  shared ??= createContext().catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

async function createContext(): Promise<GpuContext> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    throw new Error("No WebGPU: navigator.gpu is missing in this runtime");
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      "No WebGPU adapter: install a Vulkan driver (Mesa's llvmpipe works: apt install mesa-vulkan-drivers) or drop the GPU targets with --target",
    );
  }
  const info = adapter.info;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  // On a CPU adapter (llvmpipe) the GPU is the CPU and wall time is the truth; its timestamps read
  // ~8 % above the wall slope of the same kernel, so kernels there are timed by the wall slope.
  const want: GPUFeatureName[] = fallback ? ["shader-f16"] : ["timestamp-query", "shader-f16"];
  const features = want.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    label: "sparsebench device",
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
    },
  });
  return {
    adapter,
    device,
    hasTimestamps: features.includes("timestamp-query"),
    hasF16: features.includes("shader-f16"),
    facts: {
      vendor: info.vendor,
      architecture: info.architecture,
      // Chromium leaves description and device empty: vendor and architecture still name it.
      description: info.description || info.device ||
        [info.vendor, info.architecture].filter((s) => s).join(" ") || "unknown adapter",
      isFallbackAdapter: fallback,
      features: [...adapter.features].sort(),
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  };
}
