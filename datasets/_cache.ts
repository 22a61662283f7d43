/**
 * The decoded-dataset cache: one binary file per dataset and source fingerprint, so a second run
 * skips parsing hundreds of megabytes of JSON.
 *
 * Layout: 4-byte little-endian header length, the header as JSON (metadata plus the byte length of
 * each array and their SHA-256), then the arrays back to back. Written to a temporary file and
 * renamed, so a crash never leaves a half-written cache behind; an entry whose arrays no longer
 * match their recorded hash (a damaged disk, an edit) is named, discarded and rebuilt.
 *
 * @module
 */

import { REPO_ROOT } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";

/** Default cache directory. */
export const DEFAULT_CACHE_DIR = `${REPO_ROOT}.cache/datasets`;

/** What a cache entry holds: JSON metadata and named byte arrays. */
export interface CacheEntry {
  /** Metadata (must be JSON-serialisable). */
  meta: Record<string, unknown>;
  /** Named arrays. */
  arrays: Record<string, Uint8Array>;
}

/**
 * Reads a cache entry, or returns undefined when absent; a damaged entry is named in a warning,
 * deleted, and reported absent so the caller rebuilds it.
 *
 * @param key File name inside the cache directory.
 * @param cacheDir Cache directory.
 * @returns The entry, or undefined.
 */
export async function readCache(
  key: string,
  cacheDir = DEFAULT_CACHE_DIR,
): Promise<CacheEntry | undefined> {
  const path = `${cacheDir}/${key}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return undefined;
  }
  const entry = parseEntry(bytes);
  if (entry && entry.sha256 === undefined) {
    // Written before entries carried a hash: rebuilt once, quietly.
    await Deno.remove(path).catch(() => {});
    return undefined;
  }
  const ok = entry && entry.sha256 === await sha256Hex(Object.values(entry.arrays));
  if (!ok) {
    console.error(
      `warning: the dataset cache ${path} is damaged (its arrays do not match their recorded hash); discarding it and rebuilding from the package`,
    );
    await Deno.remove(path).catch(() => {});
    return undefined;
  }
  return { meta: entry.meta, arrays: entry.arrays };
}

function parseEntry(bytes: Uint8Array): (CacheEntry & { sha256: unknown }) | undefined {
  try {
    const headerLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLen))) as {
      meta: Record<string, unknown>;
      sizes: Record<string, number>;
      sha256?: string;
    };
    const arrays: Record<string, Uint8Array> = {};
    let off = 4 + headerLen;
    for (const [name, size] of Object.entries(header.sizes)) {
      if (off + size > bytes.length) return undefined;
      // Copy into a fresh, aligned buffer so callers can view it as Float32Array.
      arrays[name] = bytes.slice(off, off + size);
      off += size;
    }
    if (off !== bytes.length) return undefined;
    return { meta: header.meta, arrays, sha256: header.sha256 };
  } catch {
    return undefined;
  }
}

/**
 * Writes a cache entry atomically (temporary file, then rename).
 *
 * @param key File name inside the cache directory.
 * @param entry What to store.
 * @param cacheDir Cache directory.
 */
export async function writeCache(
  key: string,
  entry: CacheEntry,
  cacheDir = DEFAULT_CACHE_DIR,
): Promise<void> {
  await Deno.mkdir(cacheDir, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const [name, a] of Object.entries(entry.arrays)) sizes[name] = a.byteLength;
  const sha256 = await sha256Hex(Object.values(entry.arrays));
  const header = new TextEncoder().encode(JSON.stringify({ meta: entry.meta, sizes, sha256 }));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, header.length, true);
  const tmp = `${cacheDir}/${key}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    for (const chunk of [len, header, ...Object.values(entry.arrays)]) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
  } finally {
    file.close();
  }
  await Deno.rename(tmp, `${cacheDir}/${key}`);
}
