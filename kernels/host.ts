/**
 * What every kernel host needs: pipelines created inside a validation error scope (so a bad shader
 * fails with its label and the compiler's message), labelled buffers, read-back, grid folding,
 * and timing that keeps Deno's ~10 ms synchronisation floor out of the figures.
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

/** A kernel time measurement. */
export interface KernelTime {
  /** Median milliseconds per repetition. */
  ms: number;
  /** Each sample, ms per repetition. */
  samplesMs: number[];
  /**
   * Where the samples come from: GPU timestamps around a batch (converted with the calibrated
   * tick length), or the slope of wall time over two batch sizes (adapters without timestamps).
   */
  source: "timestamps" | "wall-slope";
  /** GPU ticks per repetition (median), with timestamps. */
  ticksPerRep?: number;
  /** Nanoseconds per tick, calibrated on this device against wall time over long batches. */
  nsPerTick?: number;
}

const tickCalibration = new WeakMap<GPUDevice, number>();

/**
 * Times a sequence of dispatches (one "repetition"). With timestamp queries (asked for and
 * available), each sample is one batch of repetitions in one pass between two timestamps, in
 * ticks converted to time with a tick length calibrated once per device (wall-time slope over
 * batches of about 0.1 s and 1 s, median of three: Deno's ~10 ms sleep in
 * `onSubmittedWorkDone` quantises wall times, so short batches cannot calibrate). Without them,
 * each sample is the slope of wall time over two batch sizes, each submitted at once and ended by
 * one synchronisation, ((T(b + r) − T(b)) / r), so the constant sleep cancels. (The shared
 * device leaves timestamps off on CPU adapters; see `src/gpu_device.ts`.)
 *
 * @param device The device.
 * @param reps Repetitions to time; each is a list of dispatches (several allow rotating buffers).
 * @param options `samples` (default 5), `targetMs` for a batch (default 50), `timestamps` to
 *   use GPU timestamps where the device has them.
 * @returns The time per repetition.
 */
export async function timeDispatches(
  device: GPUDevice,
  reps: readonly (readonly Dispatch[])[],
  options: { samples?: number; targetMs?: number; timestamps?: boolean } = {},
): Promise<KernelTime> {
  const encodeBatch = (count: number, timestampWrites?: GPUComputePassTimestampWrites) => {
    const encoder = device.createCommandEncoder({ label: "timed batch" });
    const all: Dispatch[] = [];
    for (let i = 0; i < count; i++) all.push(...reps[i % reps.length]!);
    encodePass(encoder, all, timestampWrites);
    return encoder;
  };
  const submit = async (count: number): Promise<number> => {
    const commands = encodeBatch(count).finish();
    const t0 = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  // Warm up, then size the batch so it runs for about targetMs.
  await submit(2);
  const base = 2;
  const probe = Math.max(0.001, (await submit(base + 8)) - (await submit(base))) / 8;
  const added = Math.max(4, Math.min(20000, Math.round((options.targetMs ?? 50) / probe)));
  const samples = options.samples ?? 5;
  if (options.timestamps && device.features.has("timestamp-query")) {
    const timed = async (count: number) => {
      const querySet = device.createQuerySet({
        label: "kernel timestamps",
        type: "timestamp",
        count: 2,
      });
      const resolve = device.createBuffer({
        label: "timestamp resolve",
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const encoder = encodeBatch(count, {
        querySet,
        beginningOfPassWriteIndex: 0,
        endOfPassWriteIndex: 1,
      });
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      const commands = encoder.finish();
      const t0 = performance.now();
      device.queue.submit([commands]);
      await device.queue.onSubmittedWorkDone();
      const wallMs = performance.now() - t0;
      const t = new BigUint64Array(await readBuffer(device, resolve, 16));
      querySet.destroy();
      resolve.destroy();
      return { ticks: Number(t[1]! - t[0]!), wallMs };
    };
    let nsPerTick = tickCalibration.get(device);
    if (nsPerTick === undefined) {
      const short = Math.max(4, Math.min(100000, Math.round(100 / probe)));
      const long = Math.max(short * 2, Math.min(200000, Math.round(1000 / probe)));
      const ratios: number[] = [];
      for (let i = 0; i < 3; i++) {
        const a = await timed(short);
        const b = await timed(long);
        if (b.ticks > a.ticks) ratios.push(((b.wallMs - a.wallMs) * 1e6) / (b.ticks - a.ticks));
      }
      ratios.sort((x, y) => x - y);
      nsPerTick = ratios[Math.floor(ratios.length / 2)];
      if (nsPerTick !== undefined && nsPerTick > 0) tickCalibration.set(device, nsPerTick);
    }
    if (nsPerTick !== undefined && nsPerTick > 0) {
      const ticks: number[] = [];
      for (let s = 0; s < samples; s++) {
        const { ticks: t } = await timed(added);
        if (t > 0) ticks.push(t / added);
      }
      if (ticks.length > 0) {
        ticks.sort((a, b) => a - b);
        const samplesMs = ticks.map((t) => (t * nsPerTick!) / 1e6);
        const mid = Math.floor(ticks.length / 2);
        return {
          ms: samplesMs[mid]!,
          samplesMs,
          source: "timestamps",
          ticksPerRep: ticks[mid]!,
          nsPerTick,
        };
      }
    }
  }
  const samplesMs: number[] = [];
  for (let s = 0; s < samples; s++) {
    const small = await submit(base);
    const large = await submit(base + added);
    samplesMs.push(Math.max(0, (large - small) / added));
  }
  samplesMs.sort((a, b) => a - b);
  return { ms: samplesMs[Math.floor(samplesMs.length / 2)]!, samplesMs, source: "wall-slope" };
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

/**
 * Submits `count` repetitions of a dispatch list at once and waits: the wall time of one batch.
 *
 * @param device The device.
 * @param dispatches One repetition.
 * @param count Repetitions.
 * @param now The clock.
 * @returns Milliseconds for the batch, synchronisation included.
 */
export async function timeBatch(
  device: GPUDevice,
  dispatches: readonly Dispatch[],
  count: number,
  now: () => number = () => performance.now(),
): Promise<number> {
  const encoder = device.createCommandEncoder({ label: "batch" });
  const all: Dispatch[] = [];
  for (let i = 0; i < count; i++) all.push(...dispatches);
  encodePass(encoder, all);
  const t0 = now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return now() - t0;
}
