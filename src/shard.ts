/**
 * Sharding a run across machines: the run's work is cut into units (a model suite's variant on
 * all of its targets, so a variant is prepared and calibrated once; a custom suite's cell), each
 * unit gets an estimated cost from what the suites declare (evaluation samples, timing budgets),
 * and the units are dealt to shards by longest-processing-time-first with ties broken by key. The
 * partition depends only on the code and the arguments, so every machine computes the same one.
 *
 * @module
 */

/** Which share of the run this process works: shard `index` of `count`, 1-based. */
export interface ShardSpec {
  /** 1-based shard index. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** A unit of work with its estimated cost. */
export interface WorkUnit {
  /** Stable key (the same on every machine). */
  key: string;
  /** Estimated cost, seconds (only the ratios matter). */
  costS: number;
}

/**
 * Parses `K/N`.
 *
 * @param text E.g. "2/4".
 * @returns The shard.
 * @throws {RangeError} Naming the form it wants.
 */
export function parseShard(text: string): ShardSpec {
  const m = text.match(/^(\d+)\/(\d+)$/);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new RangeError(`--shard "${text}" is not K/N with 1 <= K <= N, e.g. --shard 2/4`);
  }
  return { index, count };
}

/**
 * Deals units to shards: the costliest unit first, each to the least loaded shard (the lowest
 * index on a tie), so shards end with similar estimated cost.
 *
 * @example
 * ```ts
 * import { assignShards } from "./shard.ts";
 * const owner = assignShards([{ key: "a", costS: 3 }, { key: "b", costS: 2 }, { key: "c", costS: 1 }], 2);
 * console.log(owner); // a on shard 1; b and c on shard 2
 * ```
 *
 * @param units The run's units.
 * @param count Number of shards.
 * @returns The 1-based shard of each unit key.
 */
export function assignShards(units: readonly WorkUnit[], count: number): Map<string, number> {
  const order = [...units].sort((a, b) => b.costS - a.costS || (a.key < b.key ? -1 : 1));
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  for (const u of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += u.costS;
    out.set(u.key, best + 1);
  }
  return out;
}
