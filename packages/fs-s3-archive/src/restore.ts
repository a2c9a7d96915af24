/**
 * {@link restoreWal}: rebuilds a WAL directory from the archive (and, optionally, the segments still in
 * the live directory), so that `Wal.openForRead(to.fs, to.dir, snapshot)` reads it.
 *
 * What it takes follows etcd's rule for opening at a snapshot: the last segment whose first index is at
 * or below the snapshot index, and every later one (without a snapshot: every segment). Before
 * downloading anything it checks the plan: sequence numbers without gaps and, from the metadata, the CRC
 * chain between archived segments. Then, oldest first, for each segment:
 *
 * 1. a file of that name already in the target with the right size and CRC-32C is kept (a resumed
 *    restore); one with other contents is a {@link RestoreTargetConflictError} (never overwritten);
 * 2. otherwise the object is downloaded and checked ({@link verifySegmentBytes}: size, CRC-32C, chunk
 *    CRCs, decoded facts equal to the metadata), or the live segment read and decoded;
 * 3. the decoded chain start must equal the previous segment's chain end ({@link ArchiveChainBreakError});
 * 4. it is written as `<name>.tmp` (a stale one is overwritten), fsynced, renamed to its name, and the
 *    directory synced.
 *
 * So a crash or an error at any point leaves only complete, verified segments under their names (and
 * perhaps a `.tmp`, which readers ignore); running the same restore again finishes it.
 */
import {
  InvalidArgumentError,
  RecordDecoder,
  RecordType,
  cleanPath,
  crc32cUpdate,
  dirnamePath,
  isWalError,
  joinPath,
  readFully,
  tryParseSegmentName,
  writeFully,
  type FileSystem,
} from '@walnut/wal-core';
import { compareSegmentNames, listArchive, verifySegmentBytes, type ArchiveProgress, type CatalogSegment } from './archive-catalog.js';
import {
  ArchiveChainBreakError,
  ArchiveCorruptionError,
  ArchiveSequenceGapError,
  ArchiveSnapshotNotCoveredError,
  RestoreTargetConflictError,
} from './archive-errors.js';
import type { ObjectStore } from './object-store.js';
import { BytesFileHandle, segmentFacts } from './segment-object.js';

/** Options of {@link restoreWal}. */
export interface RestoreOptions {
  /** The archive. */
  readonly store: ObjectStore;
  /** The key prefix of the archived WAL directory itself (e.g. `cluster-a/member-1/wal/`). */
  readonly dirPrefix: string;
  /**
   * The live file system of the WAL being restored, to also take the segments that are not archived (yet)
   * from `liveDir`. A segment both archived and live is taken from the archive (immutable and verified).
   */
  readonly liveFs?: FileSystem;
  /** The live WAL directory on `liveFs` (required with `liveFs`). */
  readonly liveDir?: string;
  /** Where to write the WAL: `dir` is created if needed; it must not hold segments that are not part of this restore. */
  readonly to: {
    /** The file system to write to. */
    readonly fs: FileSystem;
    /** The WAL directory on it. */
    readonly dir: string;
  };
  /** Restore what opening at this snapshot needs (default: every segment). */
  readonly snapshot?: {
    /** The snapshot's index. */
    readonly index: bigint;
    /** The snapshot's term. */
    readonly term: bigint;
  };
  /** Called after each segment (downloaded, copied or found already in place). */
  readonly onProgress?: (p: RestoreProgress) => void;
}

/** Progress of {@link restoreWal}. */
export interface RestoreProgress extends ArchiveProgress {
  /** What happened to the segment. */
  readonly action: RestoredSegment['action'];
}

/** One segment of a restore. */
export interface RestoredSegment {
  /** The segment's file name. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Where it came from. */
  readonly source: 'archive' | 'live';
  /**
   * `downloaded` from the archive; `copied` from the live directory; `kept`: already in the target with
   * the right size and CRC-32C (a resumed restore); `replaced`: a live segment whose earlier copy in the
   * target differed (the live tail grew since).
   */
  readonly action: 'downloaded' | 'copied' | 'kept' | 'replaced';
}

/** What {@link restoreWal} did. */
export interface RestoreResult {
  /** The target directory. */
  readonly dir: string;
  /** Every segment of the restored WAL, oldest first. */
  readonly segments: readonly RestoredSegment[];
  /** Bytes downloaded from the archive. */
  readonly downloadedBytes: number;
  /** The first index of the oldest restored segment (a WAL opens at snapshots from here on). */
  readonly firstIndex: bigint;
}

interface PlannedSegment {
  readonly name: string;
  readonly seq: bigint;
  readonly firstIndex: bigint;
  readonly archived: CatalogSegment | undefined;
  readonly livePath: string | undefined;
}

async function readWholeFile(fs: FileSystem, path: string): Promise<Uint8Array> {
  const f = await fs.open(path, 'read');
  try {
    const size = await f.size();
    const bytes = new Uint8Array(size);
    const n = await readFully(f, bytes, 0, size, 0);
    return n === size ? bytes : bytes.subarray(0, n);
  } finally {
    await f.close();
  }
}

async function readIfExists(fs: FileSystem, path: string): Promise<Uint8Array | undefined> {
  try {
    return await readWholeFile(fs, path);
  } catch (e) {
    if (isWalError(e) && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The chain start of a segment that may not decode to its end (the live WAL's last segment, which a
 * running WAL may be writing or which may have a torn tail the WAL itself tolerates): its head CRC record.
 */
async function chainStartOf(name: string, bytes: Uint8Array, what: string): Promise<number> {
  const dec = new RecordDecoder([{ name, file: new BytesFileHandle(name, bytes), size: bytes.length }]);
  let rec;
  try {
    rec = await dec.next();
  } catch (e) {
    if (isWalError(e)) throw new ArchiveCorruptionError(what, `its first record does not decode: ${e.message}`, { cause: e });
    throw e;
  }
  if (!rec || rec.type !== RecordType.Crc) throw new ArchiveCorruptionError(what, 'it does not start with a CRC record');
  return rec.crc >>> 0;
}

/**
 * Restores a WAL directory from the archive (see the module comment).
 *
 * @throws {@link ArchiveSnapshotNotCoveredError} when no segment has a first index at or below the snapshot index (or there is none)
 * @throws {@link ArchiveSequenceGapError} when a segment the WAL needs is missing
 * @throws {@link ArchiveChainBreakError} / {@link ArchiveCorruptionError} when a needed segment does not match its metadata or the chain
 * @throws {@link RestoreTargetConflictError} when the target holds segments it must not overwrite
 */
export async function restoreWal(options: RestoreOptions): Promise<RestoreResult> {
  const { store, dirPrefix } = options;
  if ((options.liveFs === undefined) !== (options.liveDir === undefined)) {
    throw new InvalidArgumentError('restoreWal: liveFs and liveDir go together');
  }
  const toFs = options.to.fs;
  const toDir = cleanPath(options.to.dir);
  const location = `${store.location} (${dirPrefix || 'bucket root'})`;

  // 1. What there is: archived segments (with their metadata) and, optionally, live ones. The live
  // directory is listed first: a segment the archiver moves in between is then seen in both listings (the
  // archived copy wins), never in neither, which would look like a gap.
  const liveNames = options.liveFs && options.liveDir !== undefined ? await options.liveFs.readdir(cleanPath(options.liveDir)) : [];
  const catalog = await listArchive(store, dirPrefix);
  const byName = new Map<string, PlannedSegment>();
  for (const s of catalog.segments)
    byName.set(s.name, { name: s.name, seq: s.seq, firstIndex: s.firstIndex, archived: s, livePath: undefined });
  if (options.liveDir !== undefined) {
    const liveDir = cleanPath(options.liveDir);
    for (const n of liveNames) {
      const parsed = tryParseSegmentName(n);
      if (!parsed || byName.has(n)) continue;
      byName.set(n, { name: n, seq: parsed.seq, firstIndex: parsed.index, archived: undefined, livePath: joinPath(liveDir, n) });
    }
  }
  const all = [...byName.values()].sort(compareSegmentNames);

  // 2. The plan: etcd's rule (the last segment whose first index is at or below the snapshot index, and every later one).
  let from = 0;
  if (all.length === 0) throw new ArchiveSnapshotNotCoveredError(location, options.snapshot?.index, 'it holds no segments');
  if (options.snapshot) {
    const idx = options.snapshot.index;
    from = -1;
    for (let i = all.length - 1; i >= 0; i--) {
      if (all[i]!.firstIndex <= idx) {
        from = i;
        break;
      }
    }
    if (from < 0) {
      throw new ArchiveSnapshotNotCoveredError(
        location,
        idx,
        `the oldest segment, '${all[0]!.name}', starts at index ${all[0]!.firstIndex} (pruned or never archived)`,
      );
    }
  }
  const plan = all.slice(from);
  for (let i = 1; i < plan.length; i++) {
    const prev = plan[i - 1]!;
    const cur = plan[i]!;
    if (cur.seq !== prev.seq + 1n) throw new ArchiveSequenceGapError(location, prev.name, cur.name);
  }
  // Everything the metadata can tell before any download: each needed object's metadata, and the chain between them.
  for (const p of plan) {
    if (!p.archived) continue;
    const problem = catalog.problems.find((e) => (e as { key?: unknown }).key === p.archived!.key);
    if (problem && !(problem instanceof ArchiveChainBreakError)) throw problem;
  }
  for (let i = 1; i < plan.length; i++) {
    const a = plan[i - 1]!.archived?.facts;
    const b = plan[i]!.archived?.facts;
    if (a && b && b.chainStart !== a.chainEnd)
      throw new ArchiveChainBreakError(plan[i - 1]!.archived!.key, plan[i]!.archived!.key, a.chainEnd, b.chainStart);
  }

  // 3. The target: created if needed; it must not hold segments of something else.
  await toFs.mkdir(toDir, { recursive: true });
  if (toDir !== '/') await toFs.syncDir(dirnamePath(toDir));
  const planned = new Set(plan.map((p) => p.name));
  const foreign = (await toFs.readdir(toDir)).filter((n) => tryParseSegmentName(n) !== undefined && !planned.has(n));
  if (foreign.length > 0) {
    throw new RestoreTargetConflictError(
      toDir,
      `holds segments that are not part of this restore (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}): restore into an empty directory`,
    );
  }

  // 4. Oldest first: keep, or fetch + verify + chain-check + write.
  const totalBytes = plan.reduce((n, p) => n + (p.archived?.size ?? 0), 0);
  const restored: RestoredSegment[] = [];
  let downloadedBytes = 0;
  let bytesDone = 0;
  let prevChainEnd: number | undefined;
  let prevKey = '';
  for (const [i, p] of plan.entries()) {
    const isLast = i === plan.length - 1;
    const target = joinPath(toDir, p.name);
    const what = p.archived ? p.archived.key : p.livePath!;
    const existing = await readIfExists(toFs, target);
    let bytes: Uint8Array;
    let action: RestoredSegment['action'];
    let chain: { start: number; end: number | undefined };
    if (p.archived) {
      const facts = p.archived.facts!;
      if (existing) {
        if (existing.length !== facts.size || crc32cUpdate(0, existing) >>> 0 !== facts.crc32c) {
          throw new RestoreTargetConflictError(target, `already exists with other contents than the archived '${p.archived.key}'`);
        }
        bytes = existing;
        action = 'kept';
      } else {
        bytes = await store.get(p.archived.key);
        downloadedBytes += bytes.length;
        action = 'downloaded';
      }
      // The bytes in hand (downloaded, or a kept file) are checked against the metadata and decoded.
      const decoded = await verifySegmentBytes(existing ? target : p.archived.key, bytes, facts);
      chain = { start: decoded.chainStart, end: decoded.chainEnd };
    } else {
      bytes = await readWholeFile(options.liveFs!, p.livePath!);
      const same = existing !== undefined && existing.length === bytes.length && crc32cUpdate(0, existing) === crc32cUpdate(0, bytes);
      action = same ? 'kept' : existing ? 'replaced' : 'copied';
      if (isLast) {
        // The live WAL's last segment may be in the middle of a write (or have a torn tail the WAL tolerates).
        chain = { start: await chainStartOf(p.name, bytes, what), end: undefined };
      } else {
        // A released live segment must decode to its end.
        const decoded = await segmentFacts(p.name, bytes, what);
        chain = { start: decoded.chainStart, end: decoded.chainEnd };
      }
    }
    if (prevChainEnd !== undefined && chain.start !== prevChainEnd)
      throw new ArchiveChainBreakError(prevKey, what, prevChainEnd, chain.start);
    prevChainEnd = chain.end;
    prevKey = what;

    if (action !== 'kept') {
      const tmp = `${target}.tmp`;
      const f = await toFs.open(tmp, 'createTruncate');
      try {
        await writeFully(f, bytes, 0, bytes.length, 0);
        await f.sync();
      } finally {
        await f.close();
      }
      await toFs.rename(tmp, target);
      await toFs.syncDir(toDir);
    }
    restored.push({ name: p.name, size: bytes.length, source: p.archived ? 'archive' : 'live', action });
    bytesDone += p.archived ? bytes.length : 0;
    options.onProgress?.({ name: p.name, done: i + 1, total: plan.length, bytes: bytesDone, totalBytes, action });
  }
  return { dir: toDir, segments: restored, downloadedBytes, firstIndex: plan[0]!.firstIndex };
}
