/**
 * @walnut/metrics-prometheus — walnut's metrics hooks implemented with prom-client: the WAL's
 * ({@link prometheusWalMetrics}, etcd's metric names and buckets where etcd has the metric) and the S3
 * archive's ({@link prometheusArchiveMetrics}).
 *
 * ```ts
 * const registry = new Registry();
 * const wal = await Wal.create(fs, '/wal', undefined, { metrics: prometheusWalMetrics({ registry }) });
 * // ... serve `await registry.metrics()` as text/plain on /metrics
 * ```
 * @packageDocumentation
 */
import { Counter, Gauge, Histogram, exponentialBuckets, register as defaultRegistry, type Registry } from 'prom-client';
import type { WalMetrics, WalRecordKind, WalRepairOutcome } from '@walnut/wal-core';

/** Options of {@link prometheusWalMetrics} and {@link prometheusArchiveMetrics}. */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  readonly registry?: Registry;
  /**
   * The prefix of walnut's own metric names (default `walnut_`). etcd's metric names
   * (`etcd_disk_wal_fsync_duration_seconds`, `etcd_disk_wal_write_bytes_total`) are kept as etcd spells
   * them, so etcd's dashboards and alerts apply unchanged.
   */
  readonly prefix?: string;
  /**
   * Constant labels put on every metric, e.g. `{ wal: 'member-1' }`. Several WALs (or archivers) can share one
   * registry: each call with the same names reuses the metrics registered by the first and tells them
   * apart by these label values. Every call on one registry must use the same label names. The names
   * `type`, `outcome` and `code` are taken by the metrics themselves.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * etcd's buckets of `etcd_disk_wal_fsync_duration_seconds`: `prometheus.ExponentialBuckets(0.001, 2, 14)`,
 * 1 ms to 8.192 s.
 */
export const ETCD_WAL_FSYNC_BUCKETS: readonly number[] = Object.freeze(exponentialBuckets(0.001, 2, 14));

/** Buckets of `walnut_archive_upload_duration_seconds`: 50 ms to 102.4 s (a 64 MB segment over a slow link). */
export const ARCHIVE_UPLOAD_BUCKETS: readonly number[] = Object.freeze(exponentialBuckets(0.05, 2, 12));

const RECORD_KINDS: readonly WalRecordKind[] = ['entry', 'state', 'crc', 'metadata', 'snapshot'];
const REPAIR_OUTCOMES: readonly WalRepairOutcome[] = ['repaired', 'clean', 'refused', 'failed'];
const RESERVED_LABELS = new Set(['type', 'outcome', 'code', 'le', 'quantile']);

/**
 * The WAL's metrics hooks, every one implemented; a {@link WalMetrics} to pass as `WalOptions.metrics`.
 *
 * | metric | type | hook |
 * |---|---|---|
 * | `etcd_disk_wal_fsync_duration_seconds` | histogram, etcd's buckets | `syncDuration` |
 * | `etcd_disk_wal_write_bytes_total` | gauge (etcd declares it a gauge), only ever increased | `bytesWritten` |
 * | `walnut_wal_records_written_total{type}` | counter; `type`: entry, state, crc, metadata, snapshot | `recordsWritten` |
 * | `walnut_wal_segments_cut_total` | counter | `segmentCut` |
 * | `walnut_wal_repairs_total{outcome}` | counter; `outcome`: repaired, clean, refused, failed | `repair` |
 * | `walnut_wal_purged_segments_total` | counter | `segmentsPurged` |
 * | `walnut_wal_purge_failures_total` | counter | `purgeFailed` |
 */
export type PrometheusWalMetrics = Required<WalMetrics>;

/**
 * The archive's metrics hooks, every one implemented; pass it as `metrics` to `@walnut/fs-s3-archive`'s
 * `SegmentArchiver` or `archiveSegments` (it is that package's `ArchiveMetrics`, spelled out here so that
 * this package does not depend on it).
 *
 * | metric | type | hook |
 * |---|---|---|
 * | `walnut_archive_uploads_started_total` | counter | `uploadStarted` |
 * | `walnut_archive_uploads_succeeded_total` | counter (resumed uploads included) | `uploadSucceeded` |
 * | `walnut_archive_upload_duration_seconds` | histogram, {@link ARCHIVE_UPLOAD_BUCKETS} | `uploadSucceeded` |
 * | `walnut_archive_uploaded_bytes_total` | counter (bytes sent: resumed uploads send none) | `uploadSucceeded` |
 * | `walnut_archive_upload_failures_total{code}` | counter | `uploadFailed` |
 * | `walnut_archive_round_failures_total{code}` | counter | `roundFailed` |
 * | `walnut_archive_segments_archived_total` | counter | `segmentArchived` |
 * | `walnut_archive_archived_bytes_total` | counter | `segmentArchived` |
 * | `walnut_archive_lag_segments` | gauge | `lag` |
 * | `walnut_archive_lag_bytes` | gauge | `lag` |
 * | `walnut_archive_lag_oldest_seconds` | gauge (set by a `SegmentArchiver` only) | `lag` |
 */
export interface PrometheusArchiveMetrics {
  /** Counts `walnut_archive_uploads_started_total`. */
  uploadStarted(): void;
  /** Counts the success, observes its duration, and adds its bytes unless it was `resumed`. */
  uploadSucceeded(bytes: number, seconds: number, resumed: boolean): void;
  /** Counts `walnut_archive_upload_failures_total{code}`. */
  uploadFailed(code: string): void;
  /** Counts the segment and its bytes. */
  segmentArchived(bytes: number): void;
  /** Counts `walnut_archive_round_failures_total{code}`. */
  roundFailed(code: string): void;
  /** Sets the lag gauges (`oldestSeconds` only when defined). */
  lag(segments: number, bytes: number, oldestSeconds: number | undefined): void;
}

type MetricClass = typeof Counter | typeof Gauge | typeof Histogram;

/** Registers `name`, or reuses the metric of that name already in the registry (same type and labels). */
function metric<C extends MetricClass>(
  registry: Registry,
  Kind: C,
  name: string,
  help: string,
  labelNames: readonly string[],
  extra: { buckets?: number[] } = {},
): InstanceType<C> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) {
    const theirs = [...(((existing as unknown as { labelNames?: string[] }).labelNames ?? []) as string[])].sort();
    if (!(existing instanceof Kind) || theirs.join(',') !== [...labelNames].sort().join(',')) {
      throw new Error(
        `@walnut/metrics-prometheus: the registry already has a metric "${name}" of another type or with other labels (${theirs.join(', ')}); ` +
          `every call on one registry must use the same label names`,
      );
    }
    return existing as InstanceType<C>;
  }
  const Ctor = Kind as unknown as new (c: object) => InstanceType<C>;
  return new Ctor({ name, help, labelNames: [...labelNames], registers: [registry], ...extra });
}

function resolve(options: PrometheusMetricsOptions | undefined): {
  registry: Registry;
  prefix: string;
  labels: Record<string, string>;
  names: string[];
} {
  const registry = options?.registry ?? defaultRegistry;
  const prefix = options?.prefix ?? 'walnut_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) throw new Error(`@walnut/metrics-prometheus: invalid metric name prefix "${prefix}"`);
  const labels = { ...(options?.labels ?? {}) };
  for (const [k, v] of Object.entries(labels)) {
    if (RESERVED_LABELS.has(k) || k.startsWith('__') || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) {
      throw new Error(`@walnut/metrics-prometheus: label name "${k}" is reserved or invalid`);
    }
    if (typeof v !== 'string') throw new Error(`@walnut/metrics-prometheus: label "${k}" must be a string`);
  }
  return { registry, prefix, labels, names: Object.keys(labels) };
}

/**
 * Creates the WAL's metrics in `options.registry` (see {@link PrometheusWalMetrics} for the list) and
 * returns hooks that update them. Counters start at 0 for every label value known up front (record kinds,
 * repair outcomes), so a rate is defined from the first scrape.
 *
 * ```ts
 * const metrics = prometheusWalMetrics({ registry, labels: { wal: 'member-1' } });
 * const wal = await Wal.open(fs, dir, snap, { metrics });
 * ```
 */
export function prometheusWalMetrics(options?: PrometheusMetricsOptions): PrometheusWalMetrics {
  const { registry, prefix, labels, names } = resolve(options);
  const fsync = metric(
    registry,
    Histogram,
    'etcd_disk_wal_fsync_duration_seconds',
    'The latency distributions of fsync called by WAL.',
    names,
    {
      buckets: [...ETCD_WAL_FSYNC_BUCKETS],
    },
  );
  const writeBytes = metric(registry, Gauge, 'etcd_disk_wal_write_bytes_total', 'Total number of bytes written in WAL.', names);
  const records = metric(registry, Counter, `${prefix}wal_records_written_total`, 'WAL records written, by record type.', [
    ...names,
    'type',
  ]);
  const cuts = metric(registry, Counter, `${prefix}wal_segments_cut_total`, 'WAL segments cut.', names);
  const repairs = metric(registry, Counter, `${prefix}wal_repairs_total`, 'WAL repairs, by outcome (repaired, clean, refused, failed).', [
    ...names,
    'outcome',
  ]);
  const purged = metric(registry, Counter, `${prefix}wal_purged_segments_total`, 'WAL segments removed by purge.', names);
  const purgeFailures = metric(registry, Counter, `${prefix}wal_purge_failures_total`, 'WAL purge rounds that failed.', names);

  // Bound children, created once: a hook call does no label lookup and allocates nothing.
  fsync.zero(labels);
  const fsyncChild = fsync.labels(labels);
  const writeBytesChild = writeBytes.labels(labels);
  writeBytesChild.inc(0);
  const recordChildren = new Map(RECORD_KINDS.map((k) => [k, records.labels({ ...labels, type: k })]));
  for (const c of recordChildren.values()) c.inc(0);
  const cutsChild = cuts.labels(labels);
  cutsChild.inc(0);
  const repairChildren = new Map(REPAIR_OUTCOMES.map((o) => [o, repairs.labels({ ...labels, outcome: o })]));
  for (const c of repairChildren.values()) c.inc(0);
  const purgedChild = purged.labels(labels);
  purgedChild.inc(0);
  const purgeFailuresChild = purgeFailures.labels(labels);
  purgeFailuresChild.inc(0);

  return {
    syncDuration: (seconds) => fsyncChild.observe(seconds),
    bytesWritten: (bytes) => writeBytesChild.inc(bytes),
    recordsWritten: (kind, count) => (recordChildren.get(kind) ?? records.labels({ ...labels, type: String(kind) })).inc(count),
    segmentCut: () => cutsChild.inc(),
    repair: (outcome) => (repairChildren.get(outcome) ?? repairs.labels({ ...labels, outcome: String(outcome) })).inc(),
    segmentsPurged: (count) => purgedChild.inc(count),
    purgeFailed: () => purgeFailuresChild.inc(),
  };
}

/**
 * Creates the archive's metrics in `options.registry` (see {@link PrometheusArchiveMetrics} for the list)
 * and returns hooks that update them.
 *
 * ```ts
 * const archiver = new SegmentArchiver(archiveFs, dir, { max: 5, metrics: prometheusArchiveMetrics({ registry }) });
 * ```
 */
export function prometheusArchiveMetrics(options?: PrometheusMetricsOptions): PrometheusArchiveMetrics {
  const { registry, prefix, labels, names } = resolve(options);
  const p = `${prefix}archive_`;
  const started = metric(registry, Counter, `${p}uploads_started_total`, 'Segment uploads started.', names);
  const succeeded = metric(registry, Counter, `${p}uploads_succeeded_total`, 'Segment uploads that ended with a verified object.', names);
  const duration = metric(registry, Histogram, `${p}upload_duration_seconds`, 'Time to read, upload and verify one segment.', names, {
    buckets: [...ARCHIVE_UPLOAD_BUCKETS],
  });
  const uploadedBytes = metric(registry, Counter, `${p}uploaded_bytes_total`, 'Segment bytes uploaded (resumed uploads send none).', names);
  const failures = metric(registry, Counter, `${p}upload_failures_total`, 'Segment uploads that failed, by error code.', [
    ...names,
    'code',
  ]);
  const roundFailures = metric(registry, Counter, `${p}round_failures_total`, 'Archive rounds that failed, by error code.', [
    ...names,
    'code',
  ]);
  const segments = metric(registry, Counter, `${p}segments_archived_total`, 'Segments archived and removed locally.', names);
  const bytes = metric(registry, Counter, `${p}archived_bytes_total`, 'Bytes of the segments archived and removed locally.', names);
  const lagSegments = metric(
    registry,
    Gauge,
    `${p}lag_segments`,
    'Segments beyond the newest max not archived yet, after the last round.',
    names,
  );
  const lagBytes = metric(registry, Gauge, `${p}lag_bytes`, 'Bytes of the segments not archived yet, after the last round.', names);
  const lagOldest = metric(
    registry,
    Gauge,
    `${p}lag_oldest_seconds`,
    'How long the oldest segment not archived yet has been waiting (seen by the archiver), after the last round.',
    names,
  );

  const startedChild = started.labels(labels);
  const succeededChild = succeeded.labels(labels);
  const durationChild = duration.labels(labels);
  const uploadedBytesChild = uploadedBytes.labels(labels);
  const segmentsChild = segments.labels(labels);
  const bytesChild = bytes.labels(labels);
  for (const c of [startedChild, succeededChild, uploadedBytesChild, segmentsChild, bytesChild]) c.inc(0);
  duration.zero(labels);
  const lagSegmentsChild = lagSegments.labels(labels);
  const lagBytesChild = lagBytes.labels(labels);
  const lagOldestChild = lagOldest.labels(labels);
  // Codes are open-ended: children are created on first use and kept.
  const failureChildren = new Map<string, ReturnType<typeof failures.labels>>();
  const roundFailureChildren = new Map<string, ReturnType<typeof roundFailures.labels>>();
  const byCode = (m: Counter<string>, cache: Map<string, ReturnType<Counter<string>['labels']>>, code: string) => {
    let c = cache.get(code);
    if (!c) cache.set(code, (c = m.labels({ ...labels, code })));
    return c;
  };

  return {
    uploadStarted: () => startedChild.inc(),
    uploadSucceeded: (n, seconds, resumed) => {
      succeededChild.inc();
      durationChild.observe(seconds);
      if (!resumed) uploadedBytesChild.inc(n);
    },
    uploadFailed: (code) => byCode(failures, failureChildren, code).inc(),
    segmentArchived: (n) => {
      segmentsChild.inc();
      bytesChild.inc(n);
    },
    roundFailed: (code) => byCode(roundFailures, roundFailureChildren, code).inc(),
    lag: (n, b, oldestSeconds) => {
      lagSegmentsChild.set(n);
      lagBytesChild.set(b);
      if (oldestSeconds !== undefined) lagOldestChild.set(oldestSeconds);
    },
  };
}
