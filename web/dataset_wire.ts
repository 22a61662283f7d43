/**
 * How a decoded image dataset travels from the server to the page: a 4-byte little-endian header
 * length, a JSON header (what the dataset says about itself, and each array's byte length), then
 * each split's images (float32) and labels back to back. The page never trusts the header's hash:
 * it hashes the arrays it received itself, so the suite's pin check judges the bytes the page runs.
 *
 * @module
 */

import { imageDatasetHashes } from "../datasets/image_hash.ts";
import {
  type ImageDataset,
  type ImageSplit,
  SPLIT_NAMES,
  type SplitName,
} from "../datasets/types.ts";

/** The wire header. */
interface WireHeader {
  id: ImageDataset["id"];
  package: string;
  version: string;
  splitRule: string;
  imageShape: [number, number];
  classes: string[];
  /** Byte lengths of `<split>.images` and `<split>.labels`, in split order. */
  sizes: Record<string, number>;
}

/**
 * Encodes an image dataset for the page.
 *
 * @param d The dataset.
 * @returns The bytes.
 */
export function encodeImageDataset(d: ImageDataset): Uint8Array {
  const arrays: Uint8Array[] = [];
  const sizes: Record<string, number> = {};
  for (const name of SPLIT_NAMES) {
    const s = d.splits[name];
    const images = new Uint8Array(s.images.buffer, s.images.byteOffset, s.images.byteLength);
    sizes[`${name}.images`] = images.byteLength;
    sizes[`${name}.labels`] = s.labels.byteLength;
    arrays.push(images, s.labels);
  }
  const header: WireHeader = {
    id: d.id,
    package: d.package,
    version: d.version,
    splitRule: d.splitRule,
    imageShape: d.imageShape,
    classes: d.classes,
    sizes,
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
 * Decodes an image dataset received from the server and hashes it.
 *
 * @param bytes What the server sent.
 * @returns The dataset, its hashes computed from the arrays received.
 * @throws {Error} When the bytes are not a whole dataset.
 */
export async function decodeImageDataset(bytes: Uint8Array): Promise<ImageDataset> {
  const bad = (why: string) =>
    new Error(`The dataset the server sent is not whole (${why}); reload the page`);
  if (bytes.byteLength < 4) throw bad("no header");
  const headLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let header: WireHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headLen)));
  } catch {
    throw bad("header is not JSON");
  }
  let off = 4 + headLen;
  const take = (name: string): Uint8Array => {
    const n = header.sizes[name];
    if (n === undefined || off + n > bytes.byteLength) throw bad(`${name} missing or cut short`);
    // A copy, so the float view is aligned whatever the header's length.
    const a = bytes.slice(off, off + n);
    off += n;
    return a;
  };
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
  if (off !== bytes.byteLength) throw bad("trailing bytes");
  const { hash, splitHashes } = await imageDatasetHashes(splits);
  return {
    kind: "image",
    id: header.id,
    package: header.package,
    version: header.version,
    hash,
    splitHashes,
    splitRule: header.splitRule,
    imageShape: header.imageShape,
    classes: header.classes,
    splits,
  };
}
