/**
 * How a decoded dataset travels from the server to the page: a 4-byte little-endian header
 * length, a JSON header (what the dataset says about itself, and each array's byte length), then
 * each split's arrays back to back (an image split's images as float32, then its labels; a text
 * split's character ids). The page never trusts the header's hash: it hashes the arrays it
 * received itself, in the loaders' order, so the suite's pin check judges the bytes the page runs.
 *
 * @module
 */

import { imageDatasetHashes } from "../datasets/image_hash.ts";
import { sha256Hex } from "../lib/sha256_hex.ts";
import {
  type ImageDataset,
  type ImageSplit,
  SPLIT_NAMES,
  type SplitName,
  type TextDataset,
  type TextSplit,
} from "../datasets/types.ts";

/** The wire header. */
type WireHeader =
  & {
    id: ImageDataset["id"];
    package: string;
    version: string;
    splitRule: string;
    /** Byte lengths of the arrays, in split order. */
    sizes: Record<string, number>;
  }
  & (
    | { kind: "image"; imageShape: [number, number]; classes: string[] }
    | { kind: "text"; vocab: string[]; sections: Record<SplitName, TextSplit["sections"]> }
  );

/** The datasets that travel: those of the suites a page runs. */
export type WireDataset = ImageDataset | TextDataset;

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Encodes a dataset for the page.
 *
 * @param d The dataset.
 * @returns The bytes.
 */
export function encodeDataset(d: WireDataset): Uint8Array {
  const arrays: Uint8Array[] = [];
  const sizes: Record<string, number> = {};
  const put = (name: string, a: Uint8Array) => {
    sizes[name] = a.byteLength;
    arrays.push(a);
  };
  for (const name of SPLIT_NAMES) {
    if (d.kind === "image") {
      put(`${name}.images`, bytes(d.splits[name].images));
      put(`${name}.labels`, d.splits[name].labels);
    } else put(`${name}.ids`, d.splits[name].ids);
  }
  const common = {
    id: d.id,
    package: d.package,
    version: d.version,
    splitRule: d.splitRule,
    sizes,
  };
  const header: WireHeader = d.kind === "image"
    ? { ...common, kind: "image", imageShape: d.imageShape, classes: d.classes }
    : {
      ...common,
      kind: "text",
      vocab: d.vocab,
      sections: Object.fromEntries(
        SPLIT_NAMES.map((n) => [n, d.splits[n].sections]),
      ) as Record<SplitName, TextSplit["sections"]>,
    };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const total = 4 + head.length + arrays.reduce((n, a) => n + a.byteLength, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let off = 4 + head.length;
  for (const a of arrays) {
    out.set(a, off);
    off += a.byteLength;
  }
  return out;
}

/**
 * Decodes a dataset received from the server and hashes it.
 *
 * @param data What the server sent.
 * @returns The dataset, its hashes computed from the arrays received.
 * @throws {Error} When the bytes are not a whole dataset.
 */
export async function decodeDataset(data: Uint8Array): Promise<WireDataset> {
  const bad = (why: string) =>
    new Error(`The dataset the server sent is not whole (${why}); reload the page`);
  if (data.byteLength < 4) throw bad("no header");
  const headLen = new DataView(data.buffer, data.byteOffset).getUint32(0, true);
  let header: WireHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + headLen)));
  } catch {
    throw bad("header is not JSON");
  }
  let off = 4 + headLen;
  const take = (name: string): Uint8Array => {
    const n = header.sizes?.[name];
    if (n === undefined || off + n > data.byteLength) throw bad(`${name} missing or cut short`);
    // A copy, so the float view is aligned whatever the header's length.
    const a = data.slice(off, off + n);
    off += n;
    return a;
  };
  const common = {
    id: header.id,
    package: header.package,
    version: header.version,
    splitRule: header.splitRule,
  };
  if (header.kind === "image") {
    const splits = {} as Record<SplitName, ImageSplit>;
    for (const name of SPLIT_NAMES) {
      const img = take(`${name}.images`);
      const labels = take(`${name}.labels`);
      splits[name] = {
        images: new Float32Array(img.buffer, 0, img.byteLength / 4),
        labels,
        count: labels.length,
      };
    }
    if (off !== data.byteLength) throw bad("trailing bytes");
    const { hash, splitHashes } = await imageDatasetHashes(splits);
    return {
      ...common,
      kind: "image",
      hash,
      splitHashes,
      imageShape: header.imageShape,
      classes: header.classes,
      splits,
    };
  }
  if (header.kind !== "text") throw bad(`unknown kind ${JSON.stringify(header["kind"])}`);
  const splits = {} as Record<SplitName, TextSplit>;
  const splitHashes = {} as Record<SplitName, string>;
  for (const name of SPLIT_NAMES) {
    splits[name] = { ids: take(`${name}.ids`), sections: header.sections[name] ?? [] };
    splitHashes[name] = await sha256Hex(splits[name].ids);
  }
  if (off !== data.byteLength) throw bad("trailing bytes");
  return {
    ...common,
    kind: "text",
    // The text loader's hash: the ids of all splits, in split order.
    hash: await sha256Hex(SPLIT_NAMES.map((n) => splits[n].ids)),
    splitHashes,
    vocab: header.vocab,
    splits,
  };
}
