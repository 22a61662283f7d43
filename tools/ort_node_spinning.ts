/**
 * Measures two identical `ort-node` sessions run alternately, as the runner alternates dense and
 * sparse variants, with ORT's pool-thread spinning on (ORT's default) and off (what the `ort-node`
 * target uses). It produced the figures in the JSDoc of `ortNodeSessionOptions`.
 *
 * ```sh
 * npx --yes deno@2.9.6 run --allow-read --allow-env --allow-ffi --allow-sys tools/ort_node_spinning.ts
 * ```
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { ortNodeSessionOptions } from "../src/backends/ort_node.ts";

const RUNS = 60;

function quantile(v: number[], q: number): number {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

const model = await Deno.readFile(new URL("../models/vit-gelu-fmnist.onnx", import.meta.url));
const pixels = new ort.Tensor(
  "float32",
  new Float32Array(784).map((_, i) => (i % 7) / 7),
  [1, 1, 28, 28],
);
for (const spinning of [true, false]) {
  const { extra, ...plain } = ortNodeSessionOptions(2);
  const options = spinning ? plain : { ...plain, extra };
  const a = await ort.InferenceSession.create(model, options as never);
  const b = await ort.InferenceSession.create(model, options as never);
  const feeds = { [a.inputNames[0]!]: pixels };
  for (let i = 0; i < 5; i++) {
    await a.run(feeds);
    await b.run(feeds);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    await a.run(feeds);
    ta.push(performance.now() - t);
    t = performance.now();
    await b.run(feeds);
    tb.push(performance.now() - t);
  }
  const f = (v: number[]) =>
    `median ${quantile(v, 0.5).toFixed(2)} ms, p10–p90 ${quantile(v, 0.1).toFixed(2)}–${
      quantile(v, 0.9).toFixed(2)
    } ms`;
  console.log(`spinning ${spinning ? "on " : "off"}: A ${f(ta)}; B ${f(tb)}`);
  await a.release();
  await b.release();
}
