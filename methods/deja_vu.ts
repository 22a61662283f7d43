/**
 * `deja-vu` — Deja Vu's contextual sparsity (Liu et al., ICML 2023) for the FFN: per block, a
 * small two-layer MLP (d → p → m, ReLU) trained on the dense model's own activations predicts,
 * per token, which FFN neurons matter; the block then computes only the k neurons the predictor
 * ranks highest (their gate and up columns and down rows). The dense weights are unchanged.
 *
 * Training (here, on the calibration split, in plain TypeScript): the predictor reads the FFN
 * input x (the normalised residual; Deja Vu's paper feeds the previous block's input so the
 * prediction can run ahead, which changes nothing in the FLOPs), and learns with binary
 * cross-entropy to mark the k neurons of largest |hidden activation| per token, with Adam over
 * shuffled minibatches (seeded). The last tenth of the calibration tokens is held out, and the
 * recall of the true top-k set among the predicted top-k there is recorded per block. At
 * inference a `TopK` on the predictor's scores masks the hidden activations. The predictor's
 * two MatMuls are part of the graph, so effective FLOPs count them in full; the TopK selection is
 * charged log2(k) FLOPs per score. Deja Vu's attention-head predictor is left out: the
 * comparison here is on the FFN, as in the Spark study.
 *
 * @module
 */

import type { VariantPlan } from "../src/method.ts";
import { Rewriter } from "../src/onnx/rewriter.ts";
import { createRng, type Rng } from "../lib/prng.ts";
import { ffnBlocks, keepCount, maskTopK } from "./_common.ts";
import { defineMethod } from "./_method_spec.ts";

/** A trained predictor: scores = relu(x·W1 + b1)·W2 + b2. */
export interface MlpPredictor {
  /** Input width d. */
  d: number;
  /** Hidden width p. */
  p: number;
  /** Output width m (neurons). */
  m: number;
  /** [d, p] row-major. */
  w1: Float32Array;
  /** [p]. */
  b1: Float32Array;
  /** [p, m] row-major. */
  w2: Float32Array;
  /** [m]. */
  b2: Float32Array;
}

/** What predictor training takes. */
export interface PredictorTraining {
  /** Hidden width p. */
  hidden: number;
  /** Passes over the training tokens. */
  epochs: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Minibatch size in tokens. */
  batch: number;
  /** Seed of the initialisation and the shuffles. */
  seed: number;
}

/**
 * The per-row top-k labels: 1 for the k entries of largest |v| in each row of [rows, m].
 *
 * @param v Values, row-major.
 * @param m Row width.
 * @param k Entries marked per row.
 * @returns 0/1 labels of the same layout.
 */
export function topkLabels(v: Float32Array, m: number, k: number): Uint8Array {
  const rows = v.length / m;
  const out = new Uint8Array(v.length);
  const order = new Int32Array(m);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) order[j] = j;
    const row = v.subarray(r * m, (r + 1) * m);
    order.sort((a, b) => Math.abs(row[b]!) - Math.abs(row[a]!) || a - b);
    for (let t = 0; t < k; t++) out[r * m + order[t]!] = 1;
  }
  return out;
}

/**
 * The predictor's scores for rows of x.
 *
 * @param p The predictor.
 * @param x Inputs [rows, d].
 * @returns Scores [rows, m].
 */
export function predictScores(p: MlpPredictor, x: Float32Array): Float32Array {
  const rows = x.length / p.d;
  const h = new Float32Array(rows * p.p);
  const out = new Float32Array(rows * p.m);
  forward(p, x, rows, h, out);
  return out;
}

function forward(
  p: MlpPredictor,
  x: Float32Array,
  rows: number,
  h: Float32Array,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const hr = h.subarray(r * p.p, (r + 1) * p.p);
    hr.set(p.b1);
    for (let i = 0; i < p.d; i++) {
      const xv = x[r * p.d + i]!;
      if (xv === 0) continue;
      const w = p.w1.subarray(i * p.p, (i + 1) * p.p);
      for (let j = 0; j < p.p; j++) hr[j]! += xv * w[j]!;
    }
    for (let j = 0; j < p.p; j++) if (hr[j]! < 0) hr[j] = 0;
    const orow = out.subarray(r * p.m, (r + 1) * p.m);
    orow.set(p.b2);
    for (let j = 0; j < p.p; j++) {
      const hv = hr[j]!;
      if (hv === 0) continue;
      const w = p.w2.subarray(j * p.m, (j + 1) * p.m);
      for (let o = 0; o < p.m; o++) orow[o]! += hv * w[o]!;
    }
  }
}

/** Adam state of one parameter array. */
class AdamSlot {
  m: Float32Array;
  v: Float32Array;
  constructor(n: number) {
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }
  step(w: Float32Array, g: Float32Array, lr: number, t: number): void {
    const b1 = 0.9, b2 = 0.999;
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
    for (let i = 0; i < w.length; i++) {
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g[i]!;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g[i]! * g[i]!;
      w[i]! -= lr * (this.m[i]! / c1) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}

/**
 * Trains a predictor with binary cross-entropy against 0/1 labels.
 *
 * @param x Inputs [rows, d].
 * @param labels Labels [rows, m].
 * @param shape d and m.
 * @param options Hidden width, epochs, learning rate, batch, seed.
 * @returns The predictor.
 */
export function trainPredictor(
  x: Float32Array,
  labels: Uint8Array,
  shape: { d: number; m: number },
  options: PredictorTraining,
): MlpPredictor {
  const { d, m } = shape;
  const p = options.hidden;
  const rows = x.length / d;
  const rng: Rng = createRng(options.seed);
  const net: MlpPredictor = {
    d,
    p,
    m,
    w1: Float32Array.from({ length: d * p }, () => rng.normal() / Math.sqrt(d)),
    b1: new Float32Array(p),
    w2: Float32Array.from({ length: p * m }, () => rng.normal() / Math.sqrt(p)),
    b2: new Float32Array(m),
  };
  const slots = [net.w1, net.b1, net.w2, net.b2].map((a) => new AdamSlot(a.length));
  const grads = [net.w1, net.b1, net.w2, net.b2].map((a) => new Float32Array(a.length));
  const [gw1, gb1, gw2, gb2] = grads as [Float32Array, Float32Array, Float32Array, Float32Array];
  const B = options.batch;
  const xb = new Float32Array(B * d);
  const hb = new Float32Array(B * p);
  const ob = new Float32Array(B * m);
  const dh = new Float32Array(p);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  let t = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = rows - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < rows; start += B) {
      const n = Math.min(B, rows - start);
      for (let r = 0; r < n; r++) {
        xb.set(x.subarray(order[start + r]! * d, (order[start + r]! + 1) * d), r * d);
      }
      forward(net, xb, n, hb, ob);
      for (const g of grads) g.fill(0);
      for (let r = 0; r < n; r++) {
        const row = order[start + r]!;
        const orow = ob.subarray(r * m, (r + 1) * m);
        // d(loss)/d(logit) of the mean BCE: sigmoid(logit) − label, over the batch.
        for (let o = 0; o < m; o++) {
          orow[o] = (1 / (1 + Math.exp(-orow[o]!)) - labels[row * m + o]!) / n;
          gb2[o]! += orow[o]!;
        }
        const hr = hb.subarray(r * p, (r + 1) * p);
        for (let j = 0; j < p; j++) {
          const hv = hr[j]!;
          const w = net.w2.subarray(j * m, (j + 1) * m);
          const g = gw2.subarray(j * m, (j + 1) * m);
          let acc = 0;
          for (let o = 0; o < m; o++) {
            g[o]! += hv * orow[o]!;
            acc += w[o]! * orow[o]!;
          }
          dh[j] = hv > 0 ? acc : 0;
        }
        for (let j = 0; j < p; j++) gb1[j]! += dh[j]!;
        for (let i = 0; i < d; i++) {
          const xv = xb[r * d + i]!;
          const g = gw1.subarray(i * p, (i + 1) * p);
          for (let j = 0; j < p; j++) g[j]! += xv * dh[j]!;
        }
      }
      t++;
      [net.w1, net.b1, net.w2, net.b2].forEach((w, k) =>
        slots[k]!.step(w, grads[k]!, options.learningRate, t)
      );
    }
  }
  return net;
}

/**
 * Recall of the predicted top-k: the fraction of each row's labelled entries found among the
 * k highest scores, averaged over rows.
 *
 * @param scores Scores [rows, m].
 * @param labels Labels [rows, m] with k ones per row.
 * @param m Row width.
 * @param k Entries kept.
 * @returns Mean recall in [0, 1].
 */
export function topkRecall(scores: Float32Array, labels: Uint8Array, m: number, k: number): number {
  const rows = scores.length / m;
  let hit = 0;
  for (let r = 0; r < rows; r++) {
    let min = Infinity;
    for (let j = 0; j < m; j++) min = Math.min(min, scores[r * m + j]!);
    // topkLabels ranks by |v|: shifted by the row minimum, every score is non-negative.
    const shifted = scores.subarray(r * m, (r + 1) * m).map((s) => s - min);
    const chosen = topkLabels(shifted, m, k);
    for (let j = 0; j < m; j++) if (chosen[j] && labels[r * m + j]) hit++;
  }
  return rows > 0 ? hit / (rows * k) : 0;
}

/**
 * `deja-vu` — Deja Vu (Liu et al., ICML 2023), contextual sparsity with trained predictors.
 *
 * - Skips: for the neurons the predictor does not rank in its top k, the gate and up columns and
 *   the down row (a non-gated FFN: the up column and the down row).
 * - Sparsity: required, s in [0, 1); k = round((1 − s) · m) neurons per token.
 * - Parameters: `hidden` (predictor width p, default 64: d·p + p·m multiply-adds per token, the
 *   cost of Spark's predictor at r = d/2 for the zoo's SwiGLU LM), `epochs`, `lr`.
 * - Calibration: inputs (FFN inputs and hidden activations of the dense model train the
 *   predictors).
 */
export const dejaVuMethod = defineMethod({
  id: "deja-vu",
  title: "Deja Vu: per-block MLP predictors trained on the dense activations pick the FFN neurons",
  paper: "Liu et al., Deja Vu: Contextual Sparsity for Efficient LLMs at Inference Time, ICML 2023",
  skips: "gate/up columns and down rows of the FFN neurons outside the predictor's top k",
  needsSparsity: true,
  calibration: "inputs",
  params: {
    hidden: {
      kind: "number",
      integer: true,
      min: 1,
      default: 64,
      doc: "predictor hidden width p",
    },
    epochs: { kind: "number", integer: true, min: 1, default: 12, doc: "training passes" },
    lr: { kind: "number", min: 0, minExclusive: true, default: 3e-3, doc: "Adam learning rate" },
  },
  async prepare(ctx, { sparsity: s, params }): Promise<VariantPlan> {
    const blocks = ffnBlocks(ctx.model);
    const values = blocks.flatMap((b) => [b.up.input, b.hidden]);
    const got = await ctx.capture(ctx.model, [...new Set(values)]);
    const plan: VariantPlan = {
      model: ctx.model,
      sparse: [],
      selection: [],
      notes: { hidden: params.hidden },
    };
    blocks.forEach((b, i) => {
      const x = got.get(b.up.input);
      const hid = got.get(b.hidden);
      if (!x || !hid) throw new Error(`deja-vu: calibration captured nothing for block ${i}`);
      const d = x.width, m = hid.width;
      const k = keepCount(m, s);
      const labels = topkLabels(hid.data, m, k);
      const rows = x.data.length / d;
      const trainRows = Math.max(1, Math.floor(rows * 0.9));
      const net = trainPredictor(
        x.data.subarray(0, trainRows * d),
        labels.subarray(0, trainRows * m),
        { d, m },
        {
          hidden: params.hidden,
          epochs: params.epochs,
          learningRate: params.lr,
          batch: 128,
          seed: ctx.seed + i,
        },
      );
      if (rows > trainRows) {
        const held = predictScores(net, x.data.subarray(trainRows * d));
        plan.notes![`recall[${i}]`] = Number(
          topkRecall(held, labels.subarray(trainRows * m), m, k).toFixed(4),
        );
      }
      const rw = new Rewriter(ctx.model, `deja_vu${i}`);
      const h1 = rw.node("MatMul", [b.up.input, rw.floatConst("w1", net.w1, [d, net.p])])[0]!;
      const a1 = rw.node("Relu", [
        rw.node("Add", [h1, rw.floatConst("b1", net.b1, [net.p])])[0]!,
      ])[0]!;
      const h2 = rw.node("MatMul", [a1, rw.floatConst("w2", net.w2, [net.p, m])])[0]!;
      const score = rw.node("Add", [h2, rw.floatConst("b2", net.b2, [m])])[0]!;
      rw.splice(b.down.node);
      const masked = maskTopK(ctx.model, b.hidden, score, k, {
        prefix: `deja_vu_mask${i}`,
        readers: [b.down.node],
      });
      plan.sparse.push({ linear: b.down.name, densityOf: masked, mode: "input" });
      plan.sparse.push({ linear: b.up.name, densityOf: masked, mode: "output" });
      if (b.gate) plan.sparse.push({ linear: b.gate.name, densityOf: masked, mode: "output" });
      // The scores have the hidden activations' shape, which the dense model's shapes know.
      plan.selection.push({ value: b.hidden, flopsPerElement: Math.log2(Math.max(2, k)) });
      plan.notes![`k[${i}]`] = k;
    });
    return plan;
  },
});
