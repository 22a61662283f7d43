/**
 * The content hashes of an image dataset's decoded splits: what a suite pins. One function, so
 * the Deno loader and a browser page that receives the decoded arrays from a server hash the same
 * bytes in the same order.
 *
 * @module
 */

import { bytesOf, sha256Hex } from "../lib/sha256_hex.ts";
import { type ImageSplit, SPLIT_NAMES, type SplitName } from "./types.ts";

/**
 * Hashes each split (its images' float32 bytes, then its labels) and all of them in split order.
 *
 * @param splits The decoded splits.
 * @returns The dataset hash and one hash per split, lowercase hex.
 */
export async function imageDatasetHashes(
  splits: Record<SplitName, ImageSplit>,
): Promise<{ hash: string; splitHashes: Record<SplitName, string> }> {
  const splitHashes = {} as Record<SplitName, string>;
  for (const name of SPLIT_NAMES) {
    splitHashes[name] = await sha256Hex([bytesOf(splits[name].images), splits[name].labels]);
  }
  const hash = await sha256Hex(
    SPLIT_NAMES.flatMap((n) => [bytesOf(splits[n].images), splits[n].labels]),
  );
  return { hash, splitHashes };
}
