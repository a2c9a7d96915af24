// The archive over fs-memory and the in-memory object store: tiers seen as one, archived segments
// immutable and verified on every read, the archiver's round (barrier, idempotent resume, conflicts,
// read-back verification), and its crash safety at every file system operation of a round.
import { describe, expect, it } from 'vitest';
import { EntryType, Wal, isWalError, purgeSegments, type Entry } from '@walnut/wal-core';
import { FaultInjectingFileSystem, MemoryFileSystem } from '@walnut/fs-memory';
import {
  ArchiveConflictError,
  ArchiveCorruptionError,
  MemoryObjectStore,
  S3ArchiveFileSystem,
  SegmentArchiver,
  archiveSegments,
  crc32cBase64,
  factsToMetadata,
  segmentFacts,
  type ObjectStore,
} from '../src/index.js';

const DIR = '/data/wal';
const SEG = 16 * 1024;

function entry(i: number): Entry {
  const data = new Uint8Array(700 + ((i * 37) % 900));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

async function disk(): Promise<MemoryFileSystem> {
  const mem = new MemoryFileSystem({ seed: 7 });
  await mem.mkdir('/data', { recursive: true });
  await mem.syncDir('/');
  return mem;
}

/** A WAL of `n` entries in ~16 KiB segments with snapshots every 20 entries; all released up to the last snapshot. */
async function writeWal(fs: S3ArchiveFileSystem | MemoryFileSystem, n = 120): Promise<Wal> {
  const wal = await Wal.create(fs, DIR, new TextEncoder().encode('meta'), { segmentSizeBytes: SEG });
  for (let i = 1; i <= n; i++) {
    await wal.save({ term: 1n, vote: 2n, commit: BigInt(i) }, [entry(i)]);
    if (i % 20 === 0) await wal.saveSnapshot({ index: BigInt(i), term: 1n });
  }
  await wal.releaseLockTo(BigInt(n - (n % 20 || 20)));
  return wal;
}

const liveSegments = async (mem: MemoryFileSystem) => (await mem.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort();

async function readEverything(fs: S3ArchiveFileSystem) {
  const w = await Wal.openForRead(fs, DIR, { index: 0n, term: 0n });
  try {
    return await w.readAll();
  } finally {
    await w.close();
  }
}

describe('S3ArchiveFileSystem over fs-memory', () => {
  it('archives released segments, removes them locally, and reads every entry back across both tiers', async () => {
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'node-1/', root: '/data' });
    const wal = await writeWal(fs);
    const before = await liveSegments(mem);
    expect(before.length).toBeGreaterThan(6);

    const r = await archiveSegments(fs, DIR, { max: 2 });
    expect(r.archived.length).toBeGreaterThan(3);
    expect(r.resumed).toEqual([]);
    const after = await liveSegments(mem);
    expect(after.length + r.archived.length).toBe(before.length);
    expect(store.keys()).toEqual(r.archived.map((n) => `node-1/wal/${n}`));
    // One listing, in order; stat and sizes agree.
    expect((await fs.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort()).toEqual(before);
    for (const n of r.archived) expect((await fs.stat(`${DIR}/${n}`)).size).toBeGreaterThan(0);

    const all = await readEverything(fs);
    expect(all.entries.map((e) => Number(e.index))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(all.entries[41]!.data).toEqual(entry(42).data);
    expect(await Wal.verify(fs, DIR, { index: 0n, term: 0n })).toMatchObject({ commit: 120n });
    const snaps = await Wal.validSnapshotEntries(fs, DIR);
    expect(snaps.map((s) => Number(s.index))).toEqual([0, 20, 40, 60, 80, 100, 120]);

    // The live WAL goes on: more saves, a reopen at a later snapshot reads what it needs.
    await wal.save({ term: 1n, vote: 2n, commit: 121n }, [entry(121)]);
    await wal.close();
    const w2 = await Wal.open(fs, DIR, { index: 100n, term: 1n });
    expect((await w2.readAll()).entries.map((e) => Number(e.index))).toEqual(Array.from({ length: 21 }, (_, i) => i + 101));
    await w2.close();
  });

  it('an archived segment is immutable: open for writing, remove, rename and lock are EROFS; createExclusive is EEXIST', async () => {
    const mem = await disk();
    const fs = new S3ArchiveFileSystem(mem, new MemoryObjectStore(), { prefix: '' });
    const wal = await writeWal(fs);
    const { archived } = await archiveSegments(fs, DIR, { max: 2 });
    await wal.close();
    const p = `${DIR}/${archived[0]}`;
    for (const flags of ['readWrite', 'create', 'createTruncate'] as const)
      await expect(fs.open(p, flags)).rejects.toMatchObject({ code: 'EROFS' });
    await expect(fs.open(p, 'createExclusive')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(fs.remove(p)).rejects.toMatchObject({ code: 'EROFS' });
    await expect(fs.rename(p, `${DIR}/x`)).rejects.toMatchObject({ code: 'EROFS' });
    const h = await fs.open(p, 'read');
    await expect(h.tryLock()).rejects.toMatchObject({ code: 'EROFS' });
    await expect(h.write(new Uint8Array(1), 0, 1, 0)).rejects.toMatchObject({ code: 'EROFS' });
    await h.close();
    // Nothing but the archiver drops a live segment that is not archived yet: purge through this file
    // system fails loudly (EPERM) rather than lose one on its way to the archive.
    const live = await liveSegments(mem);
    await expect(purgeSegments(fs, DIR, { max: 1 })).rejects.toMatchObject({ code: 'EPERM' });
    expect(await liveSegments(mem)).toEqual(live);
    // Allowed to, purge skips archived segments (they are not its to delete) and still keeps the newest `max`.
    const permissive = new S3ArchiveFileSystem(mem, fs.store, { prefix: '', allowUnarchivedRemoval: true });
    const res = await purgeSegments(permissive, DIR, { max: 1 });
    expect(res.removed).toEqual(live.slice(0, -1));
    expect(await liveSegments(mem)).toEqual(live.slice(-1));
    expect((await fs.readdir(DIR)).filter((n) => archived.includes(n)).sort()).toEqual(archived);
    // Other files remove as usual.
    await (await fs.open(`${DIR}/x.tmp`, 'create')).close();
    await fs.remove(`${DIR}/x.tmp`);
  });

  it("an archived object altered behind walnut's back is an ARCHIVE_CORRUPT error on read, never wrong data", async () => {
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'p/', cacheBytes: 0 });
    (await writeWal(fs)).close();
    const { archived } = await archiveSegments(fs, DIR, { max: 2 });
    const key = fs.keyOf(`${DIR}/${archived[1]}`);
    store.tamper(key, (b) => {
      b[b.length - 100]! ^= 0x10;
      return b;
    });
    const err = await readEverything(fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveCorruptionError);
    expect((err as ArchiveCorruptionError).code).toBe('ARCHIVE_CORRUPT');
    expect((err as Error).message).toContain(key);
    // Truncated behind our back: the size no longer matches the metadata.
    store.tamper(key, (b) => b.subarray(0, b.length - 1));
    await expect(fs.open(`${DIR}/${archived[1]}`, 'read')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('stops at a segment the WAL still holds (the barrier), as purge does', async () => {
    const mem = await disk();
    const fs = new S3ArchiveFileSystem(mem, new MemoryObjectStore(), { prefix: '' });
    const wal = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: SEG });
    for (let i = 1; i <= 80; i++) await wal.save({ term: 1n, vote: 0n, commit: BigInt(i) }, [entry(i)]);
    const r = await archiveSegments(fs, DIR, { max: 1 });
    expect(r.archived).toEqual([]);
    expect(r.blockedBy).toBe((await liveSegments(mem))[0]);
    await wal.close();
  });

  async function oldestSegment(mem: MemoryFileSystem) {
    const name = (await liveSegments(mem))[0]!;
    const h = await mem.open(`${DIR}/${name}`, 'read');
    const bytes = new Uint8Array(await h.size());
    await h.read(bytes, 0, bytes.length, 0);
    await h.close();
    return { name, bytes, facts: await segmentFacts(name, bytes) };
  }

  it('resumes after a crash: an object already there with the same bytes and metadata counts as done', async () => {
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: '', root: '/data' });
    await (await writeWal(fs)).close();
    const live = await liveSegments(mem);
    // As if an earlier round uploaded the oldest segment and died before the local delete.
    const { name, bytes, facts } = await oldestSegment(mem);
    await store.put(`wal/${name}`, bytes, {
      metadata: factsToMetadata(facts),
      crc32cBase64: crc32cBase64(facts.crc32c),
      ifNoneMatch: true,
    });
    const r = await archiveSegments(new S3ArchiveFileSystem(mem, store, { prefix: '', root: '/data' }), DIR, { max: 2 });
    expect(r.resumed).toEqual([name]);
    expect(r.archived).toEqual(live.slice(0, -2));
    expect(store.log.filter((l) => l === `put wal/${name}`)).toHaveLength(1);
  });

  it("an object with other bytes under a segment's name is ARCHIVE_CONFLICT, and the local segment stays", async () => {
    const mem = await disk();
    const store = new MemoryObjectStore({ verifiesChecksums: false });
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: '', root: '/data' });
    await (await writeWal(fs)).close();
    const live = await liveSegments(mem);
    const { name, bytes, facts } = await oldestSegment(mem);
    const other = bytes.slice();
    other[100]! ^= 1;
    await store.put(`wal/${name}`, other, {
      metadata: factsToMetadata({ ...facts, crc32c: (facts.crc32c ^ 1) >>> 0 }),
      crc32cBase64: crc32cBase64(facts.crc32c ^ 1),
      ifNoneMatch: true,
    });
    const err = await archiveSegments(fs, DIR, { max: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveConflictError);
    expect((err as Error).message).toContain(name);
    expect(await liveSegments(mem)).toEqual(live);
  });

  it('verifies by reading back where the server does not check checksums: a store that corrupts on the way is caught, the object deleted, the segment kept', async () => {
    const mem = await disk();
    const inner = new MemoryObjectStore({ verifiesChecksums: false });
    const corrupting: ObjectStore = {
      location: inner.location,
      put: (key, body, o) => {
        const b = body.slice();
        b[b.length >> 1]! ^= 4;
        return inner.put(key, b, o);
      },
      get: (k, r) => inner.get(k, r),
      head: (k) => inner.head(k),
      list: (p) => inner.list(p),
      delete: (k) => inner.delete(k),
    };
    const fs = new S3ArchiveFileSystem(mem, corrupting, { prefix: '' });
    await (await writeWal(fs)).close();
    const live = await liveSegments(mem);
    const err = await archiveSegments(fs, DIR, { max: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveCorruptionError);
    expect(inner.keys()).toEqual([]);
    expect(await liveSegments(mem)).toEqual(live);
  });

  it('the store down: a typed error, nothing removed locally; the next round archives everything', async () => {
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: '' });
    const wal = await writeWal(fs);
    const live = await liveSegments(mem);
    store.failNext(1000);
    const err = await archiveSegments(fs, DIR, { max: 2 }).catch((e: unknown) => e);
    expect(isWalError(err) && err.code).toBe('ARCHIVE_UNREACHABLE');
    store.failNext(0); // the server is back
    expect(await liveSegments(mem)).toEqual(live);
    await wal.save({ term: 1n, vote: 2n, commit: 121n }, [entry(121)]); // the live WAL keeps working
    const r = await archiveSegments(fs, DIR, { max: 2 });
    expect(r.archived).toEqual(live.slice(0, -2));
    await wal.close();
  });

  it('the store down while listing: live names only (a node still starts from its local segments), or ARCHIVE_UNREACHABLE with whenArchiveUnavailable "throw"', async () => {
    const mem = await disk();
    const store = new MemoryObjectStore();
    const wal = await writeWal(new S3ArchiveFileSystem(mem, store, { prefix: '' }));
    await archiveSegments(new S3ArchiveFileSystem(mem, store, { prefix: '' }), DIR, { max: 2 });
    await wal.close();
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_f: Record<string, unknown>, m: string) => void warnings.push(m) };
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: '', logger });
    store.failNext(1);
    expect((await fs.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort()).toEqual(await liveSegments(mem));
    expect(warnings).toEqual(['archive: listing unavailable, listing live segments only']);
    // Reading from the beginning needs archived segments: a typed error, not a shorter WAL.
    store.failNext(1);
    await expect(readEverything(fs)).rejects.toSatisfy(isWalError);
    // The outage is not remembered: the next listing sees the archive again.
    expect((await readEverything(fs)).entries).toHaveLength(120);
    const strict = new S3ArchiveFileSystem(mem, store, { prefix: '', whenArchiveUnavailable: 'throw' });
    store.failNext(1);
    await expect(strict.readdir(DIR)).rejects.toMatchObject({ code: 'ARCHIVE_UNREACHABLE' });
    store.failNext(0);
  });

  it('a listing that was loading while a round archived segments still shows them (changes noted during a load are replayed onto it)', async () => {
    const mem = await disk();
    const inner = new MemoryObjectStore();
    let gate: Promise<void> | undefined;
    let release = () => {};
    // A slow LIST: its result is taken before the round uploads anything and returned after it ends.
    const store: ObjectStore = {
      location: inner.location,
      put: (k, b, o) => inner.put(k, b, o),
      get: (k, r) => inner.get(k, r),
      head: (k) => inner.head(k),
      delete: (k) => inner.delete(k),
      list: async (p) => {
        const r = await inner.list(p);
        if (gate) await gate;
        return r;
      },
    };
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: '' });
    const wal = await writeWal(fs);
    const before = await liveSegments(mem);
    fs.refresh();
    gate = new Promise((r) => (release = r));
    const listing = fs.readdir(DIR);
    const round = await archiveSegments(fs, DIR, { max: 2 });
    release();
    gate = undefined;
    await listing;
    expect(round.archived.length).toBeGreaterThan(3);
    expect((await fs.readdir(DIR)).filter((n) => n.endsWith('.wal'))).toEqual(before);
    expect((await readEverything(fs)).entries).toHaveLength(120);
    await wal.close();
  });

  it('SegmentArchiver: background rounds, archiveNow, and stop before close', async () => {
    const mem = await disk();
    const fs = new S3ArchiveFileSystem(mem, new MemoryObjectStore(), { prefix: '' });
    const wal = await writeWal(fs);
    const rounds: number[] = [];
    const archiver = new SegmentArchiver(fs, DIR, { max: 2, intervalMs: 5, onRound: (r) => rounds.push(r.archived.length) });
    archiver.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds.length).toBeGreaterThan(1);
    expect(rounds[0]).toBeGreaterThan(0);
    expect((await archiver.archiveNow()).archived).toEqual([]);
    await archiver.stop();
    await expect(archiver.archiveNow()).rejects.toMatchObject({ code: 'ARCHIVER_STOPPED' });
    expect(() => archiver.start()).toThrow();
    await wal.close();
    expect(() => new SegmentArchiver(fs, DIR, { max: 0 })).toThrow(/max/);
  });
});

describe('crash safety of an archive round', () => {
  it('a power cut before any file system operation of a round: every entry is still readable (local or archived), and the next round completes', async () => {
    const base = await disk();
    const store0 = new MemoryObjectStore();
    await (await writeWal(new S3ArchiveFileSystem(base, store0, { prefix: '' }))).close();
    const points: { mem: MemoryFileSystem; store: MemoryObjectStore }[] = [];
    const faulty = new FaultInjectingFileSystem(base, {
      seed: 1,
      onOperation: () => points.push({ mem: base.crash({ mode: 'random', seed: points.length + 1 }), store: store0.clone() }),
    });
    const r = await archiveSegments(new S3ArchiveFileSystem(faulty, store0, { prefix: '' }), DIR, { max: 2 });
    expect(r.archived.length).toBeGreaterThan(3);
    expect(points.length).toBeGreaterThan(20);
    for (const [i, p] of points.entries()) {
      const fs = new S3ArchiveFileSystem(p.mem, p.store, { prefix: '' });
      const got = await readEverything(fs);
      expect(got.entries.length, `crash point ${i}`).toBe(120);
      const again = await archiveSegments(fs, DIR, { max: 2 });
      expect((await liveSegments(p.mem)).length, `crash point ${i}: ${JSON.stringify(again)}`).toBe(2);
      expect((await readEverything(fs)).entries.length).toBe(120);
    }
  });
});
