/**
 * The WAL: lifecycle (create, open, close, releaseLockTo), the append path (save, saveSnapshot, cut,
 * sync) and readAll. Semantics are etcd's `wal` package (see etcd-wal-format.md §2); the record loop
 * lives in read-all.ts / verify.ts / repair.ts over the one shared RecordDecoder.
 *
 * Concurrency: every public call is queued and takes effect in call order, awaited or not. A save
 * that needs a sync does not hold the queue while it waits: it registers for the next sync, which
 * later saves join, so concurrent saves share one datasync (group commit). No save resolves before
 * a datasync that started after its bytes were handed to the file system has completed.
 */
import {
  DecoderNotFoundError,
  InvalidArgumentError,
  InvalidSnapshotError,
  SnapshotNotFoundError,
  WalClosedError,
  WalError,
  WalExistsError,
  WalNotWritableError,
  WalPoisonedError,
} from './errors.js';
import { RecordType, checkEntry, checkUint64, encodeHardState, encodeSnapshot } from './codec/messages.js';
import { FilePipeline } from './file-pipeline.js';
import type { FileHandle, FileSystem } from './fs/file-system.js';
import { basenamePath, cleanPath, dirnamePath, joinPath } from './fs/path.js';
import {
  DEFAULT_SEGMENT_SIZE_BYTES,
  SLOW_SYNC_WARNING_MS,
  guardHooks,
  guardLogger,
  immediateScheduler,
  noopLogger,
  systemClock,
  type WalClock,
  type WalLogger,
  type WalMetrics,
  type WalOptions,
  type WalRecordKind,
  type WalScheduler,
} from './options.js';
import { PageWriter } from './page-writer.js';
import { replayRecords, replayStream, type ReplayItem, type ReplaySummary } from './read-all.js';
import { RecordDecoder } from './record-decoder.js';
import { RecordEncoder } from './record-encoder.js';
import { repairWal } from './repair.js';
import { closeSegments, openSegments, selectSegments, walExists, type OpenSegment } from './segment-files.js';
import { formatSegmentName, parseSegmentName } from './segment-name.js';
import { validSnapshotEntries, verifyWal } from './verify.js';
import { SegmentPurger, checkPurgeOptions, type WalPurgeOptions } from './purge.js';
import { EMPTY_HARD_STATE, isEmptyHardState, mustSync, type Entry, type HardState, type Snapshot } from './types.js';

/** What {@link Wal.readAll} returns. */
export interface ReadAllResult {
  /** The metadata given to `create` (undefined if it was written as absent). */
  readonly metadata: Uint8Array | undefined;
  /** The last HardState saved (empty if none). */
  readonly hardState: HardState;
  /** Entries after the start snapshot, overwrites applied; may include uncommitted entries. */
  readonly entries: Entry[];
}

/** The position of a snapshot to open the WAL at. */
export interface SnapshotPosition {
  /** The snapshot's index (0 with term 0: from the beginning of the WAL). */
  readonly index: bigint;
  /** The snapshot's term. */
  readonly term: bigint;
}

interface ResolvedOptions {
  readonly segmentSizeBytes: number;
  readonly noFsync: boolean;
  readonly logger: WalLogger;
  readonly metrics: WalMetrics | undefined;
  readonly clock: WalClock;
  readonly scheduler: WalScheduler;
  readonly strictSegmentNames: boolean;
  readonly requireConfState: boolean;
  readonly purge: WalPurgeOptions | undefined;
}

function resolveOptions(o: WalOptions | undefined): ResolvedOptions {
  const size = o?.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE_BYTES;
  if (!Number.isSafeInteger(size) || size < 1) throw new InvalidArgumentError(`segmentSizeBytes must be a positive integer, got ${size}`);
  if (o?.purge !== undefined) checkPurgeOptions(o.purge);
  // Neither a throwing logger nor a throwing metrics hook may fail (or poison) a write.
  const logger = guardLogger(o?.logger ?? noopLogger);
  return {
    segmentSizeBytes: size,
    noFsync: o?.noFsync ?? false,
    logger,
    metrics: guardHooks(o?.metrics, logger),
    clock: o?.clock ?? systemClock,
    scheduler: o?.scheduler ?? immediateScheduler,
    strictSegmentNames: o?.strictSegmentNames ?? false,
    requireConfState: o?.requireConfState ?? false,
    purge: o?.purge,
  };
}

function checkSnapshotPosition(snap: SnapshotPosition | undefined | null): SnapshotPosition {
  const s = snap ?? { index: 0n, term: 0n };
  try {
    checkUint64('snapshot.index', s.index);
    checkUint64('snapshot.term', s.term);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return { index: s.index, term: s.term };
}

/** A locked segment the WAL holds (the last one is the tail). */
interface HeldSegment {
  file: FileHandle;
  name: string;
}

interface SyncWaiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Validates save's arguments (InvalidArgumentError) and returns a copy of the HardState. */
function checkSaveArgs(hardState: HardState | undefined | null, entries: readonly Entry[]): HardState {
  const hs = hardState ?? EMPTY_HARD_STATE;
  if (!isEmptyHardState(hs)) {
    checkUint64Arg('hardState.term', hs.term);
    checkUint64Arg('hardState.vote', hs.vote);
    checkUint64Arg('hardState.commit', hs.commit);
  }
  for (const e of entries) {
    try {
      checkEntry(e);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  }
  return { term: hs.term, vote: hs.vote, commit: hs.commit };
}

const SETTLED: Promise<void> = Promise.resolve();

/**
 * An upper bound on the bytes a save's records take in the write buffer: per entry its data plus 72
 * (frame header 8, record header ≤ 18, the entry's fields ≤ 34, padding ≤ 7), plus 72 for the HardState
 * record (≤ 33 bytes of data). No BigInt arithmetic: it decides, per save, whether save can encode inline.
 */
function inlineBound(entries: readonly Entry[]): number {
  let n = 72;
  for (let i = 0; i < entries.length; i++) n += 72 + (entries[i]!.data?.length ?? 0);
  return n;
}

/** Go's time layout "20060102.150405.999999": fraction without trailing zeros, omitted when zero. */
function brokenTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}.${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  const frac = p(d.getMilliseconds() * 1000, 6).replace(/0+$/, '');
  return frac ? `${base}.${frac}` : base;
}

/**
 * An etcd-compatible write-ahead log in a directory of a {@link FileSystem}.
 *
 * ```ts
 * const wal = await Wal.create(fs, '/wal', metadata);
 * await wal.save({ term: 1n, vote: 1n, commit: 0n }, [{ index: 1n, term: 1n, type: 0, data }]);
 * await wal.close();
 * const again = await Wal.open(fs, '/wal', { index: 0n, term: 0n });
 * const { metadata, hardState, entries } = await again.readAll();
 * ```
 */
export class Wal {
  private readonly fs: FileSystem;
  /** The WAL directory. */
  readonly dir: string;
  private readonly o: ResolvedOptions;
  private readonly writeMode: boolean;

  private start: SnapshotPosition = { index: 0n, term: 0n };
  private decoder: RecordDecoder | undefined;
  private readSegments: OpenSegment[] = [];
  private metadata: Uint8Array | undefined;
  /** The last non-empty HardState saved through this handle (etcd w.state; readAll does not set it). */
  private state: HardState = EMPTY_HARD_STATE;
  /** Index of the last entry seen (etcd enti). */
  private enti = 0n;
  private locks: HeldSegment[] = [];
  private tailSeq = 0n;
  private encoder: RecordEncoder | undefined;
  private pipeline: FilePipeline | undefined;
  /** The background purger of `options.purge` (write mode only); stopped first in close. */
  private purger: SegmentPurger | undefined;

  private closed = false;
  private failure: WalPoisonedError | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private writeSeq = 0;
  private waiters: SyncWaiter[] = [];
  private syncQueued = false;
  /**
   * Queued operations not yet finished (the group sync included). With none, or only a group sync that
   * has not started, a save that fits the write buffer is encoded at once instead of queued (see save).
   */
  private activeOps = 0;
  /** Decrements {@link activeOps}; one bound function, not a closure per operation. */
  private readonly opDone = (): void => {
    this.activeOps--;
  };

  private constructor(fs: FileSystem, dir: string, o: ResolvedOptions, writeMode: boolean) {
    this.fs = fs;
    this.dir = dir;
    this.o = o;
    this.writeMode = writeMode;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  /**
   * Creates a WAL in `dir` (etcd wal.Create): built in `<dir>.tmp` (first segment preallocated, CRC,
   * metadata and the {0,0} snapshot records written and synced), renamed to `dir` (removing whatever
   * `dir` held), and the parent directory synced. Fails with {@link WalExistsError} if `dir` already
   * holds `*.wal` files. On a failure after the rename the directory is moved to `<dir>.broken.<time>`.
   * The returned WAL is ready for `save`; it has nothing to read (`readAll` throws DecoderNotFoundError).
   */
  static async create(fs: FileSystem, dir: string, metadata: Uint8Array | undefined, options?: WalOptions): Promise<Wal> {
    const o = resolveOptions(options);
    dir = cleanPath(dir);
    if (metadata !== undefined && !(metadata instanceof Uint8Array))
      throw new InvalidArgumentError('metadata must be a Uint8Array or undefined');
    if (await walExists(fs, dir)) throw new WalExistsError(dir);
    const tmp = `${dir}.tmp`;
    await fs.remove(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
    const leftovers = await fs.readdir(tmp);
    if (leftovers.length > 0) throw new InvalidArgumentError(`expected "${tmp}" to be empty, got ${JSON.stringify(leftovers)}`);

    const name = formatSegmentName(0n, 0n);
    const w = new Wal(fs, dir, o, true);
    w.metadata = metadata;
    try {
      const file = await fs.open(joinPath(tmp, name), 'create', { mode: 0o600 });
      w.locks = [{ file, name }];
      await file.lock();
      await file.allocate(o.segmentSizeBytes, { synced: !o.noFsync });
      w.encoder = w.newEncoder(file, 0, 0);
      await w.encoder.encode(RecordType.Crc, undefined);
      await w.encoder.encode(RecordType.Metadata, metadata);
      await w.writeSnapshotRecord({ index: 0n, term: 0n });
      w.countRecords('crc', 1);
      w.countRecords('metadata', 1);
      w.countRecords('snapshot', 1);
      await w.syncNow();
      // Not in etcd: make the first segment's name durable inside the temp dir before it is renamed into
      // place. POSIX does not order a create in a directory before that directory's own rename; without
      // this, a power cut before the first cut could lose the segment and every save acknowledged so far.
      await w.timedSync(() => fs.syncDir(tmp));
    } catch (e) {
      await w.releaseAll();
      await fs.remove(tmp, { recursive: true, force: true }).catch(() => {});
      throw e;
    }

    // Replace dir with the finished tmp dir, still holding the lock on the first segment.
    try {
      await fs.remove(dir, { recursive: true, force: true });
      await fs.rename(tmp, dir);
    } catch (e) {
      await w.releaseAll();
      await fs.remove(tmp, { recursive: true, force: true }).catch(() => {});
      throw e;
    }
    w.pipeline = new FilePipeline(fs, dir, o.segmentSizeBytes, !o.noFsync, o.scheduler, (e) =>
      o.logger.warn({ dir, error: e instanceof Error ? e.message : String(e) }, 'wal: failed to prepare the next segment'),
    );

    // The rename is only durable once the parent directory is synced.
    try {
      await w.timedSync(() => fs.syncDir(dirnamePath(dir)));
    } catch (e) {
      await w.closeQuietly();
      const broken = `${dir}.broken.${brokenTimestamp(o.clock.wallTime())}`;
      await fs.rename(dir, broken);
      o.logger.warn({ dir, broken, error: (e as Error).message }, 'wal: create failed; moved the directory aside');
      throw e;
    }
    w.startPurger();
    return w;
  }

  /**
   * Opens the WAL for reading and appending at `snap` (etcd wal.Open): the segments from the last one
   * whose index ≤ `snap.index` are opened and locked (non-blocking: a lock held elsewhere fails with
   * `ELOCKED`). Call {@link Wal.readAll} next; only then can it be appended to.
   */
  static async open(fs: FileSystem, dir: string, snap: SnapshotPosition, options?: WalOptions): Promise<Wal> {
    return Wal.openAtIndex(fs, dir, snap, options, true);
  }

  /** Opens the WAL read-only at `snap` (etcd wal.OpenForRead): no locks, no file pipeline, no writes. */
  static async openForRead(fs: FileSystem, dir: string, snap: SnapshotPosition, options?: WalOptions): Promise<Wal> {
    return Wal.openAtIndex(fs, dir, snap, options, false);
  }

  private static async openAtIndex(
    fs: FileSystem,
    dir: string,
    snap: SnapshotPosition,
    options: WalOptions | undefined,
    write: boolean,
  ): Promise<Wal> {
    const o = resolveOptions(options);
    dir = cleanPath(dir);
    const start = checkSnapshotPosition(snap);
    const names = await selectSegments(fs, dir, start.index, o.strictSegmentNames, o.logger);
    const segs = await openSegments(fs, dir, names, write);
    const w = new Wal(fs, dir, o, write);
    w.start = start;
    w.decoder = new RecordDecoder(segs);
    if (write) {
      w.locks = segs.map((s) => ({ file: s.file, name: s.name }));
      w.tailSeq = names[names.length - 1]!.seq;
      w.pipeline = new FilePipeline(fs, dir, o.segmentSizeBytes, !o.noFsync, o.scheduler, (e) =>
        o.logger.warn({ dir, error: e instanceof Error ? e.message : String(e) }, 'wal: failed to prepare the next segment'),
      );
      w.startPurger();
    } else {
      w.readSegments = segs;
    }
    return w;
  }

  /**
   * Closes the WAL (etcd Close): stops the file pipeline (deleting its prepared temp file), syncs the
   * tail, and releases every lock. If the final sync fails, the error is thrown and the locks are still
   * released (the process cannot do anything useful with them).
   */
  async close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      this.closed = true;
      // Before any lock is released: a purge round after that would delete segments the next open needs (etcd #11308).
      await this.purger?.stop();
      await this.pipeline?.close();
      let err: unknown;
      if (this.encoder && !this.failure) {
        try {
          await this.syncNow();
        } catch (e) {
          err = e;
        }
      }
      await this.releaseAll();
      this.rejectWaiters(new WalClosedError());
      if (err) throw err;
    });
  }

  /**
   * Releases the locks on segments that are no longer needed for a snapshot at `index` (etcd
   * ReleaseLockTo): keeps the last segment whose index is < `index` and every one after it, so a
   * purge can delete the rest.
   */
  async releaseLockTo(index: bigint): Promise<void> {
    checkUint64Arg('index', index);
    return this.enqueue(async () => {
      this.checkOpen();
      if (this.locks.length === 0) return;
      let smaller = this.locks.length - 1;
      for (let i = 0; i < this.locks.length; i++) {
        if (parseSegmentName(this.locks[i]!.name).index >= index) {
          smaller = i - 1;
          break;
        }
      }
      if (smaller <= 0) return;
      const released = this.locks.slice(0, smaller);
      this.locks = this.locks.slice(smaller);
      for (const l of released) {
        await l.file
          .close()
          .catch((e: unknown) => this.o.logger.warn({ file: l.name, error: String(e) }, 'wal: failed to close released segment'));
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Reading
  // ---------------------------------------------------------------------------------------------

  /**
   * Reads the WAL from the start snapshot to the end (etcd ReadAll). Can be called once, on a WAL from
   * `open` or `openForRead`. In write mode the scan must reach a clean end (an unexpected EOF — a torn
   * tail — throws; run {@link Wal.repair} once and reopen, as etcd does); the tail is then zeroed past
   * the last good record and the WAL accepts appends. In read mode a torn tail ends the read quietly.
   *
   * Errors carry what etcd returns with them: {@link SnapshotNotFoundError} (thrown in both modes —
   * etcd's write mode loses it; walnut's one deliberate deviation) and SliceOutOfRangeError have
   * `partial`. After a SnapshotNotFoundError a write-mode WAL does not accept appends.
   */
  async readAll(): Promise<ReadAllResult> {
    return this.enqueue(async () => {
      const dec = this.takeDecoder();
      try {
        const r = await replayRecords(dec, this.start.index, this.start.term);
        await this.finishRead(dec, r, r.entries);
        return { metadata: r.metadata, hardState: r.hardState, entries: r.entries };
      } finally {
        await this.closeReadSegments();
      }
    });
  }

  /**
   * The streaming form of {@link Wal.readAll}, for replaying large WALs in bounded memory: yields the
   * records in WAL order (entries after the start snapshot, HardStates, metadata, snapshot records) and
   * returns the final metadata and HardState. The same checks and errors as readAll apply (a gap throws
   * SliceOutOfRangeError, a missing start snapshot throws SnapshotNotFoundError at the end, a torn tail
   * ends a read-mode stream quietly and throws in write mode); in write mode the WAL accepts appends once
   * the stream has been consumed to its end.
   *
   * Entries come with raft's overwrite rule left to the consumer: an entry at index i replaces every entry
   * at or after i yielded before it. Call either readAll or replay, once.
   *
   * ```ts
   * for await (const item of wal.replay()) if (item.kind === 'entry') apply(item.entry);
   * ```
   */
  async *replay(): AsyncGenerator<
    ReplayItem,
    {
      /** The metadata, `undefined` when the WAL has none. */
      metadata: Uint8Array | undefined;
      /** The last HardState, or the empty HardState. */
      hardState: HardState;
    }
  > {
    const dec = await this.enqueue(async () => this.takeDecoder());
    try {
      const it = replayStream(dec, this.start.index, this.start.term);
      for (;;) {
        const r = await it.next();
        if (r.done) {
          const summary = r.value;
          await this.enqueue(() => this.finishRead(dec, summary, []));
          return { metadata: summary.metadata, hardState: summary.hardState };
        }
        yield r.value;
      }
    } finally {
      await this.closeReadSegments();
    }
  }

  private takeDecoder(): RecordDecoder {
    this.checkOpen();
    const dec = this.decoder;
    if (!dec) throw new DecoderNotFoundError();
    this.decoder = undefined;
    return dec;
  }

  /** What readAll does once the records are read: judge the end, then (write mode) make the tail appendable. */
  private async finishRead(dec: RecordDecoder, r: ReplaySummary, entries: Entry[]): Promise<void> {
    if (r.unexpectedEof && this.writeMode) throw r.unexpectedEof;
    this.enti = r.lastEntryIndex;
    if (!r.snapshotFound) {
      throw new SnapshotNotFoundError(this.start.index, this.start.term, { metadata: r.metadata, hardState: r.hardState, entries });
    }
    this.start = { index: 0n, term: 0n };
    this.metadata = r.metadata;
    if (this.writeMode) {
      const tail = this.locks[this.locks.length - 1]!;
      // Zero everything after the last good record: leftovers of unsynced writes past a zero length word
      // would otherwise be half overwritten by new records and fail their CRC on the next open.
      const off = dec.lastOffset;
      const size = await tail.file.size();
      await tail.file.truncate(off);
      await tail.file.allocate(size, { synced: !this.o.noFsync });
      // Not in etcd: make every segment name this WAL is about to build on durable. A process that died
      // between a cut's rename and its directory sync left a tail whose name a power cut could still
      // remove, with the entries appended to it from now on.
      await this.timedSync(() => this.fs.syncDir(this.dir));
      this.encoder = this.newEncoder(tail.file, off, dec.crc);
    }
  }

  private async closeReadSegments(): Promise<void> {
    if (!this.writeMode && this.readSegments.length > 0) {
      const segs = this.readSegments;
      this.readSegments = [];
      await closeSegments(segs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Appending
  // ---------------------------------------------------------------------------------------------

  /**
   * Appends entries, then the HardState (etcd Save). Resolves when the records are durable if raft's
   * MustSync says they must be (any entry, or a change of term or vote); otherwise they may still sit
   * in the write buffer. An empty HardState is not written; an empty HardState with no entries is a no-op.
   * Cuts a new segment when the tail has reached the segment size. The entries' `data` buffers must not be
   * modified until the returned promise settles.
   */
  save(hardState: HardState | undefined | null, entries: readonly Entry[] = []): Promise<void> {
    // Not an async function: the inline path below returns the sync's own promise (or a settled one),
    // one promise and one microtask turn fewer per save than an async wrapper awaiting it.
    let state: HardState;
    try {
      state = checkSaveArgs(hardState, entries);
    } catch (e) {
      return Promise.reject(e);
    }
    const enc = this.encoder;
    // Inline: nothing queued ahead of this save but, at most, a group sync that has not started (which
    // then covers this save too), and the records fit the write buffer without a flush or a cut. Then
    // encoding at once is the same as queueing it: the same bytes in the same order. It saves the queue's
    // promise hops, which cost more than the encoding itself on bench a (one entry per save): after each
    // fdatasync the append path runs with cold CPU caches.
    if (
      enc !== undefined &&
      this.activeOps === (this.syncQueued ? 1 : 0) &&
      !this.closed &&
      this.failure === undefined &&
      enc.pw.osOffset < this.o.segmentSizeBytes &&
      enc.pw.fits(inlineBound(entries))
    ) {
      try {
        return this.appendInline(enc, state, entries) ?? SETTLED;
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.saveQueued(state, entries);
  }

  /** save through the queue: behind other operations, or for records that need a flush or a cut. */
  private async saveQueued(state: HardState, entries: readonly Entry[]): Promise<void> {
    // The op resolves once the records are written; `durable` (boxed: a promise returned from an async
    // function would be adopted, holding the queue until the sync behind it) once they are synced.
    // Snapshot the arguments now: the caller may reuse its array before the queued save runs. The entries'
    // data buffers are not copied (that would cost a copy per entry): they must not change until save resolves.
    const ents = entries.slice();
    const { durable } = await this.enqueue(() => this.saveOp(state, ents));
    if (durable) await durable;
  }

  /**
   * saveOp's encoding, synchronously, for records known to fit the write buffer (save checked it with
   * {@link inlineBound}); returns the sync to wait for, if raft's MustSync asks for one.
   */
  private appendInline(enc: RecordEncoder, hs: HardState, entries: readonly Entry[]): Promise<void> | undefined {
    if (isEmptyHardState(hs) && entries.length === 0) return undefined;
    const needSync = mustSync(hs, this.state, entries.length);
    try {
      for (const e of entries) {
        if (!enc.tryEncodeEntry(e)) throw new Error('walnut internal error: an entry did not fit the write buffer within its bound');
        this.enti = e.index;
      }
      if (entries.length > 0) this.countRecords('entry', entries.length);
      if (!isEmptyHardState(hs)) {
        this.state = hs;
        if (!enc.tryEncodeHardState(hs))
          throw new Error('walnut internal error: a HardState did not fit the write buffer within its bound');
        this.countRecords('state', 1);
      }
      this.writeSeq++;
    } catch (e) {
      this.poison(e);
      throw e;
    }
    return needSync ? this.requestSync() : undefined;
  }

  private async saveOp(hs: HardState, entries: readonly Entry[]): Promise<{ durable: Promise<void> | undefined }> {
    const enc = this.writable();
    if (isEmptyHardState(hs) && entries.length === 0) return { durable: undefined };
    const needSync = mustSync(hs, this.state, entries.length);
    await this.guard(async () => {
      for (const e of entries) {
        if (!enc.tryEncodeEntry(e)) await enc.encodeEntry(e);
        this.enti = e.index;
      }
      if (entries.length > 0) this.countRecords('entry', entries.length);
      if (!isEmptyHardState(hs)) {
        this.state = { term: hs.term, vote: hs.vote, commit: hs.commit };
        await enc.encode(RecordType.State, encodeHardState(hs));
        this.countRecords('state', 1);
      }
      this.writeSeq++;
    });
    if (enc.pw.osOffset < this.o.segmentSizeBytes) return { durable: needSync ? this.requestSync() : undefined };
    await this.guard(() => this.cut());
    return { durable: undefined };
  }

  /**
   * Records a snapshot position and syncs (etcd SaveSnapshot). Never cuts. etcd ≥ 3.5 requires a
   * ConfState for snapshots with index > 0; enable `requireConfState` to enforce it.
   */
  async saveSnapshot(snap: Snapshot): Promise<void> {
    if (!snap) throw new InvalidSnapshotError('snapshot is nil');
    checkUint64Arg('snapshot.index', snap.index);
    checkUint64Arg('snapshot.term', snap.term);
    if (this.o.requireConfState && snap.index > 0n && !snap.confState) {
      throw new InvalidSnapshotError(`Saved (not-initial) snapshot is missing ConfState: {index: ${snap.index}, term: ${snap.term}}`);
    }
    const data = encodeSnapshot(snap); // validates the ConfState before anything is written
    return this.enqueue(async () => {
      this.writable();
      await this.guard(async () => {
        await this.encoder!.encode(RecordType.Snapshot, data);
        this.countRecords('snapshot', 1);
        if (this.enti < snap.index) this.enti = snap.index;
        this.writeSeq++;
        await this.syncNow();
      });
    });
  }

  /** Flushes the write buffer and datasyncs the tail (etcd Sync). */
  async sync(): Promise<void> {
    return this.enqueue(async () => {
      this.writable();
      await this.syncNow();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Static checks
  // ---------------------------------------------------------------------------------------------

  /**
   * Checks the segments a reader at `snap` would open without modifying anything (etcd Verify): CRCs,
   * metadata, the snapshot's presence and term. Returns the last HardState. A torn tail is not an error.
   */
  static async verify(fs: FileSystem, dir: string, snap: SnapshotPosition, options?: WalOptions): Promise<HardState> {
    const o = resolveOptions(options);
    return verifyWal(fs, cleanPath(dir), checkSnapshotPosition(snap), o.strictSegmentNames, o.logger);
  }

  /**
   * The snapshot records of the whole directory whose index is ≤ the last committed index, in order
   * (etcd ValidSnapshotEntries): the snapshots a node may safely restart from.
   */
  static async validSnapshotEntries(fs: FileSystem, dir: string, options?: WalOptions): Promise<Snapshot[]> {
    const o = resolveOptions(options);
    return validSnapshotEntries(fs, cleanPath(dir), o.strictSegmentNames, o.logger);
  }

  /**
   * Repairs a torn tail of the last segment (etcd Repair): keeps a full copy as `<segment>.broken`,
   * truncates the segment at the start of the damaged record and syncs it. Returns true if the last
   * segment now reads to its end (or already did), false if its damage cannot be repaired (a CRC mismatch,
   * a malformed record) or an operation failed (the reason goes to `options.logger`; the segment is
   * locked by another holder: `ELOCKED`). Like etcd it looks only at the last segment: damage in an earlier
   * one is reported by `readAll`/`verify`, not fixed here. Take it once per start: open, readAll, on an
   * unexpected EOF close, repair and retry. The outcome goes to `options.metrics.repair` (see
   * {@link WalRepairOutcome}) and the sync's duration to `options.metrics.syncDuration`.
   */
  static async repair(fs: FileSystem, dir: string, options?: WalOptions): Promise<boolean> {
    const o = resolveOptions(options);
    return repairWal(fs, cleanPath(dir), { strict: o.strictSegmentNames, logger: o.logger, metrics: o.metrics, clock: o.clock });
  }

  // ---------------------------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------------------------

  /** Runs `op` after every earlier call. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    this.activeOps++;
    const p = this.queue.then(op);
    this.queue = p.then(this.opDone, this.opDone);
    return p;
  }

  private checkOpen(): void {
    if (this.closed) throw new WalClosedError();
  }

  private writable(): RecordEncoder {
    this.checkOpen();
    if (this.failure) throw this.failure;
    if (!this.writeMode) throw new WalNotWritableError('opened with openForRead');
    if (!this.encoder) throw new WalNotWritableError('call readAll() after open() before appending');
    return this.encoder;
  }

  /** Runs an I/O step of the append path; a failure leaves the buffers in an unknown state, so it poisons the WAL. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.poison(e);
      throw e;
    }
  }

  private poison(e: unknown): void {
    if (!this.failure) {
      this.failure = new WalPoisonedError(e);
      this.o.logger.error(
        { error: e instanceof Error ? e.message : String(e) },
        'wal: write failed; refusing further writes until reopened',
      );
    }
    this.rejectWaiters(e);
  }

  private rejectWaiters(e: unknown): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
  }

  private newEncoder(file: FileHandle, offset: number, crc: number): RecordEncoder {
    // The guarded hook is a plain function (it does not need `this`): passed as is, no closure per encoder.
    return new RecordEncoder(new PageWriter(file, offset, this.o.metrics?.bytesWritten), crc);
  }

  /** Reports `count` records of `kind` to the metrics hook, if there is one (one property test otherwise). */
  private countRecords(kind: WalRecordKind, count: number): void {
    const m = this.o.metrics;
    if (m !== undefined && m.recordsWritten !== undefined) m.recordsWritten(kind, count);
  }

  /** Registers for the next sync, scheduling one if none is queued yet (group commit). */
  private requestSync(): Promise<void> {
    const seq = this.writeSeq;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
    if (!this.syncQueued) {
      this.syncQueued = true;
      this.activeOps++;
      this.queue = this.queue.then(() => this.groupSync());
    }
    return p;
  }

  /**
   * The queued group sync. It counts itself finished before it resolves the saves it covered, so that a
   * caller saving again as soon as its save resolved finds the queue idle (the inline path of save).
   * Never rejects: a failure has poisoned the WAL, which rejected the waiters.
   */
  private async groupSync(): Promise<void> {
    this.syncQueued = false;
    let covered: SyncWaiter[] = [];
    try {
      if (!this.closed && !this.failure) covered = await this.flushAndSync();
    } catch {
      // flushAndSync poisoned the WAL, which rejected every waiter.
    }
    this.activeOps--;
    for (const w of covered) w.resolve();
  }

  /** etcd sync(): flush the page writer, datasync the tail (unless noFsync), then resolve the waiters it covers. */
  private async syncNow(): Promise<void> {
    const covered = await this.flushAndSync();
    for (const w of covered) w.resolve();
  }

  /** syncNow without resolving: returns the waiters the sync covered (removed from {@link waiters}). */
  private async flushAndSync(): Promise<SyncWaiter[]> {
    const enc = this.encoder;
    if (!enc) return [];
    const upTo = this.writeSeq;
    const tail = this.locks[this.locks.length - 1]!.file;
    try {
      await enc.pw.flush();
      if (!this.o.noFsync) {
        const t0 = this.o.clock.now();
        await tail.datasync();
        this.syncTook(this.o.clock.now() - t0);
      }
      enc.syncedOffset = enc.pw.osOffset;
    } catch (e) {
      this.poison(e);
      await this.dropUnsyncedTail(tail, enc.syncedOffset);
      throw e;
    }
    const ws = this.waiters;
    if (ws.length === 0) return ws;
    if (ws[ws.length - 1]!.seq <= upTo) {
      // The usual case: every waiter is covered.
      this.waiters = [];
      return ws;
    }
    this.waiters = ws.filter((w) => w.seq > upTo);
    return ws.filter((w) => w.seq <= upTo);
  }

  /**
   * After a failed write or datasync, cut the tail back to what is known durable. Linux marks the pages
   * of a failed writeback clean: they stay readable from the page cache but may never reach the disk, so
   * a reopen without a reboot would read (and build on) records a power cut can still lose. Truncating
   * drops them; a later successful datasync of the reopened WAL then covers the truncation too.
   */
  private async dropUnsyncedTail(tail: FileHandle, syncedOffset: number): Promise<void> {
    try {
      const size = await tail.size();
      if (size > syncedOffset) {
        await tail.truncate(syncedOffset);
        await tail.allocate(Math.max(size, this.o.segmentSizeBytes), { synced: !this.o.noFsync });
      }
    } catch (e) {
      this.o.logger.error(
        { offset: syncedOffset, error: e instanceof Error ? e.message : String(e) },
        'wal: could not drop the unsynced tail after a failed sync; do not reopen before a reboot',
      );
    }
  }

  private async timedSync(op: () => Promise<void>): Promise<void> {
    const t0 = this.o.clock.now();
    await op();
    this.syncTook(this.o.clock.now() - t0);
  }

  /** Reports a sync's duration to the metrics hook and warns when it was slow (etcd's "slow fdatasync"). */
  private syncTook(ms: number): void {
    this.o.metrics?.syncDuration?.(ms / 1000);
    if (ms > SLOW_SYNC_WARNING_MS)
      this.o.logger.warn({ took: `${ms.toFixed(1)}ms`, expectedDuration: `${SLOW_SYNC_WARNING_MS}ms` }, 'slow fdatasync');
  }

  private async writeSnapshotRecord(snap: Snapshot): Promise<void> {
    await this.encoder!.encode(RecordType.Snapshot, encodeSnapshot(snap));
    if (this.enti < snap.index) this.enti = snap.index;
  }

  /**
   * etcd cut(): close the tail at its exact end, take the prepared temp file, write the new head (CRC,
   * metadata, last HardState), sync it, rename it into place, sync the directory, and reopen it locked.
   */
  private async cut(): Promise<void> {
    const enc = this.encoder!;
    const oldTail = this.locks[this.locks.length - 1]!;
    // Drop the preallocated space; buffered bytes are written at this offset by the sync below.
    await oldTail.file.truncate(enc.pw.osOffset);
    await this.syncNow();

    // uint64 arithmetic, as Go's: after an entry at index 2^64-1 the next name wraps to index 0.
    const target = formatSegmentName(BigInt.asUintN(64, this.tailSeq + 1n), BigInt.asUintN(64, this.enti + 1n));
    const targetPath = joinPath(this.dir, target);
    const prepared = await this.pipeline!.open();
    this.locks.push({ file: prepared.file, name: prepared.name });
    const headEnc = this.newEncoder(prepared.file, 0, enc.crc);
    this.encoder = headEnc;
    await headEnc.encode(RecordType.Crc, undefined);
    await headEnc.encode(RecordType.Metadata, this.metadata);
    this.countRecords('crc', 1);
    this.countRecords('metadata', 1);
    if (!isEmptyHardState(this.state)) {
      await headEnc.encode(RecordType.State, encodeHardState(this.state));
      this.countRecords('state', 1);
    }
    await this.syncNow();

    const off = headEnc.pw.osOffset;
    await this.fs.rename(prepared.path, targetPath);
    await this.timedSync(() => this.fs.syncDir(this.dir));
    await prepared.file.close();
    const file = await this.fs.open(targetPath, 'readWrite');
    try {
      await file.lock();
    } catch (e) {
      await file.close().catch(() => {});
      throw e;
    }
    this.locks[this.locks.length - 1] = { file, name: target };
    this.tailSeq = BigInt.asUintN(64, this.tailSeq + 1n);
    this.encoder = this.newEncoder(file, off, headEnc.crc);
    this.o.metrics?.segmentCut?.();
    this.o.logger.info({ path: targetPath }, 'created a new WAL segment');
  }

  /** Closes every held handle; errors are logged. */
  private async releaseAll(): Promise<void> {
    const held = this.locks;
    this.locks = [];
    for (const l of held) {
      await l.file
        .close()
        .catch((e: unknown) => this.o.logger.warn({ file: l.name, error: String(e) }, 'wal: failed to unlock/close segment'));
    }
    await closeSegments(this.readSegments);
    this.readSegments = [];
  }

  private async closeQuietly(): Promise<void> {
    this.closed = true;
    await this.purger?.stop();
    await this.pipeline?.close().catch(() => {});
    await this.releaseAll();
  }

  private startPurger(): void {
    const p = this.o.purge;
    if (!p) return;
    this.purger = new SegmentPurger(this.fs, this.dir, {
      ...p,
      logger: this.o.logger,
      metrics: this.o.metrics,
      strictSegmentNames: this.o.strictSegmentNames,
      scheduler: this.o.scheduler,
    });
    this.purger.start();
  }

  /** For diagnostics: the names of the segments this WAL holds locked (the last is the tail). */
  get lockedSegments(): readonly string[] {
    return this.locks.map((l) => basenamePath(l.name));
  }
}

function checkUint64Arg(name: string, v: bigint): void {
  try {
    checkUint64(name, v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Whether `e` is a walnut error of the given class code. */
export function isWalError(e: unknown, code?: string): e is WalError {
  return e instanceof WalError && (code === undefined || e.code === code);
}
