// ArchiveMetrics on fs-memory and the in-memory object store: uploads started/succeeded (bytes, duration by
// the injected clock), segments and bytes archived, failures by code (MemoryObjectStore.failNext), the
// backlog after every round (segments, bytes, and the age of the oldest pending segment for a
// SegmentArchiver), and a throwing hook that never fails a round.
import { describe, expect, it } from 'vitest';
import { EntryType, Wal, type Entry, type PurgeTimer } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem, SegmentArchiver, archiveSegments, type ArchiveMetrics } from '../src/index.js';

const DIR = '/data/wal';

function entry(i: number): Entry {
  const data = new Uint8Array(700 + ((i * 37) % 900));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

async function setup(
  releaseTo = 100n,
): Promise<{ mem: MemoryFileSystem; store: MemoryObjectStore; fs: S3ArchiveFileSystem; wal: Wal; max: number }> {
  const mem = new MemoryFileSystem({ seed: 11 });
  await mem.mkdir('/data', { recursive: true });
  await mem.syncDir('/');
  const store = new MemoryObjectStore();
  const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'n1/', root: '/data' });
  const wal = await Wal.create(fs, DIR, new TextEncoder().encode('meta'), { segmentSizeBytes: 16 * 1024 });
  for (let i = 1; i <= 100; i++) {
    await wal.save({ term: 1n, vote: 2n, commit: BigInt(i) }, [entry(i)]);
    if (i % 20 === 0) await wal.saveSnapshot({ index: BigInt(i), term: 1n });
  }
  await wal.releaseLockTo(releaseTo);
  // Keep exactly the segments the WAL still holds: every candidate of a round is released.
  return { mem, store, fs, wal, max: wal.lockedSegments.length };
}

function recording() {
  const calls = {
    started: 0,
    succeeded: [] as { bytes: number; seconds: number; resumed: boolean }[],
    failed: [] as string[],
    archived: [] as number[],
    roundFailed: [] as string[],
    lag: [] as { segments: number; bytes: number; oldestSeconds: number | undefined }[],
  };
  const metrics: Required<ArchiveMetrics> = {
    uploadStarted: () => void calls.started++,
    uploadSucceeded: (bytes, seconds, resumed) => void calls.succeeded.push({ bytes, seconds, resumed }),
    uploadFailed: (code) => void calls.failed.push(code),
    segmentArchived: (bytes) => void calls.archived.push(bytes),
    roundFailed: (code) => void calls.roundFailed.push(code),
    lag: (segments, bytes, oldestSeconds) => void calls.lag.push({ segments, bytes, oldestSeconds }),
  };
  return { calls, metrics };
}

async function liveSizes(mem: MemoryFileSystem): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of (await mem.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort()) out.set(n, (await mem.stat(`${DIR}/${n}`)).size);
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A clock whose every reading is 250 ms after the previous one. */
function steppingClock() {
  let t = 0;
  return { now: () => (t += 250) };
}

describe('ArchiveMetrics', () => {
  it('reports each upload, each archived segment, and an empty backlog after a complete round', async () => {
    const { mem, fs, wal, max } = await setup();
    const before = await liveSizes(mem);
    const expected = [...before.values()].slice(0, before.size - max);
    expect(expected.length).toBeGreaterThan(3);
    const { calls, metrics } = recording();

    // One upload at a time, so that the clock's readings pair up per upload.
    const r = await archiveSegments(fs, DIR, { max, metrics, clock: steppingClock(), concurrency: 1 });
    expect(r.archived.length).toBe(expected.length);
    expect(calls.started).toBe(expected.length);
    expect(calls.succeeded.map((s) => s.bytes)).toEqual(expected);
    // Two clock readings per upload, 250 ms apart.
    expect(calls.succeeded.every((s) => s.seconds === 0.25 && !s.resumed)).toBe(true);
    expect(calls.archived).toEqual(expected);
    expect(sum(calls.archived)).toBe(r.bytes);
    expect(calls.failed).toEqual([]);
    expect(calls.roundFailed).toEqual([]);
    // archiveSegments alone has no memory of earlier rounds: no age.
    expect(calls.lag).toEqual([{ segments: 0, bytes: 0, oldestSeconds: undefined }]);
    await wal.close();
  });

  it('the backlog counts the segments beyond the newest max the round could not take, with their bytes', async () => {
    // Released only up to 40: the WAL still holds the segments from there on; with max 1 they are candidates.
    const { mem, fs, wal } = await setup(40n);
    expect(wal.lockedSegments.length).toBeGreaterThan(2);
    const { calls, metrics } = recording();
    const r = await archiveSegments(fs, DIR, { max: 1, metrics });
    expect(r.archived.length).toBeGreaterThan(0);
    expect(r.blockedBy).toBe(wal.lockedSegments[0]);
    const waiting = [...(await liveSizes(mem)).values()].slice(0, -1);
    expect(waiting.length).toBe(wal.lockedSegments.length - 1);
    expect(calls.lag).toEqual([{ segments: waiting.length, bytes: sum(waiting), oldestSeconds: undefined }]);
    await wal.close();
  });

  it('failures by code: an unreachable store fails the upload and the round; the backlog is every candidate', async () => {
    const { mem, store, fs, wal, max } = await setup();
    const before = await liveSizes(mem);
    const pending = [...before.values()].slice(0, before.size - max);
    const { calls, metrics } = recording();
    store.failNext(1);
    await expect(archiveSegments(fs, DIR, { max, metrics, concurrency: 1 })).rejects.toMatchObject({ code: 'ARCHIVE_UNREACHABLE' });
    expect(calls.started).toBe(1);
    expect(calls.failed).toEqual(['ARCHIVE_UNREACHABLE']);
    expect(calls.roundFailed).toEqual(['ARCHIVE_UNREACHABLE']);
    expect(calls.succeeded).toEqual([]);
    expect(calls.archived).toEqual([]);
    expect(calls.lag).toEqual([{ segments: pending.length, bytes: sum(pending), oldestSeconds: undefined }]);

    // The next round archives them all; the backlog is empty again.
    await archiveSegments(fs, DIR, { max, metrics });
    expect(calls.archived).toEqual(pending);
    expect(calls.lag.at(-1)).toEqual({ segments: 0, bytes: 0, oldestSeconds: undefined });
    await wal.close();
  });

  it('a SegmentArchiver reports how long the oldest pending segment has waited, by its clock', async () => {
    const { mem, store, fs, wal, max } = await setup();
    const before = await liveSizes(mem);
    const pending = [...before.values()].slice(0, before.size - max);
    const { calls, metrics } = recording();
    let now = 1_000;
    const clock = { now: () => now };
    const archiver = new SegmentArchiver(fs, DIR, { max, metrics, clock, concurrency: 1, onError: () => {} });

    store.failNext(1_000);
    await expect(archiver.archiveNow()).rejects.toThrow();
    expect(calls.lag.at(-1)).toEqual({ segments: pending.length, bytes: sum(pending), oldestSeconds: 0 });
    now += 30_000;
    await expect(archiver.archiveNow()).rejects.toThrow();
    expect(calls.lag.at(-1)).toEqual({ segments: pending.length, bytes: sum(pending), oldestSeconds: 30 });
    now += 15_500;
    await expect(archiver.archiveNow()).rejects.toThrow();
    expect(calls.lag.at(-1)!.oldestSeconds).toBe(45.5);
    expect(calls.failed).toEqual(['ARCHIVE_UNREACHABLE', 'ARCHIVE_UNREACHABLE', 'ARCHIVE_UNREACHABLE']);

    store.failNext(0);
    now += 1_000;
    const r = await archiver.archiveNow();
    expect(r.archived.length).toBe(pending.length);
    expect(calls.lag.at(-1)).toEqual({ segments: 0, bytes: 0, oldestSeconds: 0 });
    expect(calls.succeeded.map((s) => s.seconds)).toEqual(pending.map(() => 0)); // the clock did not move
    await archiver.stop();
    await wal.close();
  });

  it('the background loop reports through the same hooks', async () => {
    const { fs, wal, max } = await setup();
    const { calls, metrics } = recording();
    const timers: (() => void)[] = [];
    const timer: PurgeTimer = { setTimeout: (cb) => timers.push(cb), clearTimeout: () => {} };
    const rounds: number[] = [];
    const archiver = new SegmentArchiver(fs, DIR, { max, metrics, timer, onRound: (r) => rounds.push(r.archived.length) });
    archiver.start();
    for (let i = 0; i < 500 && rounds.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(rounds.length).toBe(1);
    expect(calls.archived.length).toBe(rounds[0]);
    expect(calls.lag).toEqual([{ segments: 0, bytes: 0, oldestSeconds: 0 }]);
    await archiver.stop();
    await wal.close();
  });

  it('a throwing hook is logged once and never fails the round', async () => {
    const { fs, wal, max } = await setup();
    const warnings: Record<string, unknown>[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (f: Record<string, unknown>) => void warnings.push(f) };
    const boom = () => {
      throw new Error('boom');
    };
    const metrics: ArchiveMetrics = { uploadStarted: boom, uploadSucceeded: boom, segmentArchived: boom, lag: boom };
    const r = await archiveSegments(fs, DIR, { max, metrics, logger });
    expect(r.archived.length).toBeGreaterThan(3);
    expect(warnings.map((w) => w.hook).sort()).toEqual(['lag', 'segmentArchived', 'uploadStarted', 'uploadSucceeded']);
    await wal.close();
  });
});
