/**
 * The decode study's report: batch-1 decoding token by token on the project's kernels, per shape
 * and dtype — dense ms/token against the copy ceiling measured in the same run, and each sparse
 * method's speedup over that dense decode with its interval, its bits per character and its
 * agreement with dense greedy continuations where the model is a trained one.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";

const num = (v: unknown) => (typeof v === "number" ? v : Number(v));

function ci(c: CellResult): string {
  return c.speedup_ci_low !== null && c.speedup_ci_high !== null
    ? ` [${c.speedup_ci_low.toFixed(2)}, ${c.speedup_ci_high.toFixed(2)}]`
    : "";
}

function findings(cells: readonly CellResult[]): Finding[] {
  const done = cells.filter((c) => c.status === "completed" && c.extra.ms_per_token !== undefined);
  const groups = new Map<string, CellResult[]>();
  for (const c of done) {
    const k = `${c.target}|${c.extra.shape ?? c.model}|${c.extra.dtype ?? ""}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(c);
  }
  const out: Finding[] = [];
  for (const group of groups.values()) {
    const dense = group.find((c) => c.method === "dense");
    if (!dense) continue;
    const head = `${dense.suite} on ${dense.target}, ${dense.extra.shape ?? dense.model} ${
      dense.extra.dtype ?? ""
    }`;
    const roof = dense.extra.roofline_pct !== undefined
      ? `, ${num(dense.extra.roofline_pct).toFixed(0)} % of the copy ceiling`
      : "";
    const sparse = group.filter((c) => c.method !== "dense" && c.speedup !== null).map((c) =>
      `${c.method} ${c.sparsity_target !== null ? percentLabel(c.sparsity_target) : ""} ${
        c.speedup!.toFixed(2)
      }x${ci(c)}${c.accuracy !== null ? ` (${c.metric} ${c.accuracy.toFixed(3)})` : ""}`
    );
    out.push({
      text: `${head}: dense ${num(dense.extra.ms_per_token).toPrecision(3)} ms/token${roof}, ${
        dense.extra.dispatches_per_token ?? "?"
      } dispatches/token${
        dense.accuracy !== null ? `, ${dense.metric} ${dense.accuracy.toFixed(3)}` : ""
      }${sparse.length ? `; over that dense decode: ${sparse.join(", ")}` : ""}.`,
    });
  }
  // The engine against ORT on the same decode step (same shape and context).
  const shapeOf = (c: CellResult) => String(c.extra.shape ?? c.model);
  for (const peer of done.filter((c) => c.target !== "wgsl" && c.method === "dense")) {
    const ours = done.find((c) =>
      c.target === "wgsl" && c.method === "dense" && shapeOf(c) === shapeOf(peer) &&
      c.extra.context === peer.extra.context
    );
    if (!ours) continue;
    const oursMs = num(ours.extra.ms_per_token);
    const peerMs = num(peer.extra.ms_per_token);
    out.push({
      text: `${shapeOf(peer)} decode step at context ${peer.extra.context}: the engine's dense ${
        oursMs.toPrecision(3)
      } ms/token against ${peer.target}'s ${peerMs.toPrecision(3)} ms (${
        peerMs >= oursMs
          ? `${(peerMs / oursMs).toFixed(1)}x faster`
          : `${(oursMs / peerMs).toFixed(1)}x slower`
      }).`,
    });
  }
  return out;
}

/** The decode study. */
export const decodeReport: StudyReport = {
  name: "decode",
  covers: (id) => id === "decode",
  findings,
  omitCharts: ["flops"],
};
