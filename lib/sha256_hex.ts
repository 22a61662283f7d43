/**
 * SHA-256 digests of bytes, as lowercase hex, through WebCrypto: the same code in Deno and in a
 * browser page (files are hashed by `sha256.ts`, which reads them from disk).
 *
 * @module
 */

/**
 * The SHA-256 digest of some bytes.
 *
 * @example Usage
 * ```ts
 * import { sha256Hex } from "./sha256_hex.ts";
 * const hex = await sha256Hex(new TextEncoder().encode("abc"));
 * console.log(hex.slice(0, 8)); // "ba7816bf"
 * ```
 *
 * @param data Bytes, or several chunks hashed as if concatenated.
 * @returns 64 hex characters.
 */
export async function sha256Hex(data: Uint8Array | readonly Uint8Array[]): Promise<string> {
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) bytes = data;
  else {
    let n = 0;
    for (const c of data) n += c.byteLength;
    bytes = new Uint8Array(n);
    let off = 0;
    for (const c of data) {
      bytes.set(c, off);
      off += c.byteLength;
    }
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Bytes of a typed array, without copying.
 *
 * @param a Any typed array.
 * @returns A byte view of the same memory.
 */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
