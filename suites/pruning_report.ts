/**
 * The weight-pruning study's report (suites pruning-*): short method names, and findings that
 * set what unstructured and N:M sparsity buy in wall time (masked weights run dense matmuls)
 * against the structured methods whose sliced models are really smaller.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import { speedupText } from "../src/report/findings.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";
import { completed, maxBy } from "./_study_figures.ts";

const STRUCTURED = new Set(["sparsegpt-structured", "sparsegpt-structured-heads"]);

function name(c: CellResult): string | undefined {
  switch (c.method) {
    case "magnitude":
      return c.params.includes('"global"') ? "magnitude (global)" : "magnitude";
    case "wanda":
      return "Wanda";
    case "sparsegpt":
      return "SparseGPT";
    case "sparsegpt-nm": {
      const m = /"n":(\d+),"m":(\d+)/.exec(c.params);
      return m ? `SparseGPT ${m[1]}:${m[2]}` : "SparseGPT N:M";
    }
    case "sparsegpt-structured":
      return "structured OBS (FFN)";
    case "sparsegpt-structured-heads":
      return "structured OBS (heads)";
  }
  return undefined;
}

function label(c: CellResult): string | undefined {
  const n = name(c);
  if (!n) return undefined;
  return c.sparsity_target === null ? n : `${n} ${percentLabel(c.sparsity_target)}`;
}

function findings(cells: readonly CellResult[]): Finding[] {
  const suite = cells[0]?.suite ?? "";
  const sc = completed(cells).filter((c) => name(c) !== undefined && c.speedup !== null);
  const out: Finding[] = [];
  for (const target of [...new Set(sc.map((c) => c.target))]) {
    const tc = sc.filter((c) => c.target === target);
    const unstructured = tc.filter((c) => !STRUCTURED.has(c.method));
    const most = maxBy(unstructured, (c) => c.flops_reduction);
    const structured = maxBy(
      tc.filter((c) => STRUCTURED.has(c.method) && c.gate === "pass"),
      (c) => c.speedup,
    );
    const parts: string[] = [];
    if (most) {
      parts.push(
        `unstructured ${label(most)} saves ${most.flops_reduction!.toFixed(2)}x FLOPs and runs at ${
          speedupText(most)
        } (${most.gate === "pass" ? "passes" : "fails"} the quality gate)`,
      );
    }
    if (structured) {
      parts.push(
        `the fastest structured model within the gate, ${label(structured)}, runs at ${
          speedupText(structured)
        }`,
      );
    }
    if (parts.length > 0) out.push({ text: `${suite} on ${target}: ${parts.join("; ")}.` });
  }
  return out;
}

/** The weight-pruning study. */
export const pruningReport: StudyReport = {
  name: "weight pruning",
  covers: (id) => id.startsWith("pruning-"),
  label,
  findings,
  densityMeaning: "fraction of nonzero weights per layer",
};
