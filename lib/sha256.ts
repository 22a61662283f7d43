/**
 * SHA-256 digests of bytes and files, as lowercase hex.
 *
 * @module
 */

import { sha256Hex } from "./sha256_hex.ts";

export { bytesOf, sha256Hex } from "./sha256_hex.ts";

/**
 * The SHA-256 digest of a file.
 *
 * @param path File path.
 * @returns 64 hex characters.
 */
export async function sha256File(path: string | URL): Promise<string> {
  return await sha256Hex(await Deno.readFile(path));
}
