/**
 * {@link pruneArchive}: archive retention. Removes the archived segments of one WAL directory all of whose
 * entries are below an index, oldest first, and never what restoring at a snapshot at or after that index
 * still needs.
 *
 * The rule: the segments are taken oldest first, and one may go only while the NEXT archived segment's
 * first index is at or below `before` (so every entry of it is below `before`), and never the keeper —
 * the last archived segment whose first index is at or below `before`, the one a WAL opened at a snapshot
 * at `before` starts reading from (etcd's rule). Removal is a prefix of the archive, so it never leaves a
 * gap in the middle, and a failure part way leaves a consistent (shorter) archive.
 *
 * It also refuses when no snapshot record at or after `before` is archived (a WAL opens only at a
 * snapshot it has a record of, so nothing the archive keeps could be restored), and
 * it refuses ({@link ArchivePruneRefusedError}, nothing deleted) when the archive is not consistent up to
 * and including the keeper — a sequence gap, a duplicate sequence number, a chain break, or an object
 * with missing or malformed metadata: then which objects hold only older entries cannot be proven from
 * the names, and what looks prunable may be the only copy of what an older restore needs. Run
 * `verifyArchive` to see why.
 */
import { InvalidArgumentError, RecordDecoder, RecordType, decodeSnapshot } from '@walnut/wal-core';
import { listArchive, verifySegmentBytes, type CatalogSegment } from './archive-catalog.js';
import { ArchivePruneRefusedError, type ArchiveError } from './archive-errors.js';
import type { ObjectStore } from './object-store.js';
import { BytesFileHandle } from './segment-object.js';

/** Options of {@link pruneArchive}. */
export interface PruneArchiveOptions {
  /** The archive. */
  readonly store: ObjectStore;
  /** The key prefix of the archived WAL directory itself. */
  readonly dirPrefix: string;
  /** Remove segments all of whose entries are below this raft index (the oldest snapshot to keep restorable). */
  readonly before: bigint;
  /** Delete; `false` is a dry run that only returns what would be removed. */
  readonly yes: boolean;
  /** Called after each object deleted. */
  readonly onDeleted?: (segment: CatalogSegment) => void;
}

/** What {@link pruneArchive} did (or, as a dry run, would do). */
export interface PruneArchiveResult {
  /** True when nothing was deleted because `yes` was false. */
  readonly dryRun: boolean;
  /** The segments removed (dry run: that would be removed), oldest first. */
  readonly removed: readonly CatalogSegment[];
  /** Their bytes. */
  readonly removedBytes: number;
  /** The segment kept for a restore at `before` (the last one whose first index ≤ before), if any is archived. */
  readonly keeper: CatalogSegment | undefined;
  /** How many archived segments remain (dry run: would remain). */
  readonly remaining: number;
}

/**
 * Prunes the archive of one WAL directory (see the module comment).
 *
 * @throws {@link ArchivePruneRefusedError} when the archive is inconsistent up to the keeper (nothing deleted, dry run or not)
 * @throws InvalidArgumentError when `before` is not a uint64
 */
export async function pruneArchive(options: PruneArchiveOptions): Promise<PruneArchiveResult> {
  const { store, dirPrefix, before } = options;
  if (typeof before !== 'bigint' || before < 0n || before >= 1n << 64n) {
    throw new InvalidArgumentError(`prune: before must be a uint64 bigint, got ${String(before)}`);
  }
  const catalog = await listArchive(store, dirPrefix);
  const segs = catalog.segments;
  const location = `${store.location} (${dirPrefix || 'bucket root'})`;

  let keeperAt = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    if (segs[i]!.firstIndex <= before) {
      keeperAt = i;
      break;
    }
  }
  const keeper = keeperAt >= 0 ? segs[keeperAt] : undefined;
  let count = 0;
  while (count < keeperAt && segs[count + 1]!.firstIndex <= before) count++;
  const removed = segs.slice(0, count);

  if (removed.length > 0) {
    // Everything from the oldest object to the keeper must be consistent for the names to prove the rule.
    const upTo = new Set<string>();
    for (const s of segs.slice(0, keeperAt + 1)) {
      upTo.add(s.key);
      upTo.add(s.name);
    }
    const blocking = catalog.problems.filter((p: ArchiveError) => {
      const k = (p as { key?: unknown }).key;
      const next = (p as { next?: unknown }).next;
      return (typeof k === 'string' && upTo.has(k)) || (typeof next === 'string' && upTo.has(next));
    });
    if (blocking.length > 0) {
      throw new ArchivePruneRefusedError(
        location,
        `the archive is not consistent up to '${keeper!.name}', the segment a restore at index ${before} needs (${blocking[0]!.message}${blocking.length > 1 ? `; and ${blocking.length - 1} more` : ''})`,
        blocking,
      );
    }
    if (removed.some((s) => s.key === keeper!.key)) {
      // The rule above makes this impossible; the check keeps it so.
      throw new ArchivePruneRefusedError(location, `'${keeper!.name}' is needed to restore at index ${before}`);
    }
    // What remains must still be restorable: a WAL opens only at a snapshot it has a record of, so at least
    // one snapshot at or after `before` must be archived. Searched newest first (usually one download).
    if ((await newestSnapshotAtOrAfter(store, segs.slice(keeperAt), before)) === undefined) {
      throw new ArchivePruneRefusedError(
        location,
        `no snapshot record at or after index ${before} is archived: after this prune no snapshot the archive still holds could be restored. Archive a snapshot at or after ${before} first (snapshot, releaseLockTo, archive push), or prune before an archived snapshot's index`,
      );
    }
  }

  const removedBytes = removed.reduce((n, s) => n + s.size, 0);
  if (options.yes) {
    for (const s of removed) {
      await store.delete(s.key);
      options.onDeleted?.(s);
    }
  }
  return { dryRun: !options.yes, removed, removedBytes, keeper, remaining: segs.length - removed.length };
}

/**
 * The index of the newest snapshot record at or after `at` in `segs` (each downloaded and verified against
 * its metadata, newest segment first, stopping at the first that has one), or undefined.
 */
async function newestSnapshotAtOrAfter(store: ObjectStore, segs: readonly CatalogSegment[], at: bigint): Promise<bigint | undefined> {
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i]!;
    if (!seg.facts) continue;
    const bytes = await store.get(seg.key);
    await verifySegmentBytes(seg.key, bytes, seg.facts);
    const dec = new RecordDecoder([{ name: seg.name, file: new BytesFileHandle(seg.name, bytes), size: bytes.length }]);
    let found: bigint | undefined;
    for (let rec = await dec.next(); rec; rec = await dec.next()) {
      if (rec.type === RecordType.Crc) dec.updateCrc(rec.crc);
      else if (rec.type === RecordType.Snapshot) {
        const snap = decodeSnapshot(rec.data ?? new Uint8Array(0));
        if (snap.index >= at && (found === undefined || snap.index > found)) found = snap.index;
      }
    }
    if (found !== undefined) return found;
  }
  return undefined;
}
