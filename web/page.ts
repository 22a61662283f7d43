/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The browser page of `deno task serve`: runs suites with the engine Deno runs (`runSuites`), on
 * the targets a browser has (ORT-web wasm and WebGPU, the WGSL kernels), with the model and the
 * dataset fetched from the server and checked against the suite's pins in the page (SubtleCrypto
 * sha256 of the model file, the decoded dataset hashed here). Progress shows on the page; the cells
 * are posted back for the server to write as `results/<run-id>/`, and offered as a download.
 *
 * Query: `suite=ID` (repeatable; default every suite of the embedded default, in their browser
 * forms: `web/browser_suites.ts`),
 * `target=ID` (repeatable; default every browser target), `variant=ID` (repeatable; default all),
 * `threads=N` (ORT-web wasm threads,
 * default 1 as in Deno), `autostart=1`, `post=0` (keep the run in the page).
 *
 * @module
 */

import { installConsoleTap } from "./console_tap.ts";
import * as ortWasm from "onnxruntime-web";
import * as ortWebGpu from "onnxruntime-web/webgpu";
import type { TargetId } from "../src/backend.ts";
import { acquireGpu, type AdapterFacts } from "../kernels/gpu_device.ts";
import type { Dataset } from "../datasets/types.ts";
import type { Progress } from "../src/run_progress.ts";
import { MemorySink } from "../src/run_sink.ts";
import { runSuites } from "../src/runner.ts";
import { getMethod } from "../methods/mod.ts";
import { BROWSER_SUITES, browserForm } from "./browser_suites.ts";
import { BROWSER_TARGETS, browserBackends } from "./page_backends.ts";
import { decodeDataset } from "./dataset_wire.ts";
import {
  type BrowserFacts,
  type BrowserRun,
  browserRunFiles,
  type RunContext,
} from "./run_files.ts";
import { tarFiles } from "./tar.ts";

installConsoleTap();
// The bundle is served from the page's folder; ORT's .wasm files from /ort/.
for (const env of [ortWasm.env, ortWebGpu.env]) {
  env.wasm.wasmPaths = new URL("/ort/", location.href).href;
}

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page has no #${id}`);
  return el;
};

/** The page's progress display; `suiteMs` gathers each suite's wall time from its cells' ends. */
function pageProgress(): Progress & { suiteMs: Record<string, number> } {
  let total = 0;
  let done = 0;
  const suiteMs: Record<string, number> = {};
  let last = performance.now();
  const bar = $("bar") as HTMLProgressElement;
  const status = $("status");
  const log = $("log");
  const started = performance.now();
  const line = (text: string) => {
    const li = document.createElement("li");
    li.textContent = text;
    log.append(li);
  };
  return {
    suiteMs,
    setTotal(n: number) {
      total = n;
      bar.max = Math.max(1, n);
      status.textContent = `${n} cells to run`;
    },
    tick(label: string) {
      done++;
      // Every tick's label starts with its suite's id.
      const suite = label.split(" ")[0]!;
      const now = performance.now();
      suiteMs[suite] = (suiteMs[suite] ?? 0) + (now - last);
      last = now;
      bar.value = done;
      const s = Math.round((performance.now() - started) / 1000);
      status.textContent = `${done}/${total} cells, ${s}s`;
      line(`done: ${label}`);
    },
    status(message: string) {
      status.textContent = `${done}/${total} cells: ${message}`;
    },
    log: line,
    done() {
      status.textContent = `${done}/${total} cells finished`;
    },
  };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadDataset(id: Dataset["id"]): Promise<Dataset> {
  return await decodeDataset(await fetchBytes(`/api/dataset/${encodeURIComponent(id)}`));
}

async function adapterFacts(): Promise<{ adapter: AdapterFacts | null; adapterError?: string }> {
  try {
    return { adapter: (await acquireGpu()).facts };
  } catch (e) {
    return { adapter: null, adapterError: (e as Error).message };
  }
}

async function runContext(runId: string): Promise<RunContext> {
  try {
    const info = await (await fetch("/api/info")).json();
    return { runId, environment: info.environment, suiteRecords: info.suites };
  } catch {
    return { runId, environment: { git: { commit: "unknown" } }, suiteRecords: [] };
  }
}

function offerDownload(files: Record<string, string>, runId: string): void {
  const entries: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) entries[`${runId}/${name}`] = text;
  const blob = new Blob([tarFiles(entries) as Uint8Array<ArrayBuffer>], {
    type: "application/x-tar",
  });
  const a = $("download") as HTMLAnchorElement;
  a.href = URL.createObjectURL(blob);
  a.download = `${runId}.tar`;
  a.hidden = false;
}

async function run(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const wanted = q.getAll("suite");
  const suites = wanted.length > 0
    ? wanted.map((id) => {
      const s = BROWSER_SUITES.find((x) => x.id === id);
      if (!s) {
        throw new Error(
          `Suite ${id} does not run in a browser (these do: ${
            BROWSER_SUITES.map((x) => x.id).join(", ")
          })`,
        );
      }
      return s;
    })
    : [...BROWSER_SUITES];
  const targets =
    (q.getAll("target").length > 0 ? q.getAll("target") : BROWSER_TARGETS) as TargetId[];
  const variants = q.getAll("variant");
  const wasmThreads = Number(q.get("threads") ?? "1");
  document.body.dataset.state = "running";
  const progress = pageProgress();
  const sink = new MemorySink();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const forms = suites.map(browserForm);
  const backends = await runSuites({
    suites: forms.map((f) => f.suite),
    targets,
    ...(variants.length > 0 ? { variants } : {}),
    quick: true,
    runDir: sink,
    progress,
    backend: browserBackends({ wasmThreads }),
    calibrationTarget: "ort-wasm",
    method: getMethod,
    dataset: loadDataset,
    readModel: (path) => fetchBytes(`/repo/${path}`),
  });
  progress.done();
  const browser: BrowserFacts = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
    wasmThreads,
    ...await adapterFacts(),
    page: location.search,
    substitutions: forms.flatMap((f) => f.substitutions),
  };
  const posted: BrowserRun = {
    startedAt,
    wallMs: performance.now() - t0,
    suiteWallMs: Object.fromEntries(
      Object.entries(progress.suiteMs).map(([k, v]) => [k, Math.round(v)]),
    ),
    quick: true,
    suites: suites.map((s) => s.id),
    cells: sink.cells,
    backends: backends as Record<string, unknown>,
    browser,
  };
  const stamp = startedAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const localId = `${stamp}-browser-${crypto.randomUUID().slice(0, 8)}`;
  offerDownload(browserRunFiles(posted, await runContext(localId)), localId);
  const summary = sink.cells.map((c) => `${c.target} ${c.method}: ${c.status}`).join("; ");
  $("summary").textContent = summary;
  if (q.get("post") === "0") {
    document.body.dataset.state = "done";
    return;
  }
  const res = await fetch("/api/runs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(posted),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`The server did not write the run: ${answer.error}`);
  $("result").textContent = `written: ${answer.path}`;
  document.body.dataset.runId = answer.runId;
  document.body.dataset.state = "posted";
}

function start(): void {
  ($("start") as HTMLButtonElement).disabled = true;
  run().catch((e) => {
    $("result").textContent = `error: ${(e as Error).message}`;
    document.body.dataset.error = (e as Error).message;
    document.body.dataset.state = "failed";
  });
}

$("start").addEventListener("click", start);
$("isolation").textContent = globalThis.crossOriginIsolated
  ? "cross-origin isolated (wasm threads available, 5 µs timers)"
  : "not cross-origin isolated (one wasm thread, coarse timers)";
if (new URLSearchParams(location.search).get("autostart") === "1") start();
