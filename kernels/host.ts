/**
 * What every kernel host needs: pipelines created inside a validation error scope (so a bad shader
 * fails with its label and the compiler's message), labelled buffers, read-back and grid folding.
 * Timing lives in `gpu_timing.ts`.
 *
 * @module
 */

/** One dispatch of a kernel: pipeline, bindings and grid. */
export interface Dispatch {
  /** Pipeline. */
  pipeline: GPUComputePipeline;
  /** Bind group 0. */
  bindGroup: GPUBindGroup;
  /** Workgroups in x, y, z. */
  workgroups: [number, number, number];
}

/**
 * Creates a compute pipeline, failing with the kernel's label and the compiler's first error.
 *
 * @param device The device.
 * @param options Label, WGSL source, `override` constants, entry point.
 * @returns The pipeline.
 * @throws {Error} When the shader does not compile or validate.
 */
export async function createPipeline(
  device: GPUDevice,
  options: { label: string; code: string; constants?: Record<string, number>; entryPoint?: string },
): Promise<GPUComputePipeline> {
  // One pipeline per (source, constants): instances of a kernel share it (no recompiling).
  let perDevice = pipelineCache.get(device);
  if (!perDevice) pipelineCache.set(device, perDevice = new Map());
  const key = `${options.entryPoint ?? "main"}|${
    JSON.stringify(options.constants ?? {})
  }|${options.code}`;
  const cached = perDevice.get(key);
  if (cached) return cached;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: options.label, code: options.code });
  const info = await module.getCompilationInfo();
  const firstError = info.messages.find((m) => m.type === "error");
  const pipeline = device.createComputePipeline({
    label: options.label,
    layout: "auto",
    compute: {
      module,
      entryPoint: options.entryPoint ?? "main",
      constants: options.constants ?? {},
    },
  });
  const error = await device.popErrorScope();
  if (firstError || error) {
    const where = firstError
      ? ` at line ${firstError.lineNum}: ${firstError.message}`
      : `: ${error!.message}`;
    throw new Error(`Kernel ${options.label} does not compile${where.split("\n")[0]}`);
  }
  perDevice.set(key, pipeline);
  return pipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * A storage buffer holding the given data (or zeros of the given size), padded to 4 bytes.
 *
 * @param device The device.
 * @param label Label.
 * @param data Contents, or a size in bytes.
 * @param extraUsage Further usages (COPY_SRC is always added, for read-back).
 * @returns The buffer.
 */
export function storageBuffer(
  device: GPUDevice,
  label: string,
  data: ArrayBufferView | number,
  extraUsage = 0,
): GPUBuffer {
  const size = typeof data === "number" ? data : data.byteLength;
  // Every kernel binds its buffers whole. Past the binding limit the bind group is invalid and
  // the dispatch silently does nothing, which would surface later as a baffling "differs from the
  // CPU reference"; say what is wrong instead.
  const limit = device.limits.maxStorageBufferBindingSize;
  if (size > limit) {
    throw new Error(
      `${label}: ${size} bytes exceed this adapter's maxStorageBufferBindingSize (${limit} bytes); use a smaller shape or a GPU with larger bindings`,
    );
  }
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(size / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    mappedAtCreation: typeof data !== "number",
  });
  if (typeof data !== "number") {
    new Uint8Array(buffer.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    buffer.unmap();
  }
  return buffer;
}

/**
 * A uniform buffer of 32-bit words (u32 or f32 as given).
 *
 * @param device The device.
 * @param label Label.
 * @param words Contents.
 * @returns The buffer.
 */
export function uniformBuffer(
  device: GPUDevice,
  label: string,
  words: Uint32Array | Float32Array | ArrayBuffer,
): GPUBuffer {
  const bytes = words instanceof ArrayBuffer
    ? new Uint8Array(words)
    : new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(bytes.length / 16) * 16),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(bytes);
  buffer.unmap();
  return buffer;
}

/**
 * Four 32-bit words mixing u32 and f32, for uniform structs like `{ n: u32, k: u32, t: f32 }`.
 *
 * @param fields Values with their types.
 * @returns The bytes.
 */
export function packUniform(fields: readonly ({ u32: number } | { f32: number })[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  fields.forEach((f, i) => {
    if ("u32" in f) dv.setUint32(i * 4, f.u32, true);
    else dv.setFloat32(i * 4, f.f32, true);
  });
  return buf;
}

/**
 * Binds buffers to group 0 in binding order.
 *
 * @param device The device.
 * @param pipeline The pipeline.
 * @param label Label.
 * @param buffers Buffers for bindings 0, 1, 2, …
 * @returns The bind group.
 */
export function bindAll(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  label: string,
  buffers: GPUBuffer[],
): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

/**
 * Folds a 1-D count of workgroups into x and y (each dimension is capped at 65,535); kernels
 * recover the index as `wid.x + wid.y * nwg.x` and skip the excess.
 *
 * @param n Workgroups wanted.
 * @returns The grid.
 */
export function grid(n: number): [number, number, number] {
  const x = Math.min(Math.max(1, n), 65535);
  return [x, Math.ceil(Math.max(1, n) / x), 1];
}

/**
 * Records dispatches into a command encoder, one compute pass.
 *
 * @param encoder The encoder.
 * @param dispatches Dispatches in order.
 * @param timestampWrites Optional timestamps around the pass.
 */
export function encodePass(
  encoder: GPUCommandEncoder,
  dispatches: readonly Dispatch[],
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
}

/**
 * Runs dispatches once and waits for them.
 *
 * @param device The device.
 * @param dispatches Dispatches in order.
 */
export async function runOnce(device: GPUDevice, dispatches: readonly Dispatch[]): Promise<void> {
  const encoder = device.createCommandEncoder({ label: "run once" });
  encodePass(encoder, dispatches);
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/**
 * Copies a buffer back to the host.
 *
 * @param device The device.
 * @param buffer A buffer with COPY_SRC usage.
 * @param bytes How many bytes to read.
 * @returns The bytes.
 */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  bytes: number,
): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({
    label: `${buffer.label} (read-back)`,
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: "read-back" });
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * A copy of a buffer made on the GPU (same size and usage), for rotating several copies of a
 * large weight without uploading it again from the host.
 *
 * @param device The device.
 * @param source A buffer with COPY_SRC usage.
 * @param label Label of the copy.
 * @returns The copy.
 */
export function cloneBuffer(device: GPUDevice, source: GPUBuffer, label: string): GPUBuffer {
  const copy = device.createBuffer({ label, size: source.size, usage: source.usage });
  const encoder = device.createCommandEncoder({ label: `clone ${label}` });
  encoder.copyBufferToBuffer(source, 0, copy, 0, source.size);
  device.queue.submit([encoder.finish()]);
  return copy;
}

/**
 * Writes floats (or u32s) into a buffer at offset 0.
 *
 * @param device The device.
 * @param buffer The buffer.
 * @param data The values.
 */
export function writeArray(
  device: GPUDevice,
  buffer: GPUBuffer,
  data: Float32Array | Uint32Array,
): void {
  device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}
