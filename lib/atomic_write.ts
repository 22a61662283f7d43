/**
 * Atomic file replacement: the content goes to a temporary file in the destination's folder, is
 * synced to disk, and is renamed over the destination, so a reader (or a crash) sees either the
 * old file whole or the new one whole, never a part.
 *
 * @module
 */

/**
 * Writes a file atomically (temporary file in the same folder, fsync, rename, then a sync of the
 * folder so that the rename itself survives a power cut).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello\n");
 * console.log(await Deno.readTextFile(`${dir}/a.txt`)); // "hello\n"
 * ```
 *
 * @param path Destination.
 * @param content Text (written as UTF-8) or bytes.
 * @param options `mode` of a new file (default 0o644).
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const name = slash >= 0 ? path.slice(slash + 1) : path;
  const tmp = `${dir}/.${name}.${crypto.randomUUID()}.tmp`;
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const file = await Deno.open(tmp, { write: true, createNew: true, mode: options.mode ?? 0o644 });
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // Linux syncs a folder opened read-only; other systems may refuse, and the data itself is
  // already synced, so a refusal costs only the rename's durability across a power cut.
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // See above.
  }
}
