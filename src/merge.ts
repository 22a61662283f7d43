/**
 * Joining the shards of a run (`bench --shard K/N` on several machines) into one run: the shards
 * must come from the same code (git commit and dirty state), the same arguments and the same
 * suite files and pins, and be distinct shards of one partition; the merged run holds every cell
 * once and says which shards it came from. Missing shards and duplicated cells are reported.
 *
 * @module
 */

import type { CellResult } from "./result.ts";
import type { RunRecord } from "./run_record.ts";

/** One shard as read from its run folder. */
export interface ShardRun {
  /** run.json. */
  record: RunRecord;
  /** Its cells. */
  cells: CellResult[];
}

/** The merged run and what the merge found. */
export interface MergeResult {
  /** run.json of the merged run (without its new id). */
  record: Omit<RunRecord, "runId">;
  /** Every cell once. */
  cells: CellResult[];
  /** Shard indices of the partition that no run holds. */
  missingShards: number[];
  /** Keys of cells two shards both recorded (the later one is kept). */
  duplicated: string[];
}

function argsWithoutShard(r: RunRecord): string {
  const out: string[] = [];
  const args = r.commandLine.slice(3);
  for (let i = 0; i < args.length; i++) {
    if (["--shard", "--out", "--resume"].includes(args[i]!)) i++;
    else if (!/^--(shard|out|resume)=/.test(args[i]!)) out.push(args[i]!);
  }
  return out.join(" ");
}

/**
 * Merges shard runs.
 *
 * @param shards The shard runs, in any order.
 * @returns The merged run.
 * @throws {Error} When the runs are not shards of one run, saying what differs.
 */
export function mergeShards(shards: readonly ShardRun[]): MergeResult {
  if (shards.length === 0) throw new Error("Nothing to merge: give the shard run folders");
  const first = shards[0]!.record;
  const fingerprint = (r: RunRecord) => ({
    code: JSON.stringify(r.environment?.git ?? null),
    args: argsWithoutShard(r),
    suites: JSON.stringify(r.suites),
    count: r.shard?.count ?? 1,
  });
  const want = fingerprint(first);
  const seen = new Map<number, string>();
  for (const { record: r } of shards) {
    const got = fingerprint(r);
    if (got.code !== want.code) {
      throw new Error(
        `Cannot merge ${r.runId} with ${first.runId}: different code (${got.code} vs ${want.code}); run every shard from one commit`,
      );
    }
    if (got.args !== want.args) {
      throw new Error(
        `Cannot merge ${r.runId} with ${first.runId}: different arguments ("${got.args}" vs "${want.args}")`,
      );
    }
    if (got.suites !== want.suites) {
      throw new Error(
        `Cannot merge ${r.runId} with ${first.runId}: different suite files or pins`,
      );
    }
    if (got.count !== want.count) {
      throw new Error(
        `Cannot merge ${r.runId} with ${first.runId}: shards of ${got.count} and of ${want.count}`,
      );
    }
    const index = r.shard?.index ?? 1;
    const other = seen.get(index);
    if (other) {
      throw new Error(`Cannot merge: ${other} and ${r.runId} are both shard ${index}/${got.count}`);
    }
    seen.set(index, r.runId);
  }
  const cells = new Map<string, CellResult>();
  const duplicated: string[] = [];
  for (const s of shards) {
    for (const c of s.cells) {
      if (cells.has(c.key)) duplicated.push(c.key);
      cells.set(c.key, c);
    }
  }
  const missingShards = Array.from({ length: want.count }, (_, i) => i + 1).filter((i) =>
    !seen.has(i)
  );
  const backends: Record<string, unknown> = {};
  for (const s of shards) Object.assign(backends, s.record.backends);
  const { runId: _id, shard: _shard, ...rest } = first;
  return {
    record: {
      ...rest,
      status: shards.every((s) => s.record.status === "finished") ? "finished" : "running",
      wallMs: Math.max(...shards.map((s) => s.record.wallMs)),
      backends,
      mergedFrom: shards.map((s) => s.record.runId),
      sessions: shards.flatMap((s) => s.record.sessions ?? []),
    },
    cells: [...cells.values()],
    missingShards,
    duplicated,
  };
}
