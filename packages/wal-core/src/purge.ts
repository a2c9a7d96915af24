/**
 * Purging old segments (etcd `fileutil.PurgeFile`, etcd-wal-format.md §2.16): keep the newest `max`
 * segments and delete older ones, but only those no WAL holds. The lock is the protocol (etcd PR #1927):
 * a WAL keeps every segment it may still need locked until `releaseLockTo` releases it, and the purger
 * deletes a segment only while holding its lock itself.
 *
 * Semantics kept from etcd:
 * - the oldest segment that cannot be locked is a barrier: the round stops there, nothing newer is
 *   tried, and "failed to lock file" is logged (etcd issues #12841, #15360 — segments pile up behind a
 *   segment someone still holds; that is by design, the holder must release it);
 * - only names ending in `.wal` are candidates, so the pipeline's `N.tmp` and repair's `*.wal.broken` are
 *   never deleted;
 * - the purge loop must stop before the WAL closes (etcd PR #11308): closing releases every lock, and a
 *   round running after that would delete segments the next open needs ("wal: file not found"). A WAL
 *   given `WalOptions.purge` owns its purger and stops it first thing in `close`.
 *
 * Differences (stricter than etcd, each deliberate):
 * - a candidate must also parse as a segment name (etcd deletes any `*wal` name, e.g. `backup.wal`);
 * - the directory is synced after a round's removals, before the locks are let go, so a crash cannot
 *   bring a purged name back behind the WAL's back (etcd never syncs it);
 * - a segment that cannot be opened for writing because it is read-only (`EROFS`: a segment already
 *   archived to object storage) is skipped, not a barrier;
 * - `max` must be at least 1: the newest segment is the WAL's tail, and a cut leaves it briefly unlocked
 *   between renaming the temp file and relocking it (the race noted in §2.10), so only the guarantee that
 *   the newest segment is never a candidate keeps a purge from deleting a live tail.
 */
import { InvalidArgumentError, WalError, isFileSystemError } from './errors.js';
import type { FileHandle, FileSystem } from './fs/file-system.js';
import { cleanPath, joinPath } from './fs/path.js';
import { guardHooks, guardLogger, immediateScheduler, noopLogger, type WalLogger, type WalMetrics, type WalScheduler } from './options.js';
import { compareSegments, tryParseSegmentName, type SegmentName } from './segment-name.js';

/** etcd's purge interval (`purgeFileInterval`, 30 s). */
export const DEFAULT_PURGE_INTERVAL_MS = 30_000;

/**
 * The timer the background purger waits with. The default is the global `setTimeout` (unref'd where the
 * platform allows, so an idle purger never keeps a process alive); a simulation passes its own.
 */
export interface PurgeTimer {
  /** Calls `callback` after `ms` milliseconds; returns a handle for {@link PurgeTimer.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a pending callback. */
  clearTimeout(handle: unknown): void;
}

/** The real timer (default). */
export const systemTimer: PurgeTimer = Object.freeze({
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});

/** Options of {@link purgeSegments}. */
export interface PurgeOptions {
  /** Keep at least this many of the newest segments (etcd `--max-wals`, default 5 there). An integer ≥ 1. */
  readonly max: number;
  /** Where "purged" (info) and "failed to lock file" (warn) go. */
  readonly logger?: WalLogger;
  /**
   * Metrics hooks: `segmentsPurged(n)` after a round that removed segments (also one that then failed),
   * `purgeFailed()` when the round throws. A throwing hook is caught and logged.
   */
  readonly metrics?: WalMetrics;
  /** Count only canonical segment names (as `WalOptions.strictSegmentNames`). Default false. */
  readonly strictSegmentNames?: boolean;
  /** Checked before each segment: once `aborted` is true the round deletes nothing more (an AbortSignal fits). */
  readonly signal?: {
    /** True once the round must stop. */
    readonly aborted: boolean;
  };
}

/** What one purge round did. */
export interface PurgeResult {
  /** The segment names deleted, oldest first. */
  readonly removed: string[];
  /** The segment the round stopped at because another holder has it locked (the barrier), if any. */
  readonly blockedBy?: string;
}

/** The purger was stopped: it runs no more rounds. */
export class PurgerStoppedError extends WalError {
  constructor() {
    super('WAL_PURGER_STOPPED', 'wal: the segment purger is stopped', 'wal: purger stopped');
  }
}

/** Throws {@link InvalidArgumentError} unless `max` is an integer ≥ 1. */
function checkMax(max: unknown): void {
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new InvalidArgumentError(
      `purge max must be an integer >= 1 (the newest segment is the WAL's tail and is never purged), got ${String(max)}`,
    );
  }
}

function checkInterval(ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(`purge intervalMs must be a finite number >= 0, got ${String(ms)}`);
  }
}

/**
 * One purge round over `dir` (etcd PurgeFile's loop body): lists the segment files (names ending in
 * `.wal` that parse as segment names, sorted as the WAL sorts them) and, while more than `max` remain,
 * takes the oldest: opens it read-write, takes its lock without waiting and deletes it. A segment whose
 * lock is held elsewhere (a WAL that has not released it, in this process or another) stops the round:
 * it is reported as `blockedBy` and logged as "failed to lock file", and nothing newer is tried. The
 * directory is synced after each removal (oldest first, so a crash never leaves a gap), then the locks are
 * released.
 *
 * Any other failure is thrown (what was removed before it is already synced; every handle is closed); a
 * segment that disappeared meanwhile counts as gone.
 */
export async function purgeSegments(fs: FileSystem, dir: string, options: PurgeOptions): Promise<PurgeResult> {
  checkMax(options.max);
  dir = cleanPath(dir);
  const logger = guardLogger(options.logger ?? noopLogger);
  const metrics = guardHooks(options.metrics, logger);
  const removed: string[] = [];
  // Inline, not a wrapped call: without metrics a round takes exactly the turns it always took.
  try {
    const strict = options.strictSegmentNames ?? false;
    const names = (await fs.readdir(dir))
      .filter((n) => n.endsWith('.wal'))
      .map((n) => tryParseSegmentName(n, strict))
      .filter((n): n is SegmentName => n !== undefined)
      .sort(compareSegments)
      .map((n) => n.name);

    const held: FileHandle[] = [];
    let blockedBy: string | undefined;
    // The candidates are fixed by position: never one of the newest `max`, whatever is skipped below.
    const candidates = names.slice(0, Math.max(0, names.length - options.max));
    try {
      for (const name of candidates) {
        if (options.signal?.aborted) break;
        const path = joinPath(dir, name);
        let file: FileHandle;
        try {
          file = await fs.open(path, 'readWrite');
        } catch (e) {
          if (isFileSystemError(e, 'ENOENT')) continue; // removed by someone else since the listing
          // A read-only segment (an archived one, listed by @walnut/fs-s3-archive) is not a candidate: it
          // still counts among the newest `max`, but only its own retention may remove it.
          if (isFileSystemError(e, 'EROFS')) continue;
          throw e;
        }
        try {
          await file.tryLock();
        } catch (e) {
          await file.close().catch(() => {});
          if (isFileSystemError(e, 'ELOCKED')) {
            logger.warn({ path, error: (e as Error).message }, 'failed to lock file');
            blockedBy = name;
            break;
          }
          throw e;
        }
        held.push(file);
        await fs.remove(path, { force: true });
        // Each removal is made durable before the next: unsynced removals are unordered in a crash, and
        // keeping a later removal while an earlier one is reverted would leave a sequence gap (a WAL that
        // validSnapshotEntries, reading every segment, cannot read across).
        await fs.syncDir(dir);
        removed.push(name);
      }
    } finally {
      for (const f of held) await f.close().catch(() => {});
    }
    for (const name of removed) logger.info({ path: joinPath(dir, name) }, 'purged');
    return blockedBy === undefined ? { removed } : { removed, blockedBy };
  } catch (e) {
    metrics?.purgeFailed?.();
    throw e;
  } finally {
    if (removed.length > 0) metrics?.segmentsPurged?.(removed.length);
  }
}

/** The purge settings of a WAL that owns its purger (`WalOptions.purge`). */
export interface WalPurgeOptions {
  /** Keep at least this many of the newest segments. An integer ≥ 1. */
  readonly max: number;
  /** Time between the end of one round and the start of the next. Default 30,000 (etcd's). */
  readonly intervalMs?: number;
  /** The timer to wait with (default: the global one, unref'd). */
  readonly timer?: PurgeTimer;
  /** Called after each background round with what it did. */
  readonly onPurge?: (result: PurgeResult) => void;
  /** Called when a background round fails (default: logged as "failed to purge wal file"); the next round still runs. */
  readonly onError?: (error: unknown) => void;
}

/** Options of {@link SegmentPurger}. */
export interface SegmentPurgerOptions extends WalPurgeOptions {
  /** Where the rounds log (see {@link PurgeOptions.logger}) and where a failed round is logged without `onError`. */
  readonly logger?: WalLogger;
  /** Metrics hooks of every round (see {@link PurgeOptions.metrics}). */
  readonly metrics?: WalMetrics;
  /** Count only canonical segment names (as `WalOptions.strictSegmentNames`). Default false. */
  readonly strictSegmentNames?: boolean;
  /** Starts each background round (default: at once). A simulation passes the WAL's scheduler. */
  readonly scheduler?: WalScheduler;
}

/** Validates purge settings (used by the WAL before it creates anything). */
export function checkPurgeOptions(o: WalPurgeOptions): void {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('purge options must be an object');
  checkMax(o.max);
  if (o.intervalMs !== undefined) checkInterval(o.intervalMs);
}

/**
 * The background purge loop (etcd PurgeFile): a round at `start()`, then one every `intervalMs` after the
 * previous round ended. Rounds never overlap ({@link runOnce} joins the same queue). {@link stop} prevents
 * further rounds, makes a running round delete nothing more, and resolves once it has finished.
 *
 * Stop it before closing the WAL whose directory it purges (etcd PR #11308) — or let the WAL own it with
 * `WalOptions.purge`, which does that in `close`.
 *
 * ```ts
 * const purger = new SegmentPurger(fs, '/wal', { max: 5 });
 * purger.start();
 * // ... wal.releaseLockTo(snapshotIndex) after each snapshot ...
 * await purger.stop();
 * await wal.close();
 * ```
 */
export class SegmentPurger {
  private readonly fs: FileSystem;
  /** The directory purged. */
  readonly dir: string;
  private readonly max: number;
  private readonly intervalMs: number;
  private readonly logger: WalLogger;
  private readonly metrics: WalMetrics | undefined;
  private readonly strict: boolean;
  private readonly timer: PurgeTimer;
  private readonly scheduler: WalScheduler;
  private readonly onPurge: ((result: PurgeResult) => void) | undefined;
  private readonly onError: ((error: unknown) => void) | undefined;

  private started = false;
  private readonly abort = { aborted: false };
  private timerHandle: unknown;
  private hasTimer = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(fs: FileSystem, dir: string, options: SegmentPurgerOptions) {
    checkPurgeOptions(options);
    this.fs = fs;
    this.dir = cleanPath(dir);
    this.max = options.max;
    this.intervalMs = options.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    this.logger = guardLogger(options.logger ?? noopLogger);
    this.metrics = guardHooks(options.metrics, this.logger);
    this.strict = options.strictSegmentNames ?? false;
    this.timer = options.timer ?? systemTimer;
    this.scheduler = options.scheduler ?? immediateScheduler;
    this.onPurge = options.onPurge;
    this.onError = options.onError;
  }

  /** Whether {@link stop} has been called. */
  get stopped(): boolean {
    return this.abort.aborted;
  }

  /** Starts the background loop: a round now, then one every `intervalMs`. Idempotent; throws once stopped. */
  start(): void {
    if (this.abort.aborted) throw new PurgerStoppedError();
    if (this.started) return;
    this.started = true;
    this.kick();
  }

  /** Runs one round now (after any round in progress); rejects with {@link PurgerStoppedError} once stopped. */
  runOnce(): Promise<PurgeResult> {
    const p = this.queue.then(() => {
      if (this.abort.aborted) throw new PurgerStoppedError();
      return purgeSegments(this.fs, this.dir, {
        max: this.max,
        logger: this.logger,
        metrics: this.metrics,
        strictSegmentNames: this.strict,
        signal: this.abort,
      });
    });
    this.queue = p.catch(() => {});
    return p;
  }

  /**
   * Stops the loop: no round starts after this call, a running round deletes no further segment, and the
   * returned promise resolves once that round has finished (its last removal synced and its locks released).
   * Idempotent.
   */
  async stop(): Promise<void> {
    this.abort.aborted = true;
    if (this.hasTimer) {
      this.hasTimer = false;
      this.timer.clearTimeout(this.timerHandle);
      this.timerHandle = undefined;
    }
    await this.queue;
  }

  private kick(): void {
    this.scheduler(async () => {
      if (this.abort.aborted) return;
      try {
        const result = await this.runOnce();
        this.onPurge?.(result);
      } catch (e) {
        if (!(e instanceof PurgerStoppedError)) this.report(e);
      }
      if (this.abort.aborted) return;
      this.hasTimer = true;
      this.timerHandle = this.timer.setTimeout(() => {
        this.hasTimer = false;
        this.timerHandle = undefined;
        this.kick();
      }, this.intervalMs);
    });
  }

  private report(e: unknown): void {
    if (this.onError) {
      try {
        this.onError(e);
      } catch {
        // A throwing callback must not end the loop.
      }
      return;
    }
    this.logger.error({ dir: this.dir, error: e instanceof Error ? e.message : String(e) }, 'failed to purge wal file');
  }
}
