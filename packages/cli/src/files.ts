/** Listing a directory's regular files with their sizes and SHA-256, as `etcdwal repair` prints them. */
import { createHash } from 'node:crypto';
import { joinPath } from '@walnut/wal-core';
import type { FileSystem } from '@walnut/wal-core';

/** One regular file of a directory. */
export interface FileInfo {
  readonly name: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the contents. */
  readonly sha256: string;
}

const CHUNK = 1 << 20;

/** SHA-256 (hex) and size of a file, read through `fs` in 1 MiB chunks. */
export async function hashFile(fs: FileSystem, path: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  const f = await fs.open(path, 'read');
  try {
    const buf = new Uint8Array(CHUNK);
    let pos = 0;
    for (;;) {
      const n = await f.read(buf, 0, CHUNK, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return { size: pos, sha256: h.digest('hex') };
  } finally {
    await f.close();
  }
}

/**
 * The regular files of `dir` (sub-directories left out), sorted by name, with size and SHA-256.
 */
export async function listFiles(fs: FileSystem, dir: string): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for (const name of await fs.readdir(dir)) {
    const path = joinPath(dir, name);
    const st = await fs.stat(path);
    if (!st.isFile) continue;
    const { size, sha256 } = await hashFile(fs, path);
    out.push({ name, size, sha256 });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The `*.wal` segments of `dir`, sorted by name, with their sizes. */
export async function listSegments(fs: FileSystem, dir: string): Promise<Array<{ name: string; size: number }>> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
  const out: Array<{ name: string; size: number }> = [];
  for (const name of names) out.push({ name, size: (await fs.stat(joinPath(dir, name))).size });
  return out;
}
