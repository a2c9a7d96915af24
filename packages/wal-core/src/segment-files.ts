/**
 * Which segment files make up a WAL and which of them a reader opens (etcd selectWALFiles):
 * list and sort the directory, keep valid names, start at the last segment whose index is ≤ the
 * snapshot index, and require the sequence numbers from there on to be continuous (with etcd's quirk:
 * no check after a sequence number 0).
 */
import { SegmentNotFoundError, SegmentSequenceGapError, SnapshotIndexNotCoveredError } from './errors.js';
import type { FileSystem } from './fs/file-system.js';
import { compareNames, compareSegments, tryParseSegmentName, type SegmentName } from './segment-name.js';
import type { WalLogger } from './options.js';

/** The valid segment names in `dir`, sorted; throws {@link SegmentNotFoundError} if there are none. */
export async function readSegmentNames(fs: FileSystem, dir: string, strict: boolean, logger?: WalLogger): Promise<SegmentName[]> {
  const names = (await fs.readdir(dir)).sort(compareNames);
  const out: SegmentName[] = [];
  for (const name of names) {
    const parsed = tryParseSegmentName(name, strict);
    if (parsed) out.push(parsed);
    else if (!name.endsWith('.tmp') && logger) logger.warn({ path: `${dir}/${name}` }, 'ignored file in wal directory');
  }
  if (out.length === 0) throw new SegmentNotFoundError(dir);
  return out.sort(compareSegments);
}

/** Position of the last name whose index ≤ `index` (etcd searchIndex, scanning backwards), or -1. */
export function searchIndex(names: readonly SegmentName[], index: bigint): number {
  for (let i = names.length - 1; i >= 0; i--) {
    if (index >= names[i]!.index) return i;
  }
  return -1;
}

/** etcd isValidSeq: each seq must be the previous + 1, except after a previous seq of 0 (etcd quirk). */
export function findSequenceGap(names: readonly SegmentName[]): number {
  let last = 0n;
  for (let i = 0; i < names.length; i++) {
    const cur = names[i]!.seq;
    if (last !== 0n && last !== cur - 1n) return i;
    last = cur;
  }
  return -1;
}

/** The names a reader at `snapIndex` opens. */
export async function selectSegments(
  fs: FileSystem,
  dir: string,
  snapIndex: bigint,
  strict: boolean,
  logger?: WalLogger,
): Promise<SegmentName[]> {
  const names = await readSegmentNames(fs, dir, strict, logger);
  const from = searchIndex(names, snapIndex);
  if (from < 0) throw new SnapshotIndexNotCoveredError(dir, snapIndex);
  const selected = names.slice(from);
  const gap = findSequenceGap(selected);
  if (gap >= 0) throw new SegmentSequenceGapError(dir, selected[gap - 1]!.name, selected[gap]!.name);
  return selected;
}

/** etcd wal.Exist: the directory has an entry whose extension is `.wal` (valid name or not). */
export async function walExists(fs: FileSystem, dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).some((n) => n.endsWith('.wal') && n.lastIndexOf('.') === n.length - 4);
  } catch {
    return false;
  }
}

/** An open segment: handle, size at opening, name. */
export interface OpenSegment {
  readonly name: string;
  readonly file: import('./fs/file-system.js').FileHandle;
  readonly size: number;
}

/**
 * Opens the named segments: read-only, or read-write with the non-blocking lock (etcd openWALFiles).
 * On any failure the ones already opened are closed.
 */
export async function openSegments(fs: FileSystem, dir: string, names: readonly SegmentName[], write: boolean): Promise<OpenSegment[]> {
  const out: OpenSegment[] = [];
  try {
    for (const n of names) {
      const file = await fs.open(`${dir}/${n.name}`, write ? 'readWrite' : 'read');
      try {
        if (write) await file.tryLock();
        out.push({ name: n.name, file, size: await file.size() });
      } catch (e) {
        await file.close().catch(() => {});
        throw e;
      }
    }
    return out;
  } catch (e) {
    await closeSegments(out);
    throw e;
  }
}

/** Closes segments, ignoring errors (read-only handles, or cleanup after another failure). */
export async function closeSegments(segs: readonly OpenSegment[]): Promise<void> {
  await Promise.all(segs.map((s) => s.file.close().catch(() => {})));
}
