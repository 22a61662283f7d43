/**
 * `deno task serve`: a local server (Deno.serve, 127.0.0.1) with a page that runs the browser
 * suites with the engine Deno runs (`web/page.ts`, bundled by `deno bundle` at start). It serves
 * the page, ORT-web's wasm files, the suites' model files and their datasets (decoded here, hashed
 * again in the page), and writes what the page posts back as an ordinary run folder,
 * `results/<run-id>/`, with its HTML report. Every response carries COOP/COEP, so the page is
 * cross-origin isolated (ORT-web's wasm threads, 5 µs timers) and the run records that it was.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadDataset } from "../datasets/mod.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { oneLine } from "../lib/one_line.ts";
import { captureEnvironment } from "../src/environment.ts";
import { toCell } from "../src/journal.ts";
import type { CellResult } from "../src/result.ts";
import { RunDir } from "../src/run_dir.ts";
import { writeRunReport } from "../src/report/run_report.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
import { SUITES } from "../suites/mod.ts";
import { BROWSER_SUITES } from "../web/browser_suites.ts";
import { encodeDataset } from "../web/dataset_wire.ts";
import { type BrowserRun, browserRunFiles } from "../web/run_files.ts";
import { suiteRecords } from "./bench.ts";

const HELP = `Usage: deno task serve [--port N] [--out DIR]

Serves a page that runs the browser suites (${
  BROWSER_SUITES.map((s) => s.id).join(", ")
}) in your browser with the
engine Deno runs: ORT-web wasm and WebGPU, and the WGSL kernels where the browser has WebGPU.
Open the printed address; the page posts its run back and the server writes results/<run-id>/.

Options:
  --port N    port on 127.0.0.1 (default 8417; 0 picks a free one)
  --out DIR   parent folder of run folders (default: results)
  --help      show this help`;

/** Headers on every response: cross-origin isolation, and nothing cached between runs. */
const ISOLATION: Record<string, string> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  wasm: "application/wasm",
  onnx: "application/octet-stream",
  json: "application/json",
};

/** A running server. */
export interface PageServer {
  /** The page's address, e.g. "http://127.0.0.1:8417/". */
  url: string;
  /** Stops it. */
  shutdown(): Promise<void>;
}

/** Where the page bundle is written. */
const BUNDLE = `${REPO_ROOT}.cache/web/page.js`;

/**
 * Bundles `web/page.ts` for the browser with `deno bundle` (onnxruntime-node stays out: the
 * engine imports it only on paths a page never takes).
 *
 * @returns The bundle's path.
 * @throws {Error} With deno's message when bundling fails.
 */
export async function bundlePage(): Promise<string> {
  await Deno.mkdir(`${REPO_ROOT}.cache/web`, { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--external",
      "onnxruntime-node",
      "-o",
      BUNDLE,
      `${REPO_ROOT}web/page.ts`,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle web/page.ts failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return BUNDLE;
}

function respond(body: BodyInit | null, status: number, type: string): Response {
  return new Response(body, { status, headers: { ...ISOLATION, "content-type": type } });
}

function json(value: unknown, status = 200): Response {
  return respond(JSON.stringify(value), status, TYPES.json!);
}

async function file(path: string): Promise<Response> {
  const ext = path.slice(path.lastIndexOf(".") + 1);
  try {
    return respond(await Deno.readFile(path), 200, TYPES[ext] ?? "application/octet-stream");
  } catch {
    return respond(`not found: ${path.slice(REPO_ROOT.length)}`, 404, "text/plain");
  }
}

/** The suite records the page's runs carry (the same as `bench` writes), computed once. */
async function browserSuiteRecords(): Promise<Record<string, unknown>[]> {
  const ids = new Set(BROWSER_SUITES.map((s) => s.id));
  return await suiteRecords(SUITES.filter((s) => ids.has(s.suite.id)));
}

function isMsRecord(v: unknown): v is Record<string, number> {
  return !!v && typeof v === "object" &&
    Object.values(v).every((x) => typeof x === "number" && Number.isFinite(x));
}

/**
 * Checks a posted run: cells that are cells, of the browser suites only, every cell's pins the
 * suite's own (the page checked them; the server does not take its word for what they were).
 */
function checkPosted(value: unknown): BrowserRun {
  const bad = (why: string) => new Error(`The posted run is not a browser run: ${why}`);
  if (!value || typeof value !== "object") throw bad("not a JSON object");
  const r = value as Partial<BrowserRun>;
  if (!Array.isArray(r.cells)) throw bad(`no "cells" list`);
  if (!r.browser || typeof r.browser.userAgent !== "string") throw bad(`no "browser" facts`);
  if (typeof r.startedAt !== "string" || typeof r.wallMs !== "number") throw bad("no timing");
  const cells: CellResult[] = [];
  for (const [i, c] of r.cells.entries()) {
    const cell = toCell(c);
    if (typeof cell === "string") throw bad(`cell ${i}: ${cell}`);
    const suite = BROWSER_SUITES.find((s) => s.id === cell.suite);
    if (!suite) throw bad(`cell ${i}: suite ${cell.suite} is not a browser suite`);
    if (
      suite.kind === "model" &&
      (cell.model_sha256 !== suite.model.sha256 || cell.dataset_hash !== suite.dataset.hash)
    ) {
      throw bad(`cell ${i}: its model or dataset is not the one suite ${suite.id} pins`);
    }
    cells.push(cell);
  }
  return {
    startedAt: r.startedAt,
    wallMs: r.wallMs,
    ...(isMsRecord(r.suiteWallMs) ? { suiteWallMs: r.suiteWallMs } : {}),
    quick: r.quick === true,
    suites: (r.suites ?? []).filter((s) => BROWSER_SUITES.some((b) => b.id === s)),
    cells,
    backends: r.backends && typeof r.backends === "object" ? r.backends : {},
    browser: r.browser,
  };
}

/**
 * Starts the server.
 *
 * @param options `port` (0: a free one), `out` (parent of run folders), `reportsDir` (where run
 *   reports go; default `reports/`), `log` (a line per run written; default console.log).
 * @returns The running server.
 */
export async function startServer(
  options: { port: number; out: string; reportsDir?: string; log?: (line: string) => void },
): Promise<PageServer> {
  const log = options.log ?? ((l: string) => console.log(l));
  const bundle = await bundlePage();
  const environment = await captureEnvironment(REPO_ROOT);
  const records = await browserSuiteRecords();
  const ortDir = `${REPO_ROOT}node_modules/onnxruntime-web/dist/`;
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    try {
      if (req.method === "POST" && path === "/api/runs") {
        const run = checkPosted(await req.json());
        const dir = await RunDir.createNew(options.out);
        try {
          for (const c of run.cells) await dir.record(c);
          // The records of the suites the page ran, not of every suite it could have.
          const suiteRecords = records.filter((r) => run.suites.includes(String(r.id)));
          const files = browserRunFiles(run, { runId: dir.id, environment, suiteRecords });
          for (const name of ["results.csv", "results.json", "run.json"]) {
            await dir.writeAtomic(name, files[name]!);
          }
        } finally {
          await dir.close();
        }
        let report = "";
        try {
          report = await writeRunReport(dir.path, {
            studies: STUDY_REPORTS,
            ...(options.reportsDir ? { reportsDir: options.reportsDir } : {}),
          });
        } catch (e) {
          log(`warning: no HTML report (${oneLine(e)}); run \`deno task report ${dir.path}\``);
        }
        log(`results: ${dir.path}${report ? ` (report: ${report})` : ""}`);
        return json({ runId: dir.id, path: dir.path, report });
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        return json({ error: "only GET and POST /api/runs" }, 405);
      }
      if (path === "/" || path === "/index.html") return await file(`${REPO_ROOT}web/index.html`);
      if (path === "/page.css") return await file(`${REPO_ROOT}web/page.css`);
      if (path === "/favicon.ico") return respond(null, 204, "image/x-icon");
      if (path === "/page.js") return await file(bundle);
      if (path === "/api/info") return json({ environment, suites: records });
      const ort = path.match(/^\/ort\/(ort-wasm[\w.-]*\.(?:wasm|mjs))$/);
      if (ort) return await file(`${ortDir}${ort[1]}`);
      const model = path.match(/^\/repo\/(models\/[\w.-]+\.onnx)$/);
      if (model && !model[1]!.includes("..")) return await file(`${REPO_ROOT}${model[1]}`);
      const data = path.match(/^\/api\/dataset\/([\w-]+)$/);
      if (data) {
        const id = data[1]!;
        if (!BROWSER_SUITES.some((s) => s.kind === "model" && s.dataset.id === id)) {
          return json({ error: `dataset ${id} is not one a browser suite uses` }, 404);
        }
        const d = await loadDataset(id as Parameters<typeof loadDataset>[0]);
        if (d.kind !== "image" && d.kind !== "text") {
          return json({ error: `dataset ${id} is neither images nor text` }, 415);
        }
        return respond(encodeDataset(d) as Uint8Array<ArrayBuffer>, 200, TYPES.onnx!);
      }
      return respond(`not found: ${path}`, 404, "text/plain");
    } catch (e) {
      return json({ error: oneLine(e) }, 400);
    }
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port,
    onListen: () => {},
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    shutdown: () => server.shutdown(),
  };
}

/**
 * Parses the command line and serves until interrupted.
 *
 * @param args Command-line arguments.
 * @returns Exit code (when it does not serve).
 */
export async function main(args: string[]): Promise<number> {
  let values: { port: string; out: string; help: boolean };
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", default: "8417" },
        out: { type: "string", default: "results" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values as typeof values;
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Error: --port "${values.port}" is not a port number (0-65535)`);
    return 2;
  }
  let server: PageServer;
  try {
    server = await startServer({ port, out: values.out });
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return 1;
  }
  console.log(`serving ${server.url} (Ctrl-C stops)`);
  await new Promise(() => {});
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
