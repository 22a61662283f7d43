/**
 * SDR overlap on the GPU: host for `sdr_overlap.wgsl` (dense bit-set and sparse index-list
 * forms), random SDRs and segments, and the CPU reference.
 *
 * @module
 */

import sdrSource from "./sdr_overlap.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  grid,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
  writeArray,
} from "./host.ts";
import type { Rng } from "../lib/prng.ts";

/**
 * `count` distinct cells out of `n`, ascending (Floyd's sampling).
 *
 * @param n Population.
 * @param count How many.
 * @param rng Random source.
 * @returns Sorted indices.
 */
export function randomCells(n: number, count: number, rng: Rng): Uint32Array {
  const chosen = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Uint32Array.from([...chosen].sort((x, y) => x - y));
}

/**
 * Bit sets (u32 words) of several index lists.
 *
 * @param lists Index lists.
 * @param words Words per set.
 * @returns Concatenated bit sets.
 */
export function toBitsets(lists: readonly Uint32Array[], words: number): Uint32Array {
  const out = new Uint32Array(lists.length * words);
  lists.forEach((l, i) => {
    for (const c of l) out[i * words + (c >>> 5)]! |= 1 << (c & 31);
  });
  return out;
}

/**
 * CPU reference: the overlap of an SDR with a segment.
 *
 * @param sdr Active cells.
 * @param segment Synapse cells.
 * @returns |sdr ∩ segment|.
 */
export function overlapCpu(sdr: Uint32Array, segment: Uint32Array): number {
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < sdr.length && j < segment.length) {
    if (sdr[i] === segment[j]) {
      o++;
      i++;
      j++;
    } else if (sdr[i]! < segment[j]!) i++;
    else j++;
  }
  return o;
}

/** An overlap kernel ready to run. */
export interface SdrOverlapInstance {
  /** The dispatch. */
  dispatch: Dispatch;
  /** Uploads SDRs (index lists) and segments (index lists) and clears the match counts. */
  upload(sdrs: readonly Uint32Array[], segments: readonly Uint32Array[]): void;
  /** Matches per segment. */
  readMatches(): Promise<Uint32Array>;
  /** Every overlap (when created with `writeOverlaps`). */
  readOverlaps(): Promise<Uint32Array>;
  /** Bytes the kernel reads per run. */
  bytesPerRun: number;
  /** Bit operations (dense) or lookups (sparse) per overlap: n/32·32 = n or a. */
  opsPerOverlap: number;
}

/**
 * Creates an overlap kernel.
 *
 * @param device The device.
 * @param options Population n, active cells a, batch sizes, threshold, form, pairing.
 * @returns The instance.
 */
export async function createSdrOverlap(
  device: GPUDevice,
  options: {
    n: number;
    a: number;
    numSdr: number;
    numSeg: number;
    theta: number;
    sparse: boolean;
    paired: boolean;
    writeOverlaps?: boolean;
  },
): Promise<SdrOverlapInstance> {
  const words = Math.ceil(options.n / 32);
  const pairs = options.paired ? options.numSdr : options.numSdr * options.numSeg;
  const sdrWords = options.sparse ? options.a : words;
  const label = `sdr ${options.sparse ? "sparse" : "dense"} n=${options.n}`;
  const sdrs = storageBuffer(device, `${label} sdrs`, options.numSdr * sdrWords * 4);
  const segs = storageBuffer(device, `${label} segments`, options.numSeg * words * 4);
  const matches = storageBuffer(device, `${label} matches`, options.numSeg * 4);
  const overlaps = storageBuffer(
    device,
    `${label} overlaps`,
    options.writeOverlaps ? pairs * 4 : 4,
  );
  const dims = uniformBuffer(
    device,
    `${label} dims`,
    packUniform([
      { u32: options.numSdr },
      { u32: options.numSeg },
      { u32: words },
      { u32: options.a },
      { u32: options.theta },
      { u32: 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  const pipeline = await createPipeline(device, {
    label,
    code: sdrSource,
    constants: {
      SPARSE: options.sparse ? 1 : 0,
      PAIRED: options.paired ? 1 : 0,
      WRITE_OVERLAPS: options.writeOverlaps ? 1 : 0,
    },
  });
  const g = grid(Math.ceil(pairs / 64));
  return {
    dispatch: {
      pipeline,
      bindGroup: bindAll(device, pipeline, label, [sdrs, segs, matches, overlaps, dims]),
      workgroups: [g[0], g[1], 1],
    },
    upload(sdrLists, segLists) {
      if (sdrLists.some((l) => l.length !== options.a)) {
        throw new RangeError(`Every SDR must have a=${options.a} active cells`);
      }
      writeArray(
        device,
        sdrs,
        options.sparse
          ? Uint32Array.from(sdrLists.flatMap((l) => [...l]))
          : toBitsets(sdrLists, words),
      );
      writeArray(device, segs, toBitsets(segLists, words));
      writeArray(device, matches, new Uint32Array(options.numSeg));
    },
    async readMatches() {
      return new Uint32Array(await readBuffer(device, matches, options.numSeg * 4));
    },
    async readOverlaps() {
      return new Uint32Array(await readBuffer(device, overlaps, pairs * 4));
    },
    bytesPerRun: pairs * (sdrWords + words) * 4,
    opsPerOverlap: options.sparse ? options.a : options.n,
  };
}
