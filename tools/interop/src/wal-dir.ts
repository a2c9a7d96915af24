/** Plain-Node helpers on a WAL directory: copies, listings, and an etcd-server-like purge. */
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapPosition } from './etcdwal.js';

export interface FileInfo {
  name: string;
  size: number;
  sha256: string;
}

/** Regular files of `dir`, sorted by name, with size and sha256 (like etcdwal's listFiles). */
export async function listFiles(dir: string): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (!d.isFile()) continue;
    const bytes = await readFile(join(dir, d.name));
    out.push({ name: d.name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The `*.wal` segment names of `dir`, sorted. */
export async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

/** Copies `src` (a flat WAL directory) to `dst`, which must not exist. */
export async function copyDir(src: string, dst: string): Promise<void> {
  await cp(src, dst, { recursive: true, errorOnExist: true, force: false });
}

/** `<seq>-<index>.wal` → index. */
export function segmentIndex(name: string): bigint {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(name);
  if (!m) throw new Error(`not a WAL segment name: ${name}`);
  return BigInt(`0x${m[2]!}`);
}

/**
 * Removes the segments an etcd server may purge once `snap` is durable (after ReleaseLockTo): every
 * segment before the last one whose first index is <= snap.index, i.e. the one etcd's selectWALFiles
 * starts reading at. Returns the names removed.
 */
export async function purgeBefore(dir: string, snap: SnapPosition): Promise<string[]> {
  const names = await segmentNames(dir);
  let keepFrom = 0;
  names.forEach((n, i) => {
    if (segmentIndex(n) <= snap.index) keepFrom = i;
  });
  const removed = names.slice(0, keepFrom);
  for (const n of removed) await rm(join(dir, n));
  return removed;
}
