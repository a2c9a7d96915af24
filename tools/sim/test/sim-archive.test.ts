/**
 * The archive simulation in CI (archive-sim.ts): seeds 0..299 of a WAL on S3ArchiveFileSystem over the
 * simulator's crash-capable disk and an in-memory object store, with archive rounds, crashes inside them
 * (between upload and local delete, between delete and directory sync, at store requests), store outages in
 * rounds and at start-up. Every seed must pass; a failure prints its replay command and the end of its trace.
 * The long run is `npm run sim -- --archive --seeds 10000` (README).
 */
import { describe, expect, it } from 'vitest';
import { Wal, type Entry } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem } from '@walnut/fs-s3-archive';
import { archiveReplayCommand, runArchiveSeed } from '../src/archive-sim.js';

const FROM = 0;
const SEEDS = 300;

describe(`archive simulation, seeds ${FROM}..${FROM + SEEDS - 1}`, () => {
  it('every seed passes, and the run reaches the crash points it is for', async () => {
    const failures: string[] = [];
    const totals: Record<string, number> = {};
    for (let s = FROM; s < FROM + SEEDS; s++) {
      const r = await runArchiveSeed(BigInt(s));
      for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
      if (!r.ok) failures.push(`seed ${s}: ${r.failure}\n  replay: ${archiveReplayCommand(s)}\n  ${r.trace.slice(-30).join('\n  ')}`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    // Roughly a third of these for 300 seeds (see the README): the run must keep reaching them.
    expect(totals['crashesUploadToDelete']).toBeGreaterThan(10);
    expect(totals['crashesDeleteToSync']).toBeGreaterThan(10);
    expect(totals['crashesAtStoreRequests']).toBeGreaterThan(20);
    expect(totals['resumed']).toBeGreaterThan(30);
    expect(totals['outages']).toBeGreaterThan(30);
    expect(totals['outagesAtStartUp']).toBeGreaterThan(30);
  });

  it('the same seed gives the same trace and trace hash', async () => {
    for (const seed of [3n, 37n, 2732n, 2n ** 64n - 1n]) {
      const a = await runArchiveSeed(seed, { verbose: true });
      const b = await runArchiveSeed(seed, { verbose: true });
      expect(a.ok, a.failure).toBe(true);
      expect(b.hash).toBe(a.hash);
      expect(b.trace).toEqual(a.trace);
      expect(b.stats).toEqual(a.stats);
    }
  });
});

/**
 * Found by this simulation (seed 2732, `npm run sim -- --archive --seeds 1 --from 2732 --verbose`, before the fix
 * in s3-archive-file-system.ts): with the store down, a process whose archive index was not loaded yet could
 * not cut a segment — the cut's rename asked the store whether the new name was archived, the listing failed,
 * and the WAL refused further writes (ARCHIVE_UNREACHABLE). Likewise validSnapshotEntries and Wal.open of
 * live segments failed during an outage, although a listing falls back to the live tier ('live-only').
 */
describe('a store outage does not stop the live WAL', () => {
  const entry = (i: number): Entry => ({ index: BigInt(i), term: 1n, type: 0, data: new Uint8Array(900).fill(i) });

  it('a node starts during an outage, and its cuts succeed while the store is still down', async () => {
    const mem = new MemoryFileSystem();
    await mem.mkdir('/data', { recursive: true });
    await mem.syncDir('/');
    const store = new MemoryObjectStore();
    const w1 = await Wal.create(new S3ArchiveFileSystem(mem, store, { prefix: 'p/' }), '/data/wal', undefined, { segmentSizeBytes: 4096 });
    await w1.save({ term: 1n, vote: 0n, commit: 1n }, [entry(1)]);
    await w1.close();

    store.failNext(1_000_000); // down from here on
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'p/' });
    expect(await Wal.validSnapshotEntries(fs, '/data/wal')).toEqual([{ index: 0n, term: 0n }]);
    const w2 = await Wal.open(fs, '/data/wal', { index: 0n, term: 0n }, { segmentSizeBytes: 4096 });
    expect((await w2.readAll()).entries).toHaveLength(1);
    for (let i = 2; i <= 20; i++) await w2.save({ term: 1n, vote: 0n, commit: BigInt(i) }, [entry(i)]);
    expect((await mem.readdir('/data/wal')).filter((n) => n.endsWith('.wal')).length).toBeGreaterThan(3);
    await w2.close();
    store.failNext(0);
    const w3 = await Wal.openForRead(fs, '/data/wal', { index: 0n, term: 0n });
    expect((await w3.readAll()).entries.map((e) => Number(e.index))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await w3.close();
  });
});
