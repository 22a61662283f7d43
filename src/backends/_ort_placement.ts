/**
 * Reads ORT's verbose "Node placements" report, which tells whether any node fell back from the
 * WebGPU execution provider to the CPU one. How the log is captured depends on the runtime
 * (`_ort_log_tap.ts` in Deno, the page's console tap in a browser).
 *
 * @module
 */

/** Where ORT placed nodes, parsed from its verbose "Node placements" report. */
export interface Placement {
  /** Execution providers that received nodes. */
  providers: string[];
  /** Op types of the nodes placed on each provider (when ORT lists them). */
  opsByProvider: Record<string, string[]>;
}

/**
 * Parses ORT's verbose node-placement report.
 *
 * @param lines Captured log lines.
 * @returns The placement; empty when ORT printed no report.
 */
export function parsePlacement(lines: readonly string[]): Placement {
  const opsByProvider: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of lines) {
    const m = line.match(/placed on \[(\w+)\]/);
    if (m) {
      current = m[1]!;
      opsByProvider[current] ??= [];
      continue;
    }
    const node = line.match(/VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/);
    if (node && current) opsByProvider[current]!.push(node[1]!);
  }
  return { providers: Object.keys(opsByProvider), opsByProvider };
}
