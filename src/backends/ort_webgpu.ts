/**
 * The `ort-webgpu` target: onnxruntime-web's WebGPU execution provider on Deno's `navigator.gpu`.
 *
 * Deno sleeps about 10 ms inside every `mapAsync`, so any run whose outputs are read back costs at
 * least 10 ms. Outputs therefore stay on the GPU (`preferredOutputLocation: "gpu-buffer"`) and a
 * timing sample is the slope between a batch of 1 run and a batch of 1 + K runs, each ended by one
 * read-back: (T(1 + K) − T(1)) / K. The floor cancels; the single-run latency with read-back is
 * reported separately as `sync_latency_ms`.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, TensorMap } from "../backend.ts";
import { acquireGpu } from "../../kernels/gpu_device.ts";
import type { Clock, Sampler } from "../timing.ts";
import { wallClock } from "../timing.ts";
import {
  createTimed,
  fromOrtTensor,
  type OrtModuleLike,
  type OrtTensorLike,
  toOrtFeeds,
} from "./_ort_cpu_session.ts";
import { oneLine } from "../../lib/one_line.ts";
import { parsePlacement } from "./_ort_placement.ts";

/** Runs `fn` while capturing (and silencing) what ORT logs; see `_ort_log_tap.ts`. */
export type OrtLogTap = <T>(fn: () => Promise<T>) => Promise<{ result: T; lines: string[] }>;
type OrtWeb = typeof import("onnxruntime-web/webgpu");

/** Ops ORT may place on the CPU on purpose (shape arithmetic); their fallback is only a warning. */
const SHAPE_OPS = new Set([
  "Shape",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Slice",
  "Cast",
  "Reshape",
  "ConstantOfShape",
  "Range",
  "Equal",
  "Where",
  "Expand",
  "Size",
  "Mul",
  "Add",
  "Sub",
  "Div",
]);

/** Target time of the K-run batch of a slope sample, in ms. */
const BATCH_TARGET_MS = 50;

/** onnxruntime-web with the WebGPU execution provider. */
export class OrtWebGpuBackend implements Backend {
  /** Target id. */
  readonly id = "ort-webgpu" as const;
  #ort: OrtWeb | undefined;
  readonly #logTap: OrtLogTap;

  /**
   * Creates the backend.
   *
   * @param options `logTap`, how ORT's log is read for its node-placement report (Deno: at
   *   `node:fs`, `captureOrtLog`; a browser page: at `console`).
   */
  constructor(options: { logTap: OrtLogTap }) {
    this.#logTap = options.logTap;
  }

  async #module(): Promise<OrtWeb> {
    if (!this.#ort) {
      const ort = await import("onnxruntime-web/webgpu");
      ort.env.logLevel = "error";
      this.#ort = ort;
    }
    return this.#ort;
  }

  /** @returns Why WebGPU cannot run here, or undefined. */
  async probe(): Promise<string | undefined> {
    try {
      await acquireGpu();
      await this.#module();
      return undefined;
    } catch (e) {
      return oneLine(e);
    }
  }

  /** @returns The identity, with the adapter's facts. */
  async identity(): Promise<BackendIdentity> {
    const ort = await this.#module();
    const gpu = await acquireGpu();
    return {
      target: this.id,
      device: `${gpu.facts.description}${gpu.facts.isFallbackAdapter ? " (software adapter)" : ""}`,
      runtime: `onnxruntime-web ${ort.env.versions.web} (webgpu)`,
      adapter: gpu.facts,
    };
  }

  /**
   * Loads a model, first checking with ORT's verbose placement report that every compute node
   * runs on the WebGPU execution provider.
   *
   * @param model ONNX bytes.
   * @param options Label and first-run feeds.
   * @returns The loaded model.
   * @throws {Error} When compute nodes fall back to the CPU.
   */
  async load(
    model: Uint8Array,
    options: { label: string; feeds: TensorMap },
  ): Promise<LoadedModel> {
    const ort = await this.#module();
    const { device } = await acquireGpu();
    const ep = { name: "webgpu" as const, device };
    const warnings: string[] = [];

    const { lines } = await this.#logTap(async () => {
      try {
        const probe = await ort.InferenceSession.create(model, {
          executionProviders: [ep],
          logSeverityLevel: 0,
          logVerbosityLevel: 0,
        });
        await probe.release();
      } catch (e) {
        throw new Error(`Cannot load model ${options.label} on WebGPU: ${oneLine(e)}`);
      }
    });
    const placement = parsePlacement(lines);
    const others = placement.providers.filter((p) => p !== "WebGpuExecutionProvider");
    if (others.length > 0) {
      const ops = others.flatMap((p) => placement.opsByProvider[p] ?? []);
      const compute = ops.filter((op) => !SHAPE_OPS.has(op));
      const list = [...new Set(ops)].join(", ") || "unlisted ops";
      if (compute.length > 0 || ops.length === 0) {
        throw new Error(
          `Model ${options.label}: ORT placed nodes on ${
            others.join(", ")
          } instead of WebGPU (${list}); the figure would not measure WebGPU`,
        );
      }
      warnings.push(
        `ORT placed shape ops on ${others.join(", ")} (${list}); they do not carry tensor data`,
      );
    }

    const { session, coldMs } = await createTimed(
      () =>
        ort.InferenceSession.create(model, {
          executionProviders: [ep],
          preferredOutputLocation: "gpu-buffer",
          logSeverityLevel: 3,
        }),
      options.label,
      async (s) =>
        disposeAll(
          await s.run(toOrtFeeds(ort as unknown as OrtModuleLike, options.feeds) as never),
        ),
    );

    const runToHost = async (feeds: TensorMap): Promise<TensorMap> => {
      const out = await session.run(
        toOrtFeeds(ort as unknown as OrtModuleLike, feeds) as never,
      ) as Record<
        string,
        OrtTensorLike
      >;
      const result: TensorMap = {};
      for (const [name, t] of Object.entries(out)) {
        const data = await t.getData!(true);
        result[name] = fromOrtTensor(name, { type: t.type, data, dims: t.dims });
      }
      return result;
    };

    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      coldMs,
      warnings,
      run: runToHost,
      sampler(feeds: TensorMap, label: string): Sampler {
        const ortFeeds = toOrtFeeds(ort as unknown as OrtModuleLike, feeds) as never;
        const timeBatch = async (n: number, clock: Clock): Promise<number> => {
          const t0 = clock.now();
          let last: Record<string, OrtTensorLike> | undefined;
          for (let i = 0; i < n; i++) {
            if (last) disposeAll(last);
            last = await session.run(ortFeeds) as Record<string, OrtTensorLike>;
          }
          // One read-back waits for all submitted work: the synchronisation point of the batch.
          const first = Object.values(last!)[0]!;
          await first.getData!();
          const elapsed = clock.now() - t0;
          disposeAll(last!);
          return elapsed;
        };
        let k: number | undefined;
        return {
          label,
          async sample(clock: Clock = wallClock): Promise<number> {
            if (k === undefined) {
              const one = await timeBatch(2, wallClock) - await timeBatch(1, wallClock);
              k = Math.max(1, Math.min(200, Math.ceil(BATCH_TARGET_MS / Math.max(one, 0.01))));
            }
            const t1 = await timeBatch(1, clock);
            const tk = await timeBatch(1 + k, clock);
            return Math.max(0, (tk - t1) / k);
          },
        };
      },
      async syncLatencyMs(feeds: TensorMap): Promise<number> {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await runToHost(feeds);
          times.push(performance.now() - t0);
        }
        return times.sort((a, b) => a - b)[1]!;
      },
      release: () => session.release(),
    };
  }
}

function disposeAll(outputs: Record<string, OrtTensorLike>): void {
  for (const t of Object.values(outputs)) t.dispose?.();
}
