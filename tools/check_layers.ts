/**
 * The layering gate: fails on an import cycle, on an import from a higher floor, and on a private
 * (`_`-prefixed) file imported from outside its folder, printing each offending import.
 *
 * Floors, from the ground up (a file may import its own floor or lower, never higher):
 *
 * | floor | folders |
 * | --- | --- |
 * | 0 | `lib/` |
 * | 1 | `kernels/`, `datasets/` |
 * | 2 | `src/` (the engine) |
 * | 3 | `methods/` |
 * | 4 | `suites/` |
 * | 5 | `cli/`, `mod.ts`, `models/`, `tools/` (entry points) |
 *
 * Tests (`*_test.ts`) may reach any floor (they wire real pieces together) but take part in the
 * cycle check like any other file.
 *
 * Usage: `deno run --allow-read tools/check_layers.ts [ROOT]`
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The floor of each top-level folder (or root file). */
export const FLOORS: Readonly<Record<string, number>> = {
  "lib": 0,
  "kernels": 1,
  "datasets": 1,
  "src": 2,
  "methods": 3,
  "suites": 4,
  "cli": 5,
  "mod.ts": 5,
  "models": 5,
  "tools": 5,
  "web": 5,
};

const SKIP = new Set([
  "node_modules",
  "results",
  "reports",
  ".cache",
  ".device",
  "_scratch",
  ".git",
]);

/** One import found in a file. */
export interface ImportEdge {
  /** The importing file, relative to the root. */
  from: string;
  /** The imported file, relative to the root. */
  to: string;
  /** 1-based line of the import. */
  line: number;
}

/** What the check found. */
export interface LayerReport {
  /** Imports from a higher floor, with why. */
  upward: (ImportEdge & { why: string })[];
  /** Imports of a private file from another folder. */
  privateUse: ImportEdge[];
  /** Import cycles, each as the list of files around it. */
  cycles: string[][];
  /** Files read. */
  files: number;
}

const IMPORT_RE =
  /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/**
 * The relative imports of a source text.
 *
 * @param text Source code.
 * @returns Each import's specifier and 1-based line.
 */
export function importsOf(text: string): { spec: string; line: number }[] {
  const out: { spec: string; line: number }[] = [];
  // Imports inside comments (a JSDoc `@example`) are not edges; blanking keeps line numbers.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec) continue;
    const line = code.slice(0, m.index).split("\n").length;
    out.push({ spec, line });
  }
  return out;
}

function floorOf(path: string): number | undefined {
  return FLOORS[path.split("/")[0]!];
}

function normalize(dir: string, spec: string): string {
  const parts = dir ? dir.split("/") : [];
  for (const p of spec.split("/")) {
    if (p === "." || p === "") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

async function listSources(root: string, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir ? `${root}/${dir}` : root)) {
    if (SKIP.has(e.name) || e.name.startsWith(".")) continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listSources(root, rel));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

/**
 * Strongly connected components of more than one file (or a file importing itself).
 *
 * @param graph Adjacency, file → imported files.
 * @returns The cycles.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/**
 * Checks the layering of a source tree.
 *
 * @param root The repository root.
 * @returns The findings.
 */
export async function checkLayers(root: string): Promise<LayerReport> {
  const files = await listSources(root);
  const graph = new Map<string, string[]>();
  const report: LayerReport = { upward: [], privateUse: [], cycles: [], files: files.length };
  for (const from of files) {
    const text = await Deno.readTextFile(`${root}/${from}`);
    const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
    const edges: string[] = [];
    for (const { spec, line } of importsOf(text)) {
      const to = normalize(dir, spec);
      if (!to.endsWith(".ts")) continue;
      edges.push(to);
      const edge = { from, to, line };
      const isTest = from.endsWith("_test.ts");
      const base = to.split("/").pop()!;
      const toDir = to.includes("/") ? to.slice(0, to.lastIndexOf("/")) : "";
      if (base.startsWith("_") && toDir !== dir && !isTest) report.privateUse.push(edge);
      if (isTest) continue;
      const ff = floorOf(from);
      const ft = floorOf(to);
      if (ff === undefined || ft === undefined) continue;
      if (ft > ff) {
        report.upward.push({ ...edge, why: `floor ${ff} imports floor ${ft}` });
      }
    }
    graph.set(from, edges);
  }
  report.cycles = findCycles(graph);
  return report;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? fileURLToPath(new URL("..", import.meta.url));
  const r = await checkLayers(root.replace(/\/+$/, ""));
  for (const e of r.upward) {
    console.error(`upward import: ${e.from}:${e.line} imports ${e.to} (${e.why})`);
  }
  for (const e of r.privateUse) {
    console.error(`private file used outside its folder: ${e.from}:${e.line} imports ${e.to}`);
  }
  for (const c of r.cycles) console.error(`import cycle: ${c.join(" -> ")}`);
  const bad = r.upward.length + r.privateUse.length + r.cycles.length;
  if (bad > 0) {
    console.error(
      `layers: ${bad} problem(s) in ${r.files} files; move the shared code down a floor (see tools/check_layers.ts)`,
    );
    Deno.exit(1);
  }
  console.log(`layers: ${r.files} files, no cycle, no upward or private import`);
}
