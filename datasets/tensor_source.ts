/**
 * Tensor datasets for a user's model, rebuilt from a {@linkcode DatasetSource}: a folder of `.npy`
 * arrays named after the graph inputs (plus optional `labels.npy`), seeded random inputs, or a
 * shipped dataset fed to one graph input after resizing and normalising. The content hash covers
 * every decoded tensor, so a suite pins exactly what it ran on.
 *
 * @module
 */

import { bytesOf, sha256Hex } from "../lib/sha256.ts";
import { decodeNpy } from "./npy.ts";
import { randomInputs } from "./random_inputs.ts";
import {
  type Dataset,
  type DatasetSource,
  type ImageDataset,
  type ImagePreprocess,
  type LoadDatasetOptions,
  type SampleTensor,
  SPLIT_NAMES,
  type SplitName,
  type TensorDataset,
  type TensorSplit,
} from "./types.ts";

/**
 * Builds the tensor dataset a source describes.
 *
 * @param source The source.
 * @param options `load` loads a shipped dataset (for `builtin` sources); `root` resolves relative folders.
 * @returns The dataset.
 * @throws {Error} Naming the file and the fix when a folder or array is unusable.
 */
export async function loadTensorSource(
  source: DatasetSource,
  options: {
    root: string;
    load?: (id: Dataset["id"], o: LoadDatasetOptions) => Promise<Dataset>;
  },
): Promise<TensorDataset> {
  switch (source.kind) {
    case "npy":
      return await fromNpyFolder(source.dir, source.calibration, options.root);
    case "random": {
      const evaluation = randomInputs(source.inputs, source.evaluation, source.seed);
      const calibration = randomInputs(source.inputs, source.calibration, source.seed + 1);
      return await finish({
        id: "random",
        package: "random",
        version: "1",
        labelKind: "none",
        splitRule: `seeded random inputs (seed ${source.seed} evaluation, ${
          source.seed + 1
        } calibration)`,
        splits: {
          train: { inputs: {}, count: 0 },
          evaluation: { inputs: evaluation, count: source.evaluation },
          calibration: { inputs: calibration, count: source.calibration },
        },
      });
    }
    case "builtin": {
      if (!options.load) throw new Error(`Dataset ${source.id}: no loader given`);
      const d = await options.load(source.id, {});
      return await fromBuiltin(d, source);
    }
  }
}

async function fromNpyFolder(
  dir: string,
  calibration: number,
  root: string,
): Promise<TensorDataset> {
  const path = dir.startsWith("/") ? dir : `${root}${dir}`;
  const files: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isFile && e.name.endsWith(".npy")) files.push(e.name);
    }
  } catch {
    throw new Error(
      `Cannot read data folder ${dir}: no such folder (give --data DIR of .npy files)`,
    );
  }
  files.sort();
  if (!files.some((f) => f !== "labels.npy")) {
    throw new Error(
      `Data folder ${dir} holds no .npy input arrays (name them after the graph inputs)`,
    );
  }
  const inputs: Record<string, SampleTensor> = {};
  let labels: { data: Int32Array; dims: number[] } | undefined;
  let count = -1;
  for (const f of files) {
    const a = decodeNpy(await Deno.readFile(`${path}/${f}`), `${dir}/${f}`);
    const n = a.shape[0] ?? 1;
    if (count >= 0 && n !== count) {
      throw new Error(`${dir}/${f}: ${n} samples along axis 0, the other arrays have ${count}`);
    }
    count = n;
    if (f === "labels.npy") {
      const data = a.data instanceof BigInt64Array ? Int32Array.from(a.data, Number) : a.data;
      labels = { data: Int32Array.from(data), dims: a.shape };
    } else {
      const type = a.data instanceof Float32Array
        ? "float32"
        : a.data instanceof BigInt64Array
        ? "int64"
        : a.dtype.includes("i4")
        ? "int32"
        : "int64";
      const data = type === "int64" && a.data instanceof Int32Array
        ? BigInt64Array.from(a.data, (v) => BigInt(v))
        : a.data;
      inputs[f.slice(0, -4)] = { type, dims: a.shape, data };
    }
  }
  if (calibration >= count) {
    throw new Error(
      `Data folder ${dir}: ${count} samples leave none to evaluate after ${calibration} for calibration`,
    );
  }
  const evalCount = count - calibration;
  const part = (from: number, n: number): TensorSplit => ({
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([k, t]) => [k, sliceSamples(t, from, n)]),
    ),
    ...(labels ? { labels: sliceLabels(labels, from, n) } : {}),
    count: n,
  });
  return await finish({
    id: "npy",
    package: "npy",
    version: "1",
    labelKind: !labels ? "none" : labels.dims.length === 1 ? "class" : "sequence",
    splitRule: `first ${evalCount} samples evaluation, last ${calibration} calibration`,
    splits: {
      train: { inputs: {}, count: 0 },
      evaluation: part(0, evalCount),
      calibration: part(evalCount, calibration),
    },
  });
}

/**
 * The first-axis slice `[from, from + n)` of a sample tensor.
 *
 * @param t The tensor.
 * @param from First sample.
 * @param n Samples.
 * @returns The slice (a view).
 */
export function sliceSamples(t: SampleTensor, from: number, n: number): SampleTensor {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    type: t.type,
    dims: [n, ...t.dims.slice(1)],
    data: t.data.subarray(from * per, (from + n) * per),
  } as SampleTensor;
}

function sliceLabels(l: { data: Int32Array; dims: number[] }, from: number, n: number) {
  const per = l.dims.slice(1).reduce((a, b) => a * b, 1);
  return { dims: [n, ...l.dims.slice(1)], data: l.data.subarray(from * per, (from + n) * per) };
}

async function fromBuiltin(
  d: Dataset,
  source: Extract<DatasetSource, { kind: "builtin" }>,
): Promise<TensorDataset> {
  if (d.kind === "tensors") {
    // A shipped tensor set names its one input `x`; the model's may be called otherwise.
    if (source.input === "x") return d;
    const rename = (t: TensorSplit): TensorSplit => ({
      ...t,
      inputs: Object.fromEntries(
        Object.values(t.inputs).map((v) => [source.input, v]),
      ),
    });
    return await finish({
      ...d,
      splits: {
        train: rename(d.splits.train),
        evaluation: rename(d.splits.evaluation),
        calibration: rename(d.splits.calibration),
      },
    });
  }
  const splits = {} as Record<SplitName, TensorSplit>;
  if (d.kind === "image") {
    const pre = source.image;
    if (!pre) {
      throw new Error(`Dataset ${d.id} feeds ${source.input}: give its image preprocessing`);
    }
    for (const s of SPLIT_NAMES) {
      splits[s] = {
        inputs: { [source.input]: preprocessImages(d, s, pre) },
        labels: { data: Int32Array.from(d.splits[s].labels), dims: [d.splits[s].count] },
        count: d.splits[s].count,
      };
    }
  } else {
    const c = source.context;
    if (!c) {
      throw new Error(`Dataset ${d.id} feeds ${source.input}: give its context length (--shape)`);
    }
    for (const s of SPLIT_NAMES) {
      const ids = d.splits[s].ids;
      const n = Math.floor(ids.length / c);
      splits[s] = {
        inputs: {
          [source.input]: {
            type: "int64",
            dims: [n, c],
            data: BigInt64Array.from(ids.subarray(0, n * c), (v) => BigInt(v)),
          },
        },
        count: n,
      };
    }
  }
  return await finish({
    id: d.id,
    package: d.package,
    version: d.version,
    labelKind: d.kind === "image" ? "class" : "none",
    splitRule: `${d.splitRule}; fed to ${source.input}${
      source.image
        ? ` resized to ${
          source.image.size.join("x")
        }, ${source.image.channels} channel(s), (x - ${source.image.mean}) / ${source.image.std}`
        : ` in windows of ${source.context}`
    }`,
    splits,
  });
}

function preprocessImages(d: ImageDataset, split: SplitName, p: ImagePreprocess): SampleTensor {
  const [h0, w0] = d.imageShape;
  const [h, w] = p.size;
  const s = d.splits[split];
  const per = p.channels * h * w;
  const out = new Float32Array(s.count * per);
  for (let i = 0; i < s.count; i++) {
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h0 - 1, Math.floor((y * h0) / h));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(w0 - 1, Math.floor((x * w0) / w));
        const v = (s.images[i * h0 * w0 + sy * w0 + sx]! - p.mean) / p.std;
        for (let c = 0; c < p.channels; c++) out[i * per + c * h * w + y * w + x] = v;
      }
    }
  }
  const dims = p.flatten ? [s.count, per] : [s.count, p.channels, h, w];
  return { type: "float32", dims, data: out };
}

/**
 * Hashes a tensor dataset's splits and completes its record.
 *
 * @param d The dataset without hashes.
 * @returns The dataset.
 */
export async function finish(
  d: Omit<TensorDataset, "hash" | "splitHashes" | "kind">,
): Promise<TensorDataset> {
  const splitHashes = {} as Record<SplitName, string>;
  for (const s of SPLIT_NAMES) {
    const split = d.splits[s];
    const parts: Uint8Array[] = [];
    for (const name of Object.keys(split.inputs).sort()) {
      const t = split.inputs[name]!;
      parts.push(
        new TextEncoder().encode(`${name}:${t.type}:${t.dims.join("x")};`),
        bytesOf(t.data),
      );
    }
    if (split.labels) parts.push(new TextEncoder().encode("labels;"), bytesOf(split.labels.data));
    splitHashes[s] = await sha256Hex(parts);
  }
  const hash = await sha256Hex(SPLIT_NAMES.map((s) => new TextEncoder().encode(splitHashes[s])));
  return { ...d, kind: "tensors", hash, splitHashes };
}
