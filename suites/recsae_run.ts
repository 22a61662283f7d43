/**
 * One run of the `recsae` suite: the word sequences, sasrec-words and recsae-words loaded on
 * ORT, and what every quality cell reads (hidden states, reconstructions, ranks, sparse latent
 * activations, concept labels of the evaluation and the building sequences), computed once
 * when the first cell asks and kept for the run.
 *
 * @module
 */

import { sha256Hex } from "../lib/sha256.ts";
import { repoPath } from "../lib/repo_root.ts";
import { createRng } from "../lib/prng.ts";
import type { LoadedModel, TensorMap } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import {
  FIRST_ITEM_ID,
  historyBefore,
  loadWordSequences,
  WORD_HISTORY,
  type WordSequences,
} from "../datasets/word_sequences.ts";
import { rankOf, type SparseActivations, topIndices } from "./recsae_metrics.ts";

/** A model file pinned by content. */
export interface RecsaePin {
  /** Model id. */
  id: string;
  /** Path from the repository root. */
  path: string;
  /** Its SHA-256. */
  sha256: string;
}

/** The suite's pins: both models and the data. */
export const RECSAE_PINS = {
  sasrec: {
    id: "sasrec-words",
    path: "models/sasrec-words.onnx",
    sha256: "0658a319d339fcad1cfe7fb50949de105b59330937992dc1a4edc7fba2e90b19",
  },
  sae: {
    id: "recsae-words",
    path: "models/recsae-words.onnx",
    sha256: "55e70c3a48dd5ccfcbbb55f7f83a9c5b46632fa4fe76e59950499ddb956e5f19",
  },
  dataHash: "0ba135470a1d01e281aa89a440b948a2ba007b2dd00af760c2762a9caa91d5d1",
} as const;

/** Hidden width of sasrec-words. */
export const HIDDEN = 64;
/** Latents of recsae-words. */
export const LATENTS = 2048;
/** Where a concept is looked for: the latest word of the history, or the word to recommend. */
export type ConceptPosition = "last" | "next";

/** A concept label: a word list at a position. */
export interface ConceptLabel {
  /** "month@next" and the like. */
  id: string;
  /** Index into the dataset's concepts. */
  concept: number;
  /** Position. */
  position: ConceptPosition;
}

/** Sequences passed through both models. */
export interface SequenceSet {
  /** Positions of the items to recommend in their split. */
  positions: Int32Array;
  /** History ids, `count × WORD_HISTORY`. */
  histories: Int32Array;
  /** Target item index of each sequence (id − 2). */
  targets: Int32Array;
  /** SASRec's hidden states, `count × 64`. */
  hidden: Float32Array;
  /** The SAE's reconstructions. */
  recon: Float32Array;
  /** Target rank with the original hidden state. */
  rankOriginal: Int32Array;
  /** Target rank with the reconstruction. */
  rankRecon: Int32Array;
  /** Active latents. */
  acts: SparseActivations;
  /** Labels per {@linkcode ConceptLabel}, in the run's label order. */
  labels: Uint8Array[];
  /**
   * Per label, its signature: the {@linkcode SIGNATURE_ITEMS} items whose mean probability under
   * SASRec rises most (as a ratio, over a floor of 1 / items) where the label is present (a mask over the catalogue); empty where the
   * label never occurs. What a concept predicts about the recommendations.
   */
  signatures: Uint8Array[];
}

/** Items in a concept label's signature. */
export const SIGNATURE_ITEMS = 20;

function softmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const out = Float64Array.from(row, (v) => Math.exp(v - max));
  const total = out.reduce((a, b) => a + b, 0);
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}

/** Sequence counts of one run. */
export interface RecsaeSizes {
  /** Evaluation sequences (the first of the evaluation split's item positions). */
  evaluation: number;
  /** Building sequences, drawn from the train split's item positions. */
  build: number;
}

/** The sizes of a full and a quick run. */
export function recsaeSizes(quick: boolean): RecsaeSizes {
  return quick ? { evaluation: 1500, build: 3000 } : { evaluation: 20000, build: 30000 };
}

async function pinned(pin: RecsaePin): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(repoPath(pin.path));
  } catch {
    throw new Error(
      `${pin.path} is missing; restore it from git or retrain it (models/train_sasrec.py, models/train_recsae.py)`,
    );
  }
  const got = await sha256Hex(bytes);
  if (got !== pin.sha256) {
    throw new Error(`${pin.path}: sha256 ${got} is not the pinned ${pin.sha256}; restore the file`);
  }
  return bytes;
}

/** The shared state of one run. */
export class RecsaeRun {
  readonly #sizes: RecsaeSizes;
  #ready: Promise<void> | undefined;
  #data: WordSequences | undefined;
  #sasrec: LoadedModel | undefined;
  #sae: LoadedModel | undefined;
  #labels: ConceptLabel[] = [];
  #evaluation: SequenceSet | undefined;
  #build: SequenceSet | undefined;

  /** @param quick Whether the run is `--quick`. */
  constructor(quick: boolean) {
    this.#sizes = recsaeSizes(quick);
  }

  /** @returns The dataset (after {@linkcode prepare}). */
  get data(): WordSequences {
    return this.#data!;
  }

  /** @returns The concept labels, in order. */
  get labels(): readonly ConceptLabel[] {
    return this.#labels;
  }

  /** @returns The evaluation sequences. */
  get evaluation(): SequenceSet {
    return this.#evaluation!;
  }

  /** @returns The building sequences. */
  get build(): SequenceSet {
    return this.#build!;
  }

  /**
   * Loads data and models and passes both sets through them, once per run.
   *
   * @param progress Progress reporting.
   */
  prepare(progress: (m: string) => void): Promise<void> {
    this.#ready ??= this.#prepare(progress);
    return this.#ready;
  }

  async #prepare(progress: (m: string) => void): Promise<void> {
    progress("recsae: loading the word sequences and both models");
    const data = await loadWordSequences();
    if (data.hash !== RECSAE_PINS.dataHash) {
      throw new Error(
        `word sequences: hash ${data.hash} is not the pinned ${RECSAE_PINS.dataHash}; restore node_modules (npx --yes deno@2.9.6 install --frozen)`,
      );
    }
    this.#data = data;
    this.#labels = data.concepts.flatMap((_, concept) =>
      (["last", "next"] as const).map((position) => ({
        id: `${data.concepts[concept]!.name}@${position}`,
        concept,
        position,
      }))
    );
    const backend = await createBackend("ort-wasm");
    const ids = (n: number): TensorMap => ({
      ids: { type: "int64", data: new BigInt64Array(n * WORD_HISTORY), dims: [n, WORD_HISTORY] },
    });
    this.#sasrec = await backend.load(await pinned(RECSAE_PINS.sasrec), {
      label: RECSAE_PINS.sasrec.id,
      feeds: ids(1),
    });
    this.#sae = await backend.load(await pinned(RECSAE_PINS.sae), {
      label: RECSAE_PINS.sae.id,
      feeds: saeFeeds(new Float32Array(HIDDEN), new Float32Array(LATENTS).fill(1)),
    });
    const ev = data.splits.evaluation.ids;
    const evPositions = itemPositions(ev).slice(0, this.#sizes.evaluation);
    progress(`recsae: ${evPositions.length} evaluation sequences through both models`);
    this.#evaluation = await this.#pass(ev, evPositions);
    const tr = data.splits.train.ids;
    const all = itemPositions(tr);
    const rng = createRng(7);
    const picked = new Int32Array(Math.min(this.#sizes.build, all.length));
    for (let i = 0; i < picked.length; i++) picked[i] = all[rng.int(all.length)]!;
    picked.sort();
    progress(`recsae: ${picked.length} building sequences (train split) through both models`);
    this.#build = await this.#pass(tr, picked);
  }

  async #pass(ids: Uint16Array, positions: Int32Array): Promise<SequenceSet> {
    const n = positions.length;
    const histories = new Int32Array(n * WORD_HISTORY);
    const targets = new Int32Array(n);
    positions.forEach((p, s) => {
      histories.set(historyBefore(ids, p, WORD_HISTORY), s * WORD_HISTORY);
      targets[s] = ids[p]! - FIRST_ITEM_ID;
    });
    const hidden = new Float32Array(n * HIDDEN);
    const recon = new Float32Array(n * HIDDEN);
    const rankOriginal = new Int32Array(n);
    const rankRecon = new Int32Array(n);
    const off = new Uint32Array(n + 1);
    const idx: number[] = [];
    const items = this.data.items.length;
    const labels = this.#labels.map((l) => {
      const mask = this.data.concepts[l.concept]!.itemMask;
      return Uint8Array.from({ length: n }, (_, s) => {
        const item = l.position === "next"
          ? targets[s]!
          : histories[s * WORD_HISTORY + WORD_HISTORY - 1]! - FIRST_ITEM_ID;
        return item >= 0 && mask[item] ? 1 : 0;
      });
    });
    // SASRec's mean recommendation distribution, over all sequences and per label.
    const probAll = new Float64Array(items);
    const probByLabel = labels.map(() => new Float64Array(items));
    const batch = 256;
    for (let at = 0; at < n; at += batch) {
      const b = Math.min(batch, n - at);
      const h = await this.hiddenOf(histories.subarray(at * WORD_HISTORY, (at + b) * WORD_HISTORY));
      hidden.set(h.hidden, at * HIDDEN);
      const out = await this.saeOf(h.hidden, new Float32Array(b * LATENTS).fill(1));
      recon.set(out.recon, at * HIDDEN);
      for (let s = 0; s < b; s++) {
        const t = targets[at + s]!;
        const row = h.logits.subarray(s * items, (s + 1) * items);
        rankOriginal[at + s] = rankOf(row, t);
        const p = softmax(row);
        for (let i = 0; i < items; i++) probAll[i]! += p[i]! / n;
        labels.forEach((l, k) => {
          if (!l[at + s]) return;
          const sum = probByLabel[k]!;
          for (let i = 0; i < items; i++) sum[i]! += p[i]!;
        });
        rankRecon[at + s] = rankOf(out.logits.subarray(s * items, (s + 1) * items), t);
        for (let j = 0; j < LATENTS; j++) if (out.latents[s * LATENTS + j]! > 0) idx.push(j);
        off[at + s + 1] = idx.length;
      }
    }
    const acts: SparseActivations = { count: n, off, idx: Uint16Array.from(idx) };
    const signatures = labels.map((l, k) => {
      const count = l.reduce((a, b) => a + b, 0);
      if (count === 0) return new Uint8Array(items);
      // Ratio, not difference: a difference would favour the most frequent words everywhere. The
      // floor of one uniform share keeps rare words from winning on noise.
      const floor = 1 / items;
      const lift = Float64Array.from(
        probByLabel[k]!,
        (v, i) => (v / count + floor) / (probAll[i]! + floor),
      );
      const mask = new Uint8Array(items);
      for (const i of topIndices(Float32Array.from(lift), SIGNATURE_ITEMS)) mask[i] = 1;
      return mask;
    });
    return {
      positions,
      histories,
      targets,
      hidden,
      recon,
      rankOriginal,
      rankRecon,
      acts,
      labels,
      signatures,
    };
  }

  /**
   * SASRec on histories.
   *
   * @param histories `b × 20` ids.
   * @returns Hidden states `b × 64` and item scores `b × 2000`.
   */
  async hiddenOf(histories: Int32Array): Promise<{ hidden: Float32Array; logits: Float32Array }> {
    const b = histories.length / WORD_HISTORY;
    const out = await this.#sasrec!.run({
      ids: {
        type: "int64",
        data: BigInt64Array.from(histories, (v) => BigInt(v)),
        dims: [b, WORD_HISTORY],
      },
    });
    return { hidden: out.hidden!.data as Float32Array, logits: out.logits!.data as Float32Array };
  }

  /**
   * The SAE on hidden states, each latent scaled per row (0 ablates it).
   *
   * @param hidden `b × 64`.
   * @param scale `b × 2048`.
   * @returns Latents, reconstructions and their item scores.
   */
  async saeOf(
    hidden: Float32Array,
    scale: Float32Array,
  ): Promise<{ latents: Float32Array; recon: Float32Array; logits: Float32Array }> {
    const out = await this.#sae!.run(saeFeeds(hidden, scale));
    return {
      latents: out.latents!.data as Float32Array,
      recon: out.recon!.data as Float32Array,
      logits: out.logits!.data as Float32Array,
    };
  }

  /** Frees both sessions. */
  async release(): Promise<void> {
    await this.#sasrec?.release();
    await this.#sae?.release();
  }
}

function saeFeeds(hidden: Float32Array, scale: Float32Array): TensorMap {
  const b = hidden.length / HIDDEN;
  return {
    hidden: { type: "float32", data: hidden, dims: [b, HIDDEN] },
    latent_scale: { type: "float32", data: scale, dims: [b, LATENTS] },
  };
}

/**
 * Positions of a stream whose word is a catalogue item and that have at least one id before
 * them: the positions a recommendation is scored at.
 *
 * @param ids The stream.
 * @returns Positions, ascending.
 */
export function itemPositions(ids: Uint16Array): Int32Array {
  const out: number[] = [];
  for (let p = 1; p < ids.length; p++) if (ids[p]! >= FIRST_ITEM_ID) out.push(p);
  return Int32Array.from(out);
}
