// A real prom-client Registry fed by a real Wal on fs-memory and a real SegmentArchiver on the in-memory
// object store; the values are read back from registry.metrics(), the text Prometheus scrapes, and checked
// against what is on the file system.
import { describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { Wal, purgeSegments, type WalMetrics } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem, SegmentArchiver, type ArchiveMetrics } from '@walnut/fs-s3-archive';
import { ETCD_WAL_FSYNC_BUCKETS, prometheusArchiveMetrics, prometheusWalMetrics } from '../src/index.js';
import { DIR, entry, onDisk, sample, steppingClock } from './support.js';

async function disk(): Promise<MemoryFileSystem> {
  const mem = new MemoryFileSystem({ seed: 3 });
  await mem.mkdir('/data', { recursive: true });
  await mem.syncDir('/');
  return mem;
}

describe('prometheusWalMetrics', () => {
  it("etcd's fsync histogram and write bytes, walnut's records, cuts, repairs and purges, as scraped", async () => {
    const registry = new Registry();
    const prom = prometheusWalMetrics({ registry });
    // Counts the syncs the WAL reports, and passes them on.
    let syncs = 0;
    const metrics: WalMetrics = { ...prom, syncDuration: (s) => (syncs++, prom.syncDuration(s)) };
    const fs = await disk();
    const wal = await Wal.create(fs, DIR, new TextEncoder().encode('m'), { segmentSizeBytes: 8192, metrics, clock: steppingClock(3) });
    for (let i = 1; i <= 40; i += 2) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i), entry(i + 1)]);
    await wal.saveSnapshot({ index: 30n, term: 1n });
    await wal.releaseLockTo(30n);
    const onDiskBefore = await onDisk(fs);
    await wal.close();
    const purged = await purgeSegments(fs, DIR, { max: 2, metrics });
    expect(purged.removed.length).toBeGreaterThan(0);
    expect(await Wal.repair(fs, DIR, { metrics })).toBe(true);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE etcd_disk_wal_fsync_duration_seconds histogram');
    expect(text).toContain('# TYPE etcd_disk_wal_write_bytes_total gauge');
    // etcd's buckets, 1 ms to 8.192 s; every sync measured 3 ms with the injected clock.
    expect(ETCD_WAL_FSYNC_BUCKETS).toEqual([
      0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
    ]);
    expect(syncs).toBeGreaterThan(5);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_count')).toBe(syncs);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_sum')).toBeCloseTo(0.003 * syncs, 9);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_bucket', { le: '0.002' })).toBe(0);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_bucket', { le: '0.004' })).toBe(syncs);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_bucket', { le: '8.192' })).toBe(syncs);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_bucket', { le: '+Inf' })).toBe(syncs);

    // Bytes: everything handed to the file system, up to the last frame of each segment (before the purge).
    expect(sample(text, 'etcd_disk_wal_write_bytes_total')).toBe(onDiskBefore.bytes);
    for (const kind of ['entry', 'state', 'crc', 'metadata', 'snapshot']) {
      expect(sample(text, 'walnut_wal_records_written_total', { type: kind }), kind).toBe(onDiskBefore.records[kind] ?? 0);
    }
    expect(sample(text, 'walnut_wal_records_written_total', { type: 'entry' })).toBe(40);
    expect(sample(text, 'walnut_wal_segments_cut_total')).toBe(onDiskBefore.segments - 1);
    expect(sample(text, 'walnut_wal_purged_segments_total')).toBe(purged.removed.length);
    expect(sample(text, 'walnut_wal_purge_failures_total')).toBe(0);
    expect(sample(text, 'walnut_wal_repairs_total', { outcome: 'clean' })).toBe(1);
    expect(sample(text, 'walnut_wal_repairs_total', { outcome: 'repaired' })).toBe(0);
    expect(sample(text, 'walnut_wal_repairs_total', { outcome: 'refused' })).toBe(0);
    expect(sample(text, 'walnut_wal_repairs_total', { outcome: 'failed' })).toBe(0);
  });

  it('two WALs share a registry, told apart by constant labels; a prefix renames only walnut’s own metrics', async () => {
    const registry = new Registry();
    const fs = await disk();
    const a = await Wal.create(fs, '/data/a', undefined, {
      metrics: prometheusWalMetrics({ registry, prefix: 'app_', labels: { wal: 'a' } }),
    });
    const b = await Wal.create(fs, '/data/b', undefined, {
      metrics: prometheusWalMetrics({ registry, prefix: 'app_', labels: { wal: 'b' } }),
    });
    await a.save({ term: 1n, vote: 1n, commit: 1n }, [entry(1), entry(2), entry(3)]);
    await b.save({ term: 1n, vote: 1n, commit: 1n }, [entry(1)]);
    await a.close();
    await b.close();
    const text = await registry.metrics();
    expect(sample(text, 'app_wal_records_written_total', { wal: 'a', type: 'entry' })).toBe(3);
    expect(sample(text, 'app_wal_records_written_total', { wal: 'b', type: 'entry' })).toBe(1);
    expect(sample(text, 'walnut_wal_records_written_total', { wal: 'a', type: 'entry' })).toBeUndefined();
    expect(sample(text, 'etcd_disk_wal_write_bytes_total', { wal: 'a' })).toBe((await onDisk(fs, '/data/a')).bytes);
    expect(sample(text, 'etcd_disk_wal_write_bytes_total', { wal: 'b' })).toBe((await onDisk(fs, '/data/b')).bytes);
    expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_count', { wal: 'a' })).toBeGreaterThan(0);

    // Other label names on the same registry cannot be served by the same metrics.
    expect(() => prometheusWalMetrics({ registry, prefix: 'app_', labels: { node: 'x' } })).toThrow(/same label names/);
    expect(() => prometheusWalMetrics({ registry: new Registry(), labels: { type: 'x' } })).toThrow(/reserved/);
  });

  it("registers in prom-client's global registry by default", async () => {
    const metrics = prometheusWalMetrics();
    try {
      metrics.segmentCut();
      expect(sample(await globalRegistry.metrics(), 'walnut_wal_segments_cut_total')).toBe(1);
    } finally {
      globalRegistry.clear();
    }
  });
});

describe('prometheusArchiveMetrics', () => {
  it('uploads, bytes, failures by code and the backlog, from a SegmentArchiver on the in-memory store', async () => {
    const registry = new Registry();
    const metrics: ArchiveMetrics = prometheusArchiveMetrics({ registry, labels: { node: 'n1' } });
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'n1/', root: '/data' });
    const wal = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 8192 });
    for (let i = 1; i <= 40; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.releaseLockTo(40n);
    const max = wal.lockedSegments.length;
    const names = (await mem.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort();
    const pending = names.slice(0, names.length - max);
    let pendingBytes = 0;
    for (const n of pending) pendingBytes += (await mem.stat(`${DIR}/${n}`)).size;
    expect(pending.length).toBeGreaterThan(2);

    let now = 0;
    const archiver = new SegmentArchiver(fs, DIR, { max, metrics, concurrency: 1, clock: { now: () => now } });
    store.failNext(1);
    await expect(archiver.archiveNow()).rejects.toMatchObject({ code: 'ARCHIVE_UNREACHABLE' });
    let text = await registry.metrics();
    const n1 = { node: 'n1' };
    expect(sample(text, 'walnut_archive_upload_failures_total', { ...n1, code: 'ARCHIVE_UNREACHABLE' })).toBe(1);
    expect(sample(text, 'walnut_archive_round_failures_total', { ...n1, code: 'ARCHIVE_UNREACHABLE' })).toBe(1);
    expect(sample(text, 'walnut_archive_lag_segments', n1)).toBe(pending.length);
    expect(sample(text, 'walnut_archive_lag_bytes', n1)).toBe(pendingBytes);
    expect(sample(text, 'walnut_archive_lag_oldest_seconds', n1)).toBe(0);
    expect(sample(text, 'walnut_archive_segments_archived_total', n1)).toBe(0);

    now = 90_000; // 90 s later (by the archiver's clock), the store is back
    const r = await archiver.archiveNow();
    await archiver.stop();
    expect(r.archived).toEqual(pending);
    text = await registry.metrics();
    expect(sample(text, 'walnut_archive_uploads_started_total', n1)).toBe(pending.length + 1);
    expect(sample(text, 'walnut_archive_uploads_succeeded_total', n1)).toBe(pending.length);
    expect(sample(text, 'walnut_archive_upload_duration_seconds_count', n1)).toBe(pending.length);
    expect(sample(text, 'walnut_archive_uploaded_bytes_total', n1)).toBe(pendingBytes);
    expect(sample(text, 'walnut_archive_segments_archived_total', n1)).toBe(pending.length);
    expect(sample(text, 'walnut_archive_archived_bytes_total', n1)).toBe(pendingBytes);
    expect(sample(text, 'walnut_archive_lag_segments', n1)).toBe(0);
    expect(sample(text, 'walnut_archive_lag_bytes', n1)).toBe(0);
    expect(sample(text, 'walnut_archive_lag_oldest_seconds', n1)).toBe(0);
    expect(sample(text, 'walnut_archive_upload_failures_total', { ...n1, code: 'ARCHIVE_UNREACHABLE' })).toBe(1);
    await wal.close();
  });

  it('the backlog age grows while the store is down', async () => {
    const registry = new Registry();
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'n1/', root: '/data' });
    const wal = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 8192 });
    for (let i = 1; i <= 30; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.releaseLockTo(30n);
    let now = 5_000;
    const archiver = new SegmentArchiver(fs, DIR, {
      max: wal.lockedSegments.length,
      metrics: prometheusArchiveMetrics({ registry }),
      concurrency: 1,
      clock: { now: () => now },
    });
    store.failNext(100);
    for (const t of [5_000, 35_000, 65_000]) {
      now = t;
      await expect(archiver.archiveNow()).rejects.toThrow();
    }
    const text = await registry.metrics();
    expect(sample(text, 'walnut_archive_lag_oldest_seconds')).toBe(60);
    expect(sample(text, 'walnut_archive_upload_failures_total', { code: 'ARCHIVE_UNREACHABLE' })).toBe(3);
    await archiver.stop();
    await wal.close();
  });
});
