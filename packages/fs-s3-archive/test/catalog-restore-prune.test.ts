// The archive catalog (listArchive / verifyArchive), restoreWal and pruneArchive over fs-memory and the
// in-memory object store: restore round-trips, restore at a snapshot takes only what it needs and resumes,
// tampering / gaps / chain breaks are typed errors, prune keeps what a restore still needs.
import { describe, expect, it } from 'vitest';
import { EntryType, Wal, crc32cUpdate, type Entry, type FileSystem } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import {
  ArchiveChainBreakError,
  ArchiveCorruptionError,
  ArchivePruneRefusedError,
  ArchiveSequenceGapError,
  ArchiveSnapshotNotCoveredError,
  ArchiveUnreachableError,
  MemoryObjectStore,
  RestoreTargetConflictError,
  S3ArchiveFileSystem,
  archiveSegments,
  crc32cBase64,
  listArchive,
  pruneArchive,
  restoreWal,
  verifyArchive,
  type ObjectStore,
} from '../src/index.js';

const DIR = '/data/wal';
const PREFIX = 'node-1/wal/';
const TARGET = '/restore/wal';

function entry(i: number): Entry {
  const data = new Uint8Array(700 + ((i * 37) % 900));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

/**
 * A WAL of 120 entries in ~16 KiB segments, snapshots every 20 entries, archived with `max: 2` under
 * {@link PREFIX}; returns the live disk, the store and the archived names.
 */
async function archivedWal(): Promise<{ mem: MemoryFileSystem; store: MemoryObjectStore; archived: string[] }> {
  const mem = new MemoryFileSystem({ seed: 7 });
  await mem.mkdir('/data', { recursive: true });
  await mem.syncDir('/');
  const store = new MemoryObjectStore();
  const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'node-1/', root: '/data' });
  const wal = await Wal.create(fs, DIR, new TextEncoder().encode('meta'), { segmentSizeBytes: 16 * 1024 });
  for (let i = 1; i <= 120; i++) {
    await wal.save({ term: 1n, vote: 2n, commit: BigInt(i) }, [entry(i)]);
    if (i % 20 === 0) await wal.saveSnapshot({ index: BigInt(i), term: 1n });
  }
  await wal.releaseLockTo(100n);
  const { archived } = await archiveSegments(fs, DIR, { max: 2 });
  await wal.close();
  expect(archived.length).toBeGreaterThan(5);
  return { mem, store, archived };
}

async function readAt(fs: FileSystem, dir: string, snap = { index: 0n, term: 0n }) {
  const w = await Wal.openForRead(fs, dir, snap);
  try {
    return await w.readAll();
  } finally {
    await w.close();
  }
}

const indexes = (es: readonly Entry[]) => es.map((e) => Number(e.index));
const firstIndexOf = (name: string) => BigInt(`0x${name.slice(17, 33)}`);

/** Replaces an object's metadata (keeps its bytes). */
async function rewriteMetadata(store: MemoryObjectStore, key: string, change: (m: Record<string, string>) => Record<string, string>) {
  const info = (await store.head(key))!;
  const bytes = await store.get(key);
  await store.delete(key);
  await store.put(key, bytes, {
    metadata: change({ ...info.metadata }),
    crc32cBase64: crc32cBase64(crc32cUpdate(0, bytes)),
    ifNoneMatch: false,
  });
}

describe('listArchive / verifyArchive', () => {
  it('lists the archived segments in order with the facts of their metadata; a clean archive verifies, deep too', async () => {
    const { store, archived } = await archivedWal();
    const cat = await listArchive(store, PREFIX);
    expect(cat.segments.map((s) => s.name)).toEqual(archived);
    expect(cat.problems).toEqual([]);
    for (const [i, s] of cat.segments.entries()) {
      expect(s.key).toBe(PREFIX + s.name);
      expect(s.seq).toBe(BigInt(i));
      expect(s.firstIndex).toBe(firstIndexOf(s.name));
      expect(s.facts?.size).toBe(s.size);
      if (i > 0) expect(s.facts!.chainStart).toBe(cat.segments[i - 1]!.facts!.chainEnd);
    }
    const shallow = await verifyArchive(store, PREFIX);
    expect(shallow).toMatchObject({ ok: true, deep: false, checked: 0 });
    expect(store.log.some((l) => l.startsWith('get '))).toBe(false);
    const progress: number[] = [];
    const deep = await verifyArchive(store, PREFIX, { deep: true, onProgress: (p) => progress.push(p.done) });
    expect(deep).toMatchObject({ ok: true, deep: true, checked: archived.length });
    expect(deep.bytes).toBe(cat.segments.reduce((n, s) => n + s.size, 0));
    expect(progress).toEqual(archived.map((_, i) => i + 1));
  });

  it('a tampered object passes the metadata check but not the deep one (ARCHIVE_CORRUPT naming the key)', async () => {
    const { store, archived } = await archivedWal();
    const key = PREFIX + archived[2];
    store.tamper(key, (b) => {
      b[b.length - 50]! ^= 0x01;
      return b;
    });
    expect((await verifyArchive(store, PREFIX)).ok).toBe(true);
    const deep = await verifyArchive(store, PREFIX, { deep: true });
    expect(deep.ok).toBe(false);
    expect(deep.problems).toHaveLength(1);
    expect(deep.problems[0]).toBeInstanceOf(ArchiveCorruptionError);
    expect(deep.problems[0]).toMatchObject({ code: 'ARCHIVE_CORRUPT', key });
  });

  it('a truncated object is a size mismatch already without downloading it', async () => {
    const { store, archived } = await archivedWal();
    const key = PREFIX + archived[1];
    store.tamper(key, (b) => b.subarray(0, b.length - 8));
    const r = await verifyArchive(store, PREFIX);
    expect(r.problems.map((p) => [p.code, (p as ArchiveCorruptionError).key])).toEqual([['ARCHIVE_CORRUPT', key]]);
    expect(r.problems[0]!.message).toMatch(/listing says \d+ bytes/);
  });

  it('detects a sequence gap, a chain break and missing metadata', async () => {
    const { store, archived } = await archivedWal();
    await store.delete(PREFIX + archived[2]);
    await rewriteMetadata(store, PREFIX + archived[4], (m) => ({ ...m, 'walnut-chain-start': '12345678' }));
    await rewriteMetadata(store, PREFIX + archived[5], () => ({}));
    const r = await verifyArchive(store, PREFIX);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.constructor)).toEqual([ArchiveSequenceGapError, ArchiveChainBreakError, ArchiveCorruptionError]);
    expect(r.problems[0]).toMatchObject({ code: 'ARCHIVE_SEQUENCE_GAP', previous: archived[1], next: archived[3] });
    expect(r.problems[1]).toMatchObject({ code: 'ARCHIVE_CHAIN_BREAK', key: PREFIX + archived[4], found: 0x12345678 });
    expect(r.problems[2]!.message).toContain('walnut-format is missing');
    // Deep: the same, and the decoded bytes show it is the metadata of the chain break that lies.
    const deep = await verifyArchive(store, PREFIX, { deep: true });
    expect(deep.problems.map((p) => p.code)).toEqual(['ARCHIVE_SEQUENCE_GAP', 'ARCHIVE_CHAIN_BREAK', 'ARCHIVE_CORRUPT', 'ARCHIVE_CORRUPT']);
    expect(deep.problems[2]).toMatchObject({ key: PREFIX + archived[4] });
    expect(deep.problems[2]!.message).toMatch(/decoded chainStart \d+ differs from its metadata \(305419896\)/);
    expect(deep.checked).toBe(archived.length - 2);
  });

  it('ignores keys under the prefix that are not segments of the directory', async () => {
    const { store } = await archivedWal();
    const one = new Uint8Array(1);
    await store.put(`${PREFIX}notes.txt`, one, { metadata: {}, crc32cBase64: crc32cBase64(crc32cUpdate(0, one)), ifNoneMatch: false });
    await store.put(`${PREFIX}sub/0000000000000000-0000000000000000.wal`, one, {
      metadata: {},
      crc32cBase64: crc32cBase64(crc32cUpdate(0, one)),
      ifNoneMatch: false,
    });
    const cat = await listArchive(store, PREFIX);
    expect(cat.ignored).toEqual([`${PREFIX}notes.txt`, `${PREFIX}sub/0000000000000000-0000000000000000.wal`]);
    expect(cat.problems).toEqual([]);
    expect((await listArchive(store, 'empty/')).segments).toEqual([]);
  });
});

describe('restoreWal', () => {
  it('round-trips: archive + live segments restore to a WAL that reads exactly what the original reads', async () => {
    const { mem, store, archived } = await archivedWal();
    const original = await readAt(new S3ArchiveFileSystem(mem, store, { prefix: 'node-1/', root: '/data' }), DIR);
    expect(indexes(original.entries)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));

    const to = new MemoryFileSystem({ seed: 3 });
    const r = await restoreWal({ store, dirPrefix: PREFIX, liveFs: mem, liveDir: DIR, to: { fs: to, dir: TARGET } });
    expect(r.segments.filter((s) => s.source === 'archive').map((s) => s.name)).toEqual(archived);
    expect(r.segments.filter((s) => s.source === 'live')).toHaveLength(2);
    expect(r.segments.every((s) => s.action === 'downloaded' || s.action === 'copied')).toBe(true);
    expect(r.firstIndex).toBe(0n);
    const back = await readAt(to, TARGET);
    expect(back.entries).toEqual(original.entries);
    expect(back.hardState).toEqual(original.hardState);
    expect(back.metadata).toEqual(original.metadata);
    expect((await to.readdir(TARGET)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    // Archive only: the released part of the WAL, entries a prefix of the original.
    const to2 = new MemoryFileSystem({ seed: 4 });
    await restoreWal({ store, dirPrefix: PREFIX, to: { fs: to2, dir: TARGET } });
    const part = await readAt(to2, TARGET);
    expect(part.entries.length).toBeGreaterThan(40);
    expect(part.entries).toEqual(original.entries.slice(0, part.entries.length));
  });

  it('at a snapshot downloads only the last segment starting at or below it and the later ones', async () => {
    const { mem, store, archived } = await archivedWal();
    const snap = { index: 60n, term: 1n };
    const keeper = [...archived].reverse().find((n) => firstIndexOf(n) <= 60n)!;
    const needed = archived.slice(archived.indexOf(keeper));
    expect(needed.length).toBeLessThan(archived.length);
    store.log.length = 0;
    const to = new MemoryFileSystem();
    const r = await restoreWal({ store, dirPrefix: PREFIX, liveFs: mem, liveDir: DIR, to: { fs: to, dir: TARGET }, snapshot: snap });
    expect(store.log.filter((l) => l.startsWith('get ')).map((l) => l.slice(4 + PREFIX.length))).toEqual(needed);
    expect(r.segments.map((s) => s.name).slice(0, needed.length)).toEqual(needed);
    expect(r.firstIndex).toBe(firstIndexOf(keeper));
    const back = await readAt(to, TARGET, snap);
    expect(indexes(back.entries)).toEqual(Array.from({ length: 60 }, (_, i) => i + 61));
  });

  it('resumes after an interrupted restore: complete segments are kept, a stale .tmp is overwritten', async () => {
    const { mem, store, archived } = await archivedWal();
    let gets = 0;
    const flaky: ObjectStore = {
      location: store.location,
      put: (k, b, o) => store.put(k, b, o),
      get: async (k, r) => {
        if (++gets > 3) throw new ArchiveUnreachableError(store.location, 'connection reset (test)');
        return store.get(k, r);
      },
      head: (k) => store.head(k),
      list: (p) => store.list(p),
      delete: (k) => store.delete(k),
    };
    const to = new MemoryFileSystem();
    const opts = { dirPrefix: PREFIX, liveFs: mem, liveDir: DIR, to: { fs: to, dir: TARGET } };
    await expect(restoreWal({ ...opts, store: flaky })).rejects.toBeInstanceOf(ArchiveUnreachableError);
    expect((await to.readdir(TARGET)).sort()).toEqual(archived.slice(0, 3));
    // As if a crash happened in the middle of writing the next one.
    const stale = await to.open(`${TARGET}/${archived[3]}.tmp`, 'createTruncate');
    await stale.write(new Uint8Array([1, 2, 3]), 0, 3, 0);
    await stale.close();

    store.log.length = 0;
    const r = await restoreWal({ ...opts, store });
    expect(r.segments.slice(0, 3).map((s) => s.action)).toEqual(['kept', 'kept', 'kept']);
    expect(r.segments.slice(3, archived.length).every((s) => s.action === 'downloaded')).toBe(true);
    expect(store.log.filter((l) => l.startsWith('get ')).map((l) => l.slice(4 + PREFIX.length))).toEqual(archived.slice(3));
    expect(r.downloadedBytes).toBe(r.segments.slice(3, archived.length).reduce((n, s) => n + s.size, 0));
    expect((await to.readdir(TARGET)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await readAt(to, TARGET)).entries).toHaveLength(120);
    // Once more: everything is in place, nothing is downloaded.
    store.log.length = 0;
    const again = await restoreWal({ ...opts, store });
    expect(again.segments.every((s) => s.action === 'kept')).toBe(true);
    expect(store.log.filter((l) => l.startsWith('get '))).toEqual([]);
  });

  it('refuses a tampered object (ARCHIVE_CORRUPT) before writing it', async () => {
    const { store, archived } = await archivedWal();
    store.tamper(PREFIX + archived[3], (b) => {
      b[200]! ^= 0x40;
      return b;
    });
    const to = new MemoryFileSystem();
    const err = await restoreWal({ store, dirPrefix: PREFIX, to: { fs: to, dir: TARGET } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveCorruptionError);
    expect((err as ArchiveCorruptionError).key).toBe(PREFIX + archived[3]);
    expect((await to.readdir(TARGET)).sort()).toEqual(archived.slice(0, 3));
  });

  it('refuses a missing segment (ARCHIVE_SEQUENCE_GAP) before downloading anything, and a snapshot no segment covers', async () => {
    const { store, archived } = await archivedWal();
    await store.delete(PREFIX + archived[4]);
    store.log.length = 0;
    const to = new MemoryFileSystem();
    const err = await restoreWal({ store, dirPrefix: PREFIX, to: { fs: to, dir: TARGET } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveSequenceGapError);
    expect(err).toMatchObject({ previous: archived[3], next: archived[5] });
    expect(store.log.filter((l) => l.startsWith('get '))).toEqual([]);
    // A snapshot after the gap does not need what is missing.
    const snap = { index: firstIndexOf(archived[5]!), term: 1n };
    await restoreWal({ store, dirPrefix: PREFIX, to: { fs: to, dir: TARGET }, snapshot: snap });
    // Nothing starts at or below index 0 once the first segment is gone.
    await store.delete(PREFIX + archived[0]);
    await expect(
      restoreWal({ store, dirPrefix: PREFIX, to: { fs: new MemoryFileSystem(), dir: TARGET }, snapshot: { index: 0n, term: 0n } }),
    ).rejects.toBeInstanceOf(ArchiveSnapshotNotCoveredError);
    await expect(restoreWal({ store, dirPrefix: 'nothing/', to: { fs: new MemoryFileSystem(), dir: TARGET } })).rejects.toMatchObject({
      code: 'ARCHIVE_SNAPSHOT_NOT_COVERED',
    });
  });

  it('refuses a chain break between archived segments from the metadata, before downloading', async () => {
    const { store, archived } = await archivedWal();
    await rewriteMetadata(store, PREFIX + archived[2], (m) => ({ ...m, 'walnut-chain-end': 'deadbeef' }));
    store.log.length = 0;
    const err = await restoreWal({ store, dirPrefix: PREFIX, to: { fs: new MemoryFileSystem(), dir: TARGET } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveChainBreakError);
    expect(err).toMatchObject({ previousKey: PREFIX + archived[2], key: PREFIX + archived[3], expected: 0xdeadbeef });
    expect(store.log.filter((l) => l.startsWith('get '))).toEqual([]);
  });

  it('never overwrites a segment of other contents or restores next to another WAL in the target', async () => {
    const { store, archived } = await archivedWal();
    const to = new MemoryFileSystem();
    await to.mkdir(TARGET, { recursive: true });
    const f = await to.open(`${TARGET}/${archived[1]}`, 'createTruncate');
    await f.write(new Uint8Array(64), 0, 64, 0);
    await f.close();
    const err = await restoreWal({ store, dirPrefix: PREFIX, to: { fs: to, dir: TARGET } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreTargetConflictError);
    expect((await to.stat(`${TARGET}/${archived[1]}`)).size).toBe(64);

    const to2 = new MemoryFileSystem();
    await to2.mkdir(TARGET, { recursive: true });
    await (await to2.open(`${TARGET}/00000000000000ff-0000000000010000.wal`, 'createTruncate')).close();
    await expect(restoreWal({ store, dirPrefix: PREFIX, to: { fs: to2, dir: TARGET } })).rejects.toMatchObject({
      code: 'ARCHIVE_RESTORE_CONFLICT',
    });
  });
});

describe('pruneArchive', () => {
  it('dry run lists what would go; --yes deletes oldest first and a restore at `before` still works', async () => {
    const { mem, store, archived } = await archivedWal();
    const before = 60n;
    const keeperAt = archived.map((n) => firstIndexOf(n) <= before).lastIndexOf(true);
    expect(keeperAt).toBeGreaterThan(0);

    const dry = await pruneArchive({ store, dirPrefix: PREFIX, before, yes: false });
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.map((s) => s.name)).toEqual(archived.slice(0, keeperAt));
    expect(dry.keeper?.name).toBe(archived[keeperAt]);
    expect(dry.remaining).toBe(archived.length - keeperAt);
    for (const i of dry.removed.keys()) expect(firstIndexOf(archived[i + 1]!)).toBeLessThanOrEqual(before);
    expect(store.keys()).toEqual(archived.map((n) => PREFIX + n));

    store.log.length = 0;
    const done = await pruneArchive({ store, dirPrefix: PREFIX, before, yes: true });
    expect(done.removed.map((s) => s.name)).toEqual(dry.removed.map((s) => s.name));
    expect(store.log.filter((l) => l.startsWith('delete ')).map((l) => l.slice(7))).toEqual(dry.removed.map((s) => s.key));
    expect(store.keys()).toEqual(archived.slice(keeperAt).map((n) => PREFIX + n));

    const to = new MemoryFileSystem();
    await restoreWal({
      store,
      dirPrefix: PREFIX,
      liveFs: mem,
      liveDir: DIR,
      to: { fs: to, dir: TARGET },
      snapshot: { index: 60n, term: 1n },
    });
    expect(indexes((await readAt(to, TARGET, { index: 60n, term: 1n })).entries)).toEqual(Array.from({ length: 60 }, (_, i) => i + 61));
    await expect(
      restoreWal({ store, dirPrefix: PREFIX, to: { fs: new MemoryFileSystem(), dir: TARGET }, snapshot: { index: 20n, term: 1n } }),
    ).rejects.toBeInstanceOf(ArchiveSnapshotNotCoveredError);

    // Idempotent; an index below the second segment's first index removes nothing; the last archived segment always stays.
    expect((await pruneArchive({ store, dirPrefix: PREFIX, before, yes: true })).removed).toEqual([]);
    // Beyond every archived snapshot: nothing restorable would remain, so it is refused (dry run too).
    for (const yes of [false, true]) {
      await expect(pruneArchive({ store, dirPrefix: PREFIX, before: (1n << 64n) - 1n, yes })).rejects.toThrow(
        /no snapshot record at or after index 18446744073709551615 is archived/,
      );
    }
    expect(store.keys().length).toBe(archived.length - keeperAt);
  });

  it('refuses, deleting nothing, when the archive is inconsistent up to the segment a restore at `before` needs', async () => {
    const { store, archived } = await archivedWal();
    await store.delete(PREFIX + archived[2]);
    const keys = store.keys();
    const before = firstIndexOf(archived[5]!);
    for (const yes of [false, true]) {
      const err = await pruneArchive({ store, dirPrefix: PREFIX, before, yes }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArchivePruneRefusedError);
      expect((err as ArchivePruneRefusedError).problems[0]).toBeInstanceOf(ArchiveSequenceGapError);
      expect((err as Error).message).toMatch(/nothing was deleted/);
    }
    expect(store.keys()).toEqual(keys);
    // Before the gap it is consistent: pruning there is fine.
    const ok = await pruneArchive({ store, dirPrefix: PREFIX, before: firstIndexOf(archived[1]!), yes: true });
    expect(ok.removed.map((s) => s.name)).toEqual([archived[0]]);
    await expect(pruneArchive({ store, dirPrefix: PREFIX, before: -1n, yes: false })).rejects.toMatchObject({
      code: 'WAL_INVALID_ARGUMENT',
    });
  });
});
