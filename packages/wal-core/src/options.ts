/**
 * Options, and the seams through which the WAL receives time, logging, metrics and scheduling
 * (so a simulation with the same seed repeats exactly).
 */
import type { WalPurgeOptions } from './purge.js';

/**
 * A structured logger with pino's call shape (`logger.warn({ fields }, 'message')`), so a pino logger
 * (or a child of one) can be passed as is.
 */
export interface WalLogger {
  /** Detail for troubleshooting (an archived segment uploaded and verified). */
  debug(fields: Record<string, unknown>, msg: string): void;
  /** Normal events (a new segment, a segment purged or archived, a repair). */
  info(fields: Record<string, unknown>, msg: string): void;
  /** Something worth attention that was handled (a slow fdatasync, a segment it could not lock, an ignored file). */
  warn(fields: Record<string, unknown>, msg: string): void;
  /** A failure in the background (a purge or archive round failed). */
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Logs nothing (the default). */
export const noopLogger: WalLogger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** The source of time: monotonic milliseconds for durations, wall time for names. */
export interface WalClock {
  /** Monotonic milliseconds (durations: the slow-datasync warning). */
  now(): number;
  /** Wall-clock time (the `.broken.<timestamp>` name of a failed create). */
  wallTime(): Date;
}

/** The real clock (default). */
export const systemClock: WalClock = Object.freeze({
  now: () => performance.now(),
  wallTime: () => new Date(),
});

/** The kind of a WAL record (etcd's walpb record types: wal-core's `RecordType`), as metrics label it. */
export type WalRecordKind = 'entry' | 'state' | 'crc' | 'metadata' | 'snapshot';

/**
 * The outcome of one {@link Wal.repair}:
 * - `repaired`: the last segment had a torn tail; it was backed up as `<segment>.broken` and truncated;
 * - `clean`: nothing to do, the last segment reads to its end;
 * - `refused`: its damage is not a torn tail (a CRC mismatch, a malformed record), which repair never fixes;
 * - `failed`: an operation failed (I/O, no segment, the segment locked by another holder: `ELOCKED`).
 */
export type WalRepairOutcome = 'repaired' | 'clean' | 'refused' | 'failed';

/**
 * Hooks for metrics (`@walnut/metrics-prometheus` implements them for prom-client). Every hook is optional,
 * and a hook that is absent costs nothing on the append path: no closure, no allocation, one property test
 * per save at most.
 *
 * Hooks are called synchronously on the WAL's path and must be cheap. A hook that throws never reaches the
 * WAL: the error is caught, logged once per hook (warn, "wal: metrics hook threw; ignored") and the write
 * goes on as if the hook had returned; the WAL is not poisoned by it.
 */
export interface WalMetrics {
  /**
   * Each datasync/fsync the WAL performs, in seconds (etcd's `etcd_disk_wal_fsync_duration_seconds`): the
   * tail's datasync on every sync, the directory syncs of create and cut, and repair's sync. Measured with
   * {@link WalOptions.clock}.
   */
  syncDuration?(seconds: number): void;
  /** Bytes handed to the file system, per write that reaches it (etcd's `etcd_disk_wal_write_bytes_total`). */
  bytesWritten?(bytes: number): void;
  /**
   * Records encoded into the WAL, by kind, counted once per call per kind (a save of 100 entries and a
   * HardState calls `('entry', 100)` then `('state', 1)`), after they are encoded — buffered, not yet
   * necessarily on the file (that is `bytesWritten`) nor durable. Includes the records a create and a cut
   * write at the head of a segment (crc, metadata, state or snapshot).
   */
  recordsWritten?(kind: WalRecordKind, count: number): void;
  /** A segment was cut: the new tail is in place and locked. */
  segmentCut?(): void;
  /** A {@link Wal.repair} finished with this outcome. */
  repair?(outcome: WalRepairOutcome): void;
  /**
   * A purge round ({@link purgeSegments}, the WAL's own purger, a {@link SegmentPurger}) removed `count` > 0
   * segments. Also reported for the segments a failing round removed before its failure.
   */
  segmentsPurged?(count: number): void;
  /** A purge round failed (it threw: an I/O error other than a segment held elsewhere, which is not a failure). */
  purgeFailed?(): void;
}

const GUARDED = new WeakSet<object>();

/** Whether a hook or logger returned a promise (its `void` return type does not stop an `async` method). */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Wraps each hook `metrics` has so that a throw is caught and logged (first throw of each hook only) instead
 * of reaching the caller. Absent hooks stay absent, so a call site's `m.hook?.(x)` still costs nothing for
 * them. Idempotent (a guarded object is returned as is). The WAL, the purger and `@walnut/fs-s3-archive`'s
 * archiver guard the hooks they are given with it; an implementation of other hooks can use it too.
 */
export function guardHooks<T extends object>(metrics: T | undefined, logger: WalLogger): T | undefined {
  if (metrics === undefined || GUARDED.has(metrics)) return metrics;
  const out: Record<string, unknown> = {};
  // Own and prototype methods (a class instance implementing the interface works too).
  const names = new Set<string>();
  for (let o: object | null = metrics; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor') names.add(k);
  }
  for (const name of names) {
    const hook = (metrics as Record<string, unknown>)[name];
    if (typeof hook !== 'function') continue;
    let reported = false;
    const report = (e: unknown): void => {
      if (reported) return;
      reported = true;
      try {
        logger.warn({ hook: name, error: e instanceof Error ? e.message : String(e) }, 'wal: metrics hook threw; ignored');
      } catch {
        // A throwing logger must not reach the caller either.
      }
    };
    // Fixed arity (every hook takes at most three arguments): no rest array per call.
    out[name] = (a?: unknown, b?: unknown, c?: unknown): void => {
      try {
        const r = (hook as (...x: unknown[]) => unknown).call(metrics, a, b, c);
        // An async hook's rejection would otherwise be unhandled, which ends a Node process.
        if (isThenable(r)) r.then(undefined, report);
      } catch (e) {
        report(e);
      }
    };
  }
  GUARDED.add(out);
  return out as T;
}

/**
 * Wraps a logger so that a throw from it never reaches the WAL's path (it is dropped: there is nowhere
 * left to report it). {@link noopLogger} and an already guarded logger are returned as is.
 */
export function guardLogger(logger: WalLogger): WalLogger {
  if (logger === noopLogger || GUARDED.has(logger)) return logger;
  const call = (level: 'debug' | 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string): void => {
    try {
      const r: unknown = logger[level](fields, msg);
      if (isThenable(r)) r.then(undefined, () => {}); // an async logger's rejection: dropped too
    } catch {
      // dropped
    }
  };
  const out: WalLogger = {
    debug: (f, m) => call('debug', f, m),
    info: (f, m) => call('info', f, m),
    warn: (f, m) => call('warn', f, m),
    error: (f, m) => call('error', f, m),
  };
  GUARDED.add(out);
  return out;
}

/**
 * Runs the WAL's background work (the file pipeline). The default starts it right away on the event loop;
 * a simulator can pass its own to decide the interleaving.
 */
export type WalScheduler = (task: () => Promise<void>) => void;

/** Default: run the background task immediately (as a detached promise). */
export const immediateScheduler: WalScheduler = (task) => {
  void task();
};

/** Options of {@link Wal.create} and {@link Wal.open}. */
export interface WalOptions {
  /** Segment size in bytes (preallocation and the cut threshold). Default 64,000,000, etcd's. */
  readonly segmentSizeBytes?: number;
  /** Skip fdatasync (etcd SetUnsafeNoFsync / --unsafe-no-fsync): data still reaches the OS, but a power loss can lose acknowledged writes. */
  readonly noFsync?: boolean;
  /**
   * Where the WAL logs (pino's call shape; default {@link noopLogger}): e.g. "slow fdatasync" (warn, a
   * datasync over {@link SLOW_SYNC_WARNING_MS}), "created a new WAL segment" (info), a poisoning write
   * failure (error). A logger that throws is ignored, never the cause of a failed write.
   */
  readonly logger?: WalLogger;
  /** Metrics hooks (see {@link WalMetrics}); used by the WAL, its purger (`purge`) and {@link Wal.repair}. */
  readonly metrics?: WalMetrics;
  /** The source of time (default {@link systemClock}); the only one the WAL reads. */
  readonly clock?: WalClock;
  /** Runs the WAL's background work (default {@link immediateScheduler}). */
  readonly scheduler?: WalScheduler;
  /**
   * Accept only canonical segment names (`%016x-%016x.wal` in lower case). Default false: etcd's lenient
   * parsing (upper case, fewer digits, ...) is followed.
   */
  readonly strictSegmentNames?: boolean;
  /**
   * Require a ConfState on every snapshot with index > 0, as etcd ≥ 3.5 does. Default false (etcd 3.4).
   */
  readonly requireConfState?: boolean;
  /**
   * Purge old segments in the background while the WAL is open for writing (etcd's `--max-wals`): keep the
   * newest `max`, delete older ones the WAL has released (`releaseLockTo`). The WAL owns the purger: it
   * starts after `create`/`open` and is stopped first thing in `close`, before any lock is released.
   */
  readonly purge?: WalPurgeOptions;
}

/** etcd SegmentSizeBytes. */
export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 1000 * 1000;
/** etcd warnSyncDuration: a datasync that takes longer than this (ms) is logged as "slow fdatasync" (warn). */
export const SLOW_SYNC_WARNING_MS = 1000;
