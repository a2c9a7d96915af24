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
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
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

/** Hooks for metrics (a prom-client adapter can implement them). All optional. */
export interface WalMetrics {
  /** Every datasync/fsync the WAL performs (etcd's wal_fsync_duration_seconds). */
  syncDuration?(seconds: number): void;
  /** Bytes handed to the file system (etcd's wal_write_bytes_total). */
  bytesWritten?(bytes: number): void;
  /** A segment was cut. */
  segmentCut?(): void;
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
  readonly logger?: WalLogger;
  readonly metrics?: WalMetrics;
  readonly clock?: WalClock;
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
/** etcd warnSyncDuration. */
export const SLOW_SYNC_WARNING_MS = 1000;
