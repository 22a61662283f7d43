/**
 * GPU timing that keeps Deno's ~10 ms synchronisation floor out of the figures, for the kernels
 * suite and the `wgsl` target alike. Two methods:
 *
 * - **timestamps** (GPUs): a sample is the ticks between two timestamps around one batch of
 *   repetitions in one compute pass, converted with a tick length calibrated once per device
 *   against wall time over batches of about 0.1 s and 1 s (median of three; Deno's sleep in
 *   `onSubmittedWorkDone` quantises wall times, so short batches cannot calibrate);
 * - **wall slope** (CPU adapters, and whenever timestamps are off): a sample is
 *   (T(b + r) − T(b)) / r over two batch sizes, each submitted at once and ended by one
 *   synchronisation, so the constant sleep cancels. The shared device leaves timestamps off on
 *   CPU adapters (llvmpipe's read ~8 % above the wall slope; see `gpu_device.ts`).
 *
 * @module
 */

import { type Dispatch, encodePass, readBuffer } from "./host.ts";

/** A kernel time measurement. */
export interface KernelTime {
  /** Median milliseconds per repetition. */
  ms: number;
  /** Each sample, ms per repetition, ascending. */
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

/** One sample of a {@linkcode DispatchSampler}. */
export interface DispatchSample {
  /** Milliseconds per repetition. */
  ms: number;
  /** How this sample was taken. */
  source: KernelTime["source"];
  /** GPU ticks per repetition, with timestamps. */
  ticksPerRep?: number;
}

/** Takes samples of one list of repetitions, its batch size fixed when it was created. */
export interface DispatchSampler {
  /** Repetitions per timed batch. */
  batch: number;
  /** Nanoseconds per tick, when samples come from timestamps. */
  nsPerTick?: number;
  /**
   * One sample.
   *
   * @param now The clock of the wall-slope method (ms); timestamps ignore it.
   * @returns The sample.
   */
  sample(now?: () => number): Promise<DispatchSample>;
}

const tickCalibration = new WeakMap<GPUDevice, number>();

/**
 * Prepares the sampling of a sequence of dispatches (one "repetition"): warms them up, sizes
 * the batch so that it runs for about `targetMs`, and, with `timestamps` (asked for and on the
 * device), calibrates the tick length once per device.
 *
 * @param device The device.
 * @param reps Repetitions; each is a list of dispatches (several rotate buffers).
 * @param options `targetMs` for a batch (default 50), `timestamps` to use GPU timestamps where
 *   the device has them, `preRoll` to run an untimed batch of the same repetitions just before
 *   each timed one (in the same submission, so the GPU is at speed when timing starts; only for
 *   repetitions that can run more often than asked).
 * @returns The sampler.
 */
export async function createDispatchSampler(
  device: GPUDevice,
  reps: readonly (readonly Dispatch[])[],
  options: { targetMs?: number; timestamps?: boolean; preRoll?: boolean } = {},
): Promise<DispatchSampler> {
  const encodeBatch = (count: number, timestampWrites?: GPUComputePassTimestampWrites) => {
    const encoder = device.createCommandEncoder({ label: "timed batch" });
    const all: Dispatch[] = [];
    for (let i = 0; i < count; i++) all.push(...reps[i % reps.length]!);
    encodePass(encoder, all, timestampWrites);
    return encoder;
  };
  const submit = async (count: number, now: () => number): Promise<number> => {
    const commands = encodeBatch(count).finish();
    const t0 = now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    return now() - t0;
  };
  const wall = () => performance.now();
  await submit(2, wall);
  const base = 2;
  const probe = Math.max(0.001, (await submit(base + 8, wall)) - (await submit(base, wall))) / 8;
  const added = Math.max(4, Math.min(20000, Math.round((options.targetMs ?? 50) / probe)));
  const wallSlope = async (now: () => number): Promise<DispatchSample> => {
    const small = await submit(base, now);
    const large = await submit(base + added, now);
    return { ms: Math.max(0, (large - small) / added), source: "wall-slope" };
  };
  const slopeOnly: DispatchSampler = { batch: added, sample: (now = wall) => wallSlope(now) };
  if (!options.timestamps || !device.features.has("timestamp-query")) return slopeOnly;

  // A GPU left idle for a few milliseconds (every sync sleeps ~10 ms in Deno; the host may have
  // spent seconds preparing the next shape) lowers its clocks, and a batch of tens of
  // microseconds per repetition ends before they are back up: the H200 read the same f16 GEMV at
  // 26 µs in one call and 87 µs in the next. So a sample's batch is preceded, in the same
  // submission, by an untimed batch of the same work (`preRoll`), and the timed pass starts on a
  // busy GPU, for at least ~100 ms (a 20 ms pre-roll after seconds of host work still left the
  // H200 timing a pass with its reduce faster than the pass alone). Only for repetitions that may run twice as often as asked (a kernel, not a
  // decode step that advances a cache).
  const preRollReps = Math.max(4, Math.min(200000, Math.round(100 / probe)));
  const timed = async (count: number, preRoll = false) => {
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
    const commands = preRoll
      ? [encodeBatch(Math.max(count, preRollReps)).finish(), encoder.finish()]
      : [encoder.finish()];
    const t0 = performance.now();
    device.queue.submit(commands);
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
  if (nsPerTick === undefined || !(nsPerTick > 0)) return slopeOnly;
  const tick = nsPerTick;
  return {
    batch: added,
    nsPerTick: tick,
    async sample(now = wall): Promise<DispatchSample> {
      const { ticks } = await timed(added, options.preRoll ?? false);
      // A batch whose timestamps did not advance (a driver that drops them) falls back.
      if (!(ticks > 0)) return await wallSlope(now);
      return { ms: (ticks / added) * tick / 1e6, source: "timestamps", ticksPerRep: ticks / added };
    },
  };
}

/**
 * Times a sequence of dispatches (one "repetition"): `samples` samples of a
 * {@linkcode createDispatchSampler}, their median.
 *
 * @param device The device.
 * @param reps Repetitions to time; each is a list of dispatches (several allow rotating buffers).
 * @param options `samples` (default 5), `targetMs` for a batch (default 50), `timestamps` to
 *   use GPU timestamps where the device has them, `preRoll` (see
 *   {@linkcode createDispatchSampler}).
 * @returns The time per repetition.
 */
export async function timeDispatches(
  device: GPUDevice,
  reps: readonly (readonly Dispatch[])[],
  options: { samples?: number; targetMs?: number; timestamps?: boolean; preRoll?: boolean } = {},
): Promise<KernelTime> {
  const sampler = await createDispatchSampler(device, reps, options);
  const taken: DispatchSample[] = [];
  for (let s = 0; s < (options.samples ?? 5); s++) taken.push(await sampler.sample());
  // As before the samplers were shared: a batch whose timestamps failed is left out, and only
  // when every one failed do the (wall-slope) fallbacks make the figure.
  const stampedOnly = taken.filter((t) => t.source === "timestamps");
  const stamped = stampedOnly.length > 0;
  if (stamped) taken.splice(0, taken.length, ...stampedOnly);
  taken.sort((a, b) => a.ms - b.ms);
  const mid = taken[Math.floor(taken.length / 2)]!;
  return {
    ms: mid.ms,
    samplesMs: taken.map((t) => t.ms),
    source: stamped ? "timestamps" : "wall-slope",
    ...(stamped ? { ticksPerRep: mid.ticksPerRep!, nsPerTick: sampler.nsPerTick! } : {}),
  };
}
