/**
 * {@link SegmentArchiver}: moves released segments from the live file system to the object store — what
 * purge would delete, archived instead of lost.
 *
 * A round (one {@link archiveSegments} call) works like a purge round (wal-core purge.ts): the live
 * segments of the directory, oldest first, beyond the newest `max`, each taken only while this round holds
 * its lock (a segment the WAL still holds is a barrier: the round stops there). For each:
 *
 * 1. read it and decode it with the WAL's own decoder (a segment that does not decode is never archived);
 * 2. upload it with `If-None-Match: *` and its facts in the metadata; or, if an object is already there
 *    (a previous round crashed after uploading), accept it only if its metadata says the same size and
 *    CRC-32C — otherwise {@link ArchiveConflictError}, and the local segment stays;
 * 3. verify: the server's own CRC-32C of the upload where it returns one (AWS), else read the object back
 *    and compare size and CRC-32C (Ceph RGW ignores checksum headers); an object that fails is deleted
 *    and the round fails;
 * 4. only then remove the local file and sync the directory.
 *
 * Invariant, at every crash point: the segment exists locally, or as a verified object, or both. A round
 * after a crash resumes where it stopped (step 2 makes uploads idempotent).
 *
 * Stop the archiver before closing the WAL (as the purger: closing releases every lock, and a round
 * after that could take segments the next open needs).
 */
import {
  FileSystemError,
  InvalidArgumentError,
  WalError,
  cleanPath,
  crc32cUpdate,
  guardHooks,
  guardLogger,
  immediateScheduler,
  isFileSystemError,
  joinPath,
  noopLogger,
  readFully,
  systemClock,
  systemTimer,
  tryParseSegmentName,
  type FileHandle,
  type PurgeTimer,
  type SegmentName,
  type WalClock,
  type WalLogger,
  type WalScheduler,
} from '@walnut/wal-core';
import { ArchiveConflictError, ArchiveCorruptionError, ArchiverStoppedError, ObjectExistsError } from './archive-errors.js';
import type { S3ArchiveFileSystem } from './s3-archive-file-system.js';
import { crc32cBase64, factsToMetadata, metadataToFacts, nextTurn, segmentFacts, type SegmentFacts } from './segment-object.js';

/**
 * Hooks for the archive's metrics (`@walnut/metrics-prometheus` implements them for prom-client). All
 * optional; a hook that throws is caught and logged once (warn, "wal: metrics hook threw; ignored"), never
 * the cause of a failed round.
 */
export interface ArchiveMetrics {
  /** An upload of one segment started (its read, upload and verification; or the check of an object already there). */
  uploadStarted?(): void;
  /**
   * That upload ended with a verified object: `bytes` is the segment's size, `seconds` the time from
   * {@link uploadStarted} (read, upload, verification; measured with the round's `clock`). `resumed` is true
   * when the object was already there from an earlier round: nothing was uploaded.
   */
  uploadSucceeded?(bytes: number, seconds: number, resumed: boolean): void;
  /**
   * That upload failed; `code` is the error's stable code (a WalError's `code`, e.g. `ARCHIVE_UNREACHABLE`,
   * `ARCHIVE_CONFLICT`, `ARCHIVE_CORRUPTION`, `EIO`; else a Node.js error's `code`; else `UNKNOWN`). An upload
   * aborted by {@link SegmentArchiver.stop} is not a failure.
   */
  uploadFailed?(code: string): void;
  /** A segment was archived: its object verified, its local file removed and the removal synced. */
  segmentArchived?(bytes: number): void;
  /** A round failed (it threw, after finishing what was in flight), with the error's code as in {@link uploadFailed}. */
  roundFailed?(code: string): void;
  /**
   * The backlog at the end of each round, failed or not: the live segments beyond the newest `max` (the
   * ones the round considers, as purge does) that are still not archived, and their bytes. Includes a
   * segment the WAL has not released yet (the round's `blockedBy` and newer ones beyond `max`): the archive
   * is waiting for it too. `oldestSeconds`: for a {@link SegmentArchiver}, how long ago (by its `clock`)
   * a round first saw the oldest of them, 0 when there is none; `undefined` for a one-off
   * {@link archiveSegments} call, which has no memory of earlier rounds. It lags the real release time by
   * up to one `intervalMs`.
   */
  lag?(segments: number, bytes: number, oldestSeconds: number | undefined): void;
}

/** The stable code of an error, for metrics labels. */
function errorCode(e: unknown): string {
  if (e instanceof WalError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'UNKNOWN';
}

/** Options of one archive round. */
export interface ArchiveRoundOptions {
  /** Keep at least this many of the newest live segments (as purge's `max`). An integer ≥ 1. */
  readonly max: number;
  /** Segments uploaded at the same time (default 2). Each holds its segment in memory while it is uploaded. */
  readonly concurrency?: number;
  /** Where "archived" (info), "archive: uploaded and verified" (debug) and a failed background round (error) go. */
  readonly logger?: WalLogger;
  /** Metrics hooks (see {@link ArchiveMetrics}). */
  readonly metrics?: ArchiveMetrics;
  /** The time source of upload durations and lag ages (default wal-core's `systemClock`; only `now` is read). */
  readonly clock?: Pick<WalClock, 'now'>;
  /** Checked between steps: once aborted, the round starts nothing new and aborts uploads in flight. */
  readonly signal?: AbortSignal;
}

/** What a round did. */
export interface ArchiveRoundResult {
  /** Segments archived and removed locally, oldest first. */
  readonly archived: string[];
  /** Of those, the ones whose object was already there from an earlier round (resumed). */
  readonly resumed: string[];
  /** The segment the round stopped at because the WAL (or another holder) still has it locked. */
  readonly blockedBy?: string;
  /** Bytes uploaded. */
  readonly bytes: number;
}

function checkMax(max: unknown): void {
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new InvalidArgumentError(`archive max must be an integer >= 1 (the newest segment is the WAL's tail), got ${String(max)}`);
  }
}

function bySeqThenName(a: SegmentName, b: SegmentName): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

async function readWhole(file: FileHandle): Promise<Uint8Array> {
  const size = await file.size();
  const bytes = new Uint8Array(size);
  const n = await readFully(file, bytes, 0, size, 0);
  // Never archive part of a segment as if it were all of it (the local file is removed afterwards).
  if (n !== size) throw new FileSystemError('EIO', 'read', file.path, `read ${n} of the segment's ${size} bytes`);
  return bytes;
}

/**
 * One archive round over `dir` of `fs` (see the module comment). Throws on the first failure after
 * finishing what was in flight; segments archived before it stay archived (and removed locally).
 */
export async function archiveSegments(fs: S3ArchiveFileSystem, dir: string, options: ArchiveRoundOptions): Promise<ArchiveRoundResult> {
  return runRound(fs, dir, options, undefined);
}

/** When a round first saw each pending segment (kept across rounds by a {@link SegmentArchiver}). */
type FirstSeen = Map<string, number>;

async function runRound(
  fs: S3ArchiveFileSystem,
  dir: string,
  options: ArchiveRoundOptions,
  firstSeen: FirstSeen | undefined,
): Promise<ArchiveRoundResult> {
  checkMax(options.max);
  dir = cleanPath(dir);
  try {
    fs.dirPrefix(dir);
  } catch (e) {
    throw new InvalidArgumentError(`archive: ${(e as Error).message}`);
  }
  const logger = guardLogger(options.logger ?? noopLogger);
  const metrics = guardHooks(options.metrics, logger);
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? 2;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new InvalidArgumentError(`archive concurrency must be an integer >= 1, got ${concurrency}`);
  const live = (await fs.live.readdir(dir))
    .filter((n) => n.endsWith('.wal'))
    .map((n) => tryParseSegmentName(n))
    .filter((n): n is SegmentName => n !== undefined)
    .sort(bySeqThenName);
  const candidates = live.slice(0, Math.max(0, live.length - options.max));
  if (firstSeen && metrics?.lag) {
    const now = clock.now();
    for (const c of candidates) if (!firstSeen.has(c.name)) firstSeen.set(c.name, now);
  }

  // Candidates are locked lazily, oldest first, at most `concurrency` ahead of the removals (so a long
  // backlog after an outage never holds more than a few descriptors); the first one someone else holds is
  // the barrier: nothing newer is taken. Each is uploaded and verified as soon as it is locked; removals
  // happen strictly oldest first, each synced before the next, so that a crash never leaves the live tier
  // with a gap in the middle. A segment stays locked until its removal is synced.
  type Held = { name: string; path: string; file: FileHandle; upload: Promise<{ facts: SegmentFacts; resumed: boolean }> };
  const window: Held[] = [];
  let blockedBy: string | undefined;
  let nextCandidate = 0;
  const archived: string[] = [];
  const resumed: string[] = [];
  let bytes = 0;
  const fill = async (): Promise<void> => {
    while (blockedBy === undefined && window.length < concurrency && nextCandidate < candidates.length && !options.signal?.aborted) {
      const c = candidates[nextCandidate++]!;
      const path = joinPath(dir, c.name);
      let file: FileHandle;
      try {
        file = await fs.live.open(path, 'readWrite');
      } catch (e) {
        if (isFileSystemError(e, 'ENOENT')) continue;
        throw e;
      }
      try {
        await file.tryLock();
      } catch (e) {
        await file.close().catch(() => {});
        if (isFileSystemError(e, 'ELOCKED')) {
          blockedBy = c.name;
          break;
        }
        throw e;
      }
      const upload = uploadOne(fs, dir, c.name, file, logger, options.signal, metrics, clock);
      upload.catch(() => {}); // awaited in order below; a later one may fail first, which is not unhandled
      window.push({ name: c.name, path, file, upload });
    }
  };
  let failed = false;
  let failure: unknown;
  try {
    await fill();
    while (window.length > 0) {
      const h = window[0]!;
      let r: { facts: SegmentFacts; resumed: boolean };
      try {
        r = await h.upload;
      } catch (e) {
        failed = true;
        failure = e;
        break;
      }
      fs.noteArchived(dir, { key: fs.keyOf(h.path), name: h.name, size: r.facts.size });
      await fs.live.remove(h.path, { force: true });
      await fs.live.syncDir(dir);
      window.shift();
      await h.file.close().catch(() => {});
      archived.push(h.name);
      if (r.resumed) resumed.push(h.name);
      else bytes += r.facts.size;
      metrics?.segmentArchived?.(r.facts.size);
      logger.info({ path: h.path, key: fs.keyOf(h.path), size: r.facts.size, resumed: r.resumed }, 'archived');
      await fill();
    }
  } catch (e) {
    failed = true;
    failure = e;
  } finally {
    // On every exit path: let what is still in flight settle before its handle closes (its result is not
    // used; an object it stored is picked up by the next round as already uploaded).
    await Promise.allSettled(window.map((h) => h.upload));
    for (const h of window) await h.file.close().catch(() => {});
  }
  if (metrics?.lag) await reportLag(fs, dir, candidates, new Set(archived), metrics.lag, clock, firstSeen);
  if (failed) {
    if (!options.signal?.aborted) metrics?.roundFailed?.(errorCode(failure));
    throw failure;
  }
  return blockedBy === undefined ? { archived, resumed, bytes } : { archived, resumed, blockedBy, bytes };
}

/** Measures and reports the backlog (see {@link ArchiveMetrics.lag}); never throws. */
async function reportLag(
  fs: S3ArchiveFileSystem,
  dir: string,
  candidates: readonly SegmentName[],
  archived: ReadonlySet<string>,
  lag: NonNullable<ArchiveMetrics['lag']>,
  clock: Pick<WalClock, 'now'>,
  firstSeen: FirstSeen | undefined,
): Promise<void> {
  let segments = 0;
  let bytes = 0;
  const pending = new Set<string>();
  for (const c of candidates) {
    if (archived.has(c.name)) continue;
    try {
      bytes += (await fs.live.stat(joinPath(dir, c.name))).size;
    } catch {
      continue; // gone meanwhile (or unreadable): not counted
    }
    segments++;
    pending.add(c.name);
  }
  let oldestSeconds: number | undefined;
  if (firstSeen) {
    const now = clock.now();
    let oldest = now;
    for (const [name, at] of firstSeen) {
      if (!pending.has(name)) firstSeen.delete(name);
      else if (at < oldest) oldest = at;
    }
    oldestSeconds = (now - oldest) / 1000;
  }
  lag(segments, bytes, oldestSeconds);
}

/**
 * Uploads (or resumes) one segment and proves the stored object equal to it; reports to the metrics.
 * Without metrics it is {@link uploadAndVerify} itself (not wrapped: the same promise, the same turns).
 */
function uploadOne(
  fs: S3ArchiveFileSystem,
  dir: string,
  name: string,
  file: FileHandle,
  logger: WalLogger,
  signal: AbortSignal | undefined,
  metrics: ArchiveMetrics | undefined,
  clock: Pick<WalClock, 'now'>,
): Promise<{ facts: SegmentFacts; resumed: boolean }> {
  if (!metrics) return uploadAndVerify(fs, dir, name, file, logger, signal);
  return measuredUpload(fs, dir, name, file, logger, signal, metrics, clock);
}

async function measuredUpload(
  fs: S3ArchiveFileSystem,
  dir: string,
  name: string,
  file: FileHandle,
  logger: WalLogger,
  signal: AbortSignal | undefined,
  metrics: ArchiveMetrics,
  clock: Pick<WalClock, 'now'>,
): Promise<{ facts: SegmentFacts; resumed: boolean }> {
  metrics.uploadStarted?.();
  const t0 = clock.now();
  let r: { facts: SegmentFacts; resumed: boolean };
  try {
    r = await uploadAndVerify(fs, dir, name, file, logger, signal);
  } catch (e) {
    if (!signal?.aborted) metrics.uploadFailed?.(errorCode(e));
    throw e;
  }
  metrics.uploadSucceeded?.(r.facts.size, (clock.now() - t0) / 1000, r.resumed);
  return r;
}

async function uploadAndVerify(
  fs: S3ArchiveFileSystem,
  dir: string,
  name: string,
  file: FileHandle,
  logger: WalLogger,
  signal: AbortSignal | undefined,
): Promise<{ facts: SegmentFacts; resumed: boolean }> {
  const path = joinPath(dir, name);
  const key = fs.keyOf(path);
  const body = await readWhole(file);
  const facts = await segmentFacts(name, body, path);
  const store = fs.store;

  await nextTurn();
  const existing = await store.head(key);
  if (existing) {
    await acceptExisting(key, name, facts, existing.metadata, existing.size);
    await verifyStored(fs, key, facts, false);
    return { facts, resumed: true };
  }
  let serverVerified: boolean;
  try {
    const put = await store.put(key, body, {
      metadata: factsToMetadata(facts),
      crc32cBase64: crc32cBase64(facts.crc32c),
      ifNoneMatch: true,
      ...(signal ? { signal } : {}),
    });
    serverVerified = put.serverVerifiedChecksum;
  } catch (e) {
    if (!(e instanceof ObjectExistsError)) throw e;
    // Someone (an earlier attempt whose response was lost) stored it meanwhile: the same rules apply.
    const info = await store.head(key);
    if (!info) throw e;
    await acceptExisting(key, name, facts, info.metadata, info.size);
    serverVerified = false;
  }
  await verifyStored(fs, key, facts, serverVerified);
  logger.debug({ key, size: facts.size, serverVerified }, 'archive: uploaded and verified');
  return { facts, resumed: false };
}

/** An object already under the key counts as this segment only if its metadata says the same bytes. */
async function acceptExisting(key: string, name: string, facts: SegmentFacts, meta: Record<string, string>, size: number): Promise<void> {
  let theirs: SegmentFacts;
  try {
    theirs = metadataToFacts(key, name, meta);
  } catch (e) {
    throw new ArchiveConflictError(key, `the object there has no valid walnut metadata (${(e as Error).message})`, { cause: e });
  }
  const want = factsToMetadata(facts);
  const differs = Object.keys(want).filter((k) => meta[k] !== want[k]);
  if (theirs.size !== facts.size || theirs.crc32c !== facts.crc32c || size !== facts.size || differs.length > 0) {
    throw new ArchiveConflictError(
      key,
      `local ${facts.size} bytes, CRC-32C ${facts.crc32c.toString(16)}; archived ${size} bytes, CRC-32C ${theirs.crc32c.toString(16)}${differs.length ? `; metadata differs: ${differs.join(', ')}` : ''}`,
    );
  }
}

/**
 * Proves the stored object equal to the segment: the server's CRC-32C of this very upload when it gave
 * one, else a read-back of the whole object. A mismatching object is deleted (it is ours and wrong) and
 * the error thrown; the local segment stays.
 */
async function verifyStored(fs: S3ArchiveFileSystem, key: string, facts: SegmentFacts, serverVerified: boolean): Promise<void> {
  // The metadata is what readers, restore and verify rely on: it must be stored exactly as written.
  const info = await fs.store.head(key);
  const want = factsToMetadata(facts);
  const wrong = info ? Object.keys(want).filter((k) => info.metadata[k] !== want[k]) : ['(the object is gone)'];
  if (wrong.length > 0) {
    throw new ArchiveCorruptionError(
      key,
      `after upload its metadata differs from the segment's (${wrong.join(', ')}); the local segment is kept`,
    );
  }
  if (serverVerified) return;
  const stored = await fs.store.get(key);
  await nextTurn(); // a whole segment's CRC is a few ms of CPU: not in the same turn as the download's end
  const crc = crc32cUpdate(0, stored) >>> 0;
  if (stored.length !== facts.size || crc !== facts.crc32c) {
    await fs.store.delete(key).catch(() => {});
    throw new ArchiveCorruptionError(
      key,
      `read back after upload: ${stored.length} bytes with CRC-32C ${crc.toString(16)}, the segment has ${facts.size} bytes with ${facts.crc32c.toString(16)}; the object was deleted and the local segment kept`,
    );
  }
}

/** Options of {@link SegmentArchiver}. */
export interface SegmentArchiverOptions extends Omit<ArchiveRoundOptions, 'signal'> {
  /** Time between the end of one round and the start of the next (default 30,000 ms, purge's interval). */
  readonly intervalMs?: number;
  /** The timer to wait with (default: the global one, unref'd). */
  readonly timer?: PurgeTimer;
  /** Starts each background round (default: at once). */
  readonly scheduler?: WalScheduler;
  /** Called after each background round. */
  readonly onRound?: (result: ArchiveRoundResult) => void;
  /** Called when a background round fails (default: logged); the next round still runs. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The background archive loop, the archive counterpart of wal-core's `SegmentPurger`: a round at
 * `start()`, then one every `intervalMs` after the previous ended; rounds never overlap.
 *
 * ```ts
 * const archiver = new SegmentArchiver(archiveFs, '/var/lib/app/wal', { max: 5 });
 * archiver.start();
 * // ... wal.releaseLockTo(snapshotIndex) after each snapshot ...
 * await archiver.stop(); // before wal.close()
 * await wal.close();
 * ```
 */
export class SegmentArchiver {
  /** The live WAL directory whose released segments it archives. */
  readonly dir: string;
  readonly #fs: S3ArchiveFileSystem;
  readonly #options: SegmentArchiverOptions;
  readonly #abort = new AbortController();
  readonly #timer: PurgeTimer;
  readonly #scheduler: WalScheduler;
  readonly #logger: WalLogger;
  readonly #firstSeen: FirstSeen = new Map();
  #started = false;
  #timerHandle: unknown;
  #hasTimer = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(fs: S3ArchiveFileSystem, dir: string, options: SegmentArchiverOptions) {
    checkMax(options.max);
    if (options.intervalMs !== undefined && !(Number.isFinite(options.intervalMs) && options.intervalMs >= 0)) {
      throw new InvalidArgumentError(`archive intervalMs must be a finite number >= 0, got ${options.intervalMs}`);
    }
    this.#fs = fs;
    this.dir = cleanPath(dir);
    this.#options = options;
    this.#timer = options.timer ?? systemTimer;
    this.#scheduler = options.scheduler ?? immediateScheduler;
    this.#logger = guardLogger(options.logger ?? noopLogger);
  }

  /** Whether {@link stop} has been called. */
  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Starts the background loop. Idempotent; throws {@link ArchiverStoppedError} once stopped. */
  start(): void {
    if (this.stopped) throw new ArchiverStoppedError();
    if (this.#started) return;
    this.#started = true;
    this.#kick();
  }

  /** Runs one round now (after any round in progress). */
  archiveNow(): Promise<ArchiveRoundResult> {
    const p = this.#queue.then(() => {
      if (this.stopped) throw new ArchiverStoppedError();
      const { max, concurrency, metrics, clock } = this.#options;
      return runRound(
        this.#fs,
        this.dir,
        {
          max,
          ...(concurrency === undefined ? {} : { concurrency }),
          logger: this.#logger,
          ...(metrics ? { metrics } : {}),
          ...(clock ? { clock } : {}),
          signal: this.#abort.signal,
        },
        this.#firstSeen,
      );
    });
    this.#queue = p.catch(() => {});
    return p;
  }

  /**
   * Stops: no round starts after this, uploads in flight are aborted (their segments stay local), and the
   * promise resolves once the running round has let go of every lock. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.stopped) this.#abort.abort(new ArchiverStoppedError());
    if (this.#hasTimer) {
      this.#hasTimer = false;
      this.#timer.clearTimeout(this.#timerHandle);
    }
    await this.#queue;
  }

  #kick(): void {
    this.#scheduler(async () => {
      if (this.stopped) return;
      try {
        this.#options.onRound?.(await this.archiveNow());
      } catch (e) {
        if (!this.stopped || !(e instanceof WalError)) this.#report(e);
      }
      if (this.stopped) return;
      this.#hasTimer = true;
      this.#timerHandle = this.#timer.setTimeout(() => {
        this.#hasTimer = false;
        this.#kick();
      }, this.#options.intervalMs ?? 30_000);
    });
  }

  #report(e: unknown): void {
    if (this.#options.onError) {
      try {
        this.#options.onError(e);
      } catch {
        // A throwing callback must not end the loop.
      }
      return;
    }
    this.#logger.error({ dir: this.dir, error: e instanceof Error ? e.message : String(e) }, 'archive: round failed');
  }
}
