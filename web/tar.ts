/**
 * A minimal ustar writer: the page's download of a run folder (`tar xf` restores
 * `results/<run-id>/`), regular files only.
 *
 * @module
 */

const BLOCK = 512;

function header(name: string, size: number, mtimeS: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const enc = new TextEncoder();
  const put = (text: string, offset: number, length: number) =>
    h.set(enc.encode(text).subarray(0, length), offset);
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0") + "\0";
  if (enc.encode(name).length > 100) throw new RangeError(`Tar entry name too long: ${name}`);
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtimeS, 12), 136, 12);
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

/**
 * Packs text files into a tar archive.
 *
 * @param files Path inside the archive → text.
 * @param mtime Modification time of every entry.
 * @returns The archive.
 */
export function tarFiles(files: Record<string, string>, mtime: Date = new Date()): Uint8Array {
  const parts: Uint8Array[] = [];
  const mtimeS = Math.floor(mtime.getTime() / 1000);
  for (const [name, text] of Object.entries(files)) {
    const body = new TextEncoder().encode(text);
    parts.push(header(name, body.length, mtimeS), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
