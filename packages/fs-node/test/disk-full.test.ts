// Disk full, on a small file system of the test's own (a loop-mounted ext4 image, else a tmpfs with a
// size limit; set up and torn down here, skipped with the printed reason where mounting is impossible).
//
// With zero-fill preallocation (the default), segments are reserved when they are prepared, so a full
// disk shows up as a typed ENOSPC when a segment is created (Wal.create, or the background pipeline,
// reported by the cut that needs the segment), never in the middle of an append into a segment; every
// acknowledged entry survives; and once space is freed the WAL, reopened, works again.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntryType, FileSystemError, Wal, WalPoisonedError } from '@walnut/wal-core';
import type { Entry } from '@walnut/wal-core';
import { NodeFileSystem } from '../src/index.js';
import { freeBytes, mountSmallFs, type SmallFs } from './small-fs.js';

const MiB = 2 ** 20;
/** Small segments keep the test quick; the mechanism does not depend on the size. */
const SEGMENT = 2_000_000;
const DATA_BYTES = 4000;
const fs = new NodeFileSystem();
const options = { segmentSizeBytes: SEGMENT };
const metadata = new TextEncoder().encode('disk-full');

let small: SmallFs | undefined;
let skipReason: string | undefined;

beforeAll(async () => {
  const r = await mountSmallFs(32 * MiB);
  small = r.fs;
  skipReason = r.skipReason;
  if (skipReason) console.warn(`disk-full tests skipped: ${skipReason}`);
  else console.log(`disk-full tests on ${small!.kind} at ${small!.dir}`);
});

afterAll(async () => {
  await small?.unmount();
});

function entry(i: number): Entry {
  const data = new Uint8Array(DATA_BYTES);
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k * 7) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

/** Writes a filler file (real blocks, synced) until at most `leave` bytes are free; returns its path. */
async function fillDisk(dir: string, leave: number): Promise<string> {
  const path = join(dir, 'filler');
  const h = await fs.open(path, 'create');
  const buf = new Uint8Array(MiB).fill(0xee);
  let pos = (await h.size()) | 0;
  try {
    for (let free = await freeBytes(dir); free > leave; free = await freeBytes(dir)) {
      pos += await h.write(buf, 0, Math.min(buf.length, free - leave), pos);
      await h.datasync();
    }
  } finally {
    await h.close();
  }
  return path;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function expectEntries(got: readonly Entry[], want: readonly Entry[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((e, i) => {
    expect(e.index).toBe(want[i]!.index);
    expect(e.term).toBe(want[i]!.term);
    expect(Buffer.from(e.data ?? new Uint8Array()).equals(Buffer.from(want[i]!.data ?? new Uint8Array()))).toBe(true);
  });
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('disk full (zero-fill preallocation)', () => {
  it('Wal.create on a full disk fails with a typed ENOSPC naming the first segment, leaves nothing behind, and works once space is freed', async (ctx) => {
    if (!small) return ctx.skip(skipReason);
    const base = join(small.dir, 'create');
    await fs.mkdir(base);
    const dir = join(base, 'wal');
    const filler = await fillDisk(small.dir, SEGMENT / 2);
    try {
      const e = await rejection(Wal.create(fs, dir, metadata, options));
      expect(e).toBeInstanceOf(FileSystemError);
      expect((e as FileSystemError).code).toBe('ENOSPC');
      expect((e as FileSystemError).path).toBe(join(`${dir}.tmp`, '0000000000000000-0000000000000000.wal'));
      // No half-made WAL, and the reservation that failed was given back.
      expect(await fs.readdir(base)).toEqual([]);
      expect(await freeBytes(small.dir)).toBeGreaterThan(SEGMENT / 4);
    } finally {
      await rm(filler);
    }
    const w = await Wal.create(fs, dir, metadata, options);
    await w.save({ term: 1n, vote: 1n, commit: 1n }, [entry(1)]);
    await w.close();
    const r = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
    expectEntries((await r.readAll()).entries, [entry(1)]);
    await r.close();
    await rm(base, { recursive: true });
  });

  it('appending: ENOSPC appears when the next segment is prepared (not mid-append), every acknowledged entry survives, and the WAL works again once space is freed', async (ctx) => {
    if (!small) return ctx.skip(skipReason);
    const dir = join(small.dir, 'append', 'wal');
    await fs.mkdir(join(small.dir, 'append'));
    const w = await Wal.create(fs, dir, metadata, options);
    // The pipeline's first temp segment is reserved in the background; let it finish, then fill the
    // disk to half a segment: segment 1 (0.tmp) is there, the one after cannot be had.
    await waitFor(async () => (await fs.stat(join(dir, '0.tmp')).catch(() => undefined))?.size === SEGMENT, '0.tmp to be preallocated');
    const filler = await fillDisk(small.dir, SEGMENT / 2);

    const acked: Entry[] = [];
    let failure: unknown;
    const maxSaves = Math.ceil((4 * SEGMENT) / DATA_BYTES);
    for (let i = 1; i <= maxSaves; i++) {
      const e = entry(i);
      try {
        await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [e]);
      } catch (err) {
        failure = err;
        break;
      }
      acked.push(e);
    }
    // The failure is the typed ENOSPC of preparing the segment after 0.tmp, reported by the cut that needs it.
    expect(failure).toBeInstanceOf(FileSystemError);
    const enospc = failure as FileSystemError;
    expect(enospc.code).toBe('ENOSPC');
    expect(enospc.path).toMatch(/[/][01]\.tmp$/);
    expect(enospc.syscall).toBe('fallocate');
    // Every save into segments 0 and 1 succeeded: no ENOSPC in the middle of appends.
    expect(acked.length).toBeGreaterThan((2 * SEGMENT) / (DATA_BYTES + 100) - 10);
    // The failed preparation gave back what it had reserved.
    expect(await freeBytes(small.dir)).toBeGreaterThan(SEGMENT / 4);
    // The WAL refuses further writes until reopened.
    const again = await rejection(w.save({ term: 1n, vote: 1n, commit: 1n }, [entry(acked.length + 2)]));
    expect(again).toBeInstanceOf(WalPoisonedError);
    expect((again as WalPoisonedError).cause).toBe(failure);
    await w.close();

    // Still full: everything acknowledged reads back (the failed save's entry may be there too: its
    // bytes were synced before the cut failed; it was never acknowledged).
    const r = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
    const full = await r.readAll();
    await r.close();
    expect([acked.length, acked.length + 1]).toContain(full.entries.length);
    expectEntries(full.entries.slice(0, acked.length), acked);

    // Space freed: reopened for writing, the WAL appends again across several new segments.
    await rm(filler);
    const w2 = await Wal.open(fs, dir, { index: 0n, term: 0n }, options);
    const { entries } = await w2.readAll();
    expectEntries(entries.slice(0, acked.length), acked);
    const all = [...entries];
    let next = entries.length + 1;
    const target = next + Math.ceil((2.5 * SEGMENT) / DATA_BYTES);
    while (next < target) {
      const batch = Array.from({ length: 10 }, (_, k) => entry(next + k));
      await w2.save({ term: 1n, vote: 1n, commit: BigInt(next + 9) }, batch);
      all.push(...batch);
      next += 10;
    }
    await w2.close();
    const segments = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(segments.length).toBeGreaterThanOrEqual(4);
    const r2 = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
    expectEntries((await r2.readAll()).entries, all);
    await r2.close();
  });
});

describe("disk full with preallocation 'extend' (ftruncate, etcd's fallback): the contrast", () => {
  it('ENOSPC appears in the middle of appends, still typed; acknowledged entries survive (after a repair if the tail is torn)', async (ctx) => {
    if (!small) return ctx.skip(skipReason);
    const extendFs = new NodeFileSystem({ preallocation: 'extend' });
    const dir = join(small.dir, 'extend', 'wal');
    await extendFs.mkdir(join(small.dir, 'extend'));
    const w = await Wal.create(extendFs, dir, metadata, options);
    await waitFor(async () => (await extendFs.stat(join(dir, '0.tmp')).catch(() => undefined))?.size === SEGMENT, '0.tmp to be extended');
    const filler = await fillDisk(small.dir, SEGMENT / 2);

    const acked: Entry[] = [];
    let failure: unknown;
    for (let i = 1; i <= Math.ceil((4 * SEGMENT) / DATA_BYTES); i++) {
      try {
        await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
      } catch (err) {
        failure = err;
        break;
      }
      acked.push(entry(i));
    }
    // The holes of the first segment are filled by appends until the disk runs out: a write (or the
    // fdatasync after it) fails inside segment 0, long before a new segment is needed. (The handle of
    // the first segment still carries the path it was created under, `<dir>.tmp/...`.)
    expect(failure).toBeInstanceOf(FileSystemError);
    expect((failure as FileSystemError).code).toBe('ENOSPC');
    expect((failure as FileSystemError).path).toMatch(/0000000000000000-0000000000000000\.wal$/);
    expect(acked.length).toBeLessThan(SEGMENT / DATA_BYTES);
    await w.close().catch(() => undefined);
    await rm(filler);

    // etcd's bootstrap: open, readAll; on an unexpected EOF (a torn tail), close, repair once, retry.
    let w2 = await Wal.open(extendFs, dir, { index: 0n, term: 0n }, options);
    let entries: readonly Entry[];
    try {
      entries = (await w2.readAll()).entries;
    } catch (e) {
      // Typically: the write that hit ENOSPC left part of a record (a torn tail).
      expect((e as { code?: string }).code).toBe('WAL_UNEXPECTED_EOF');
      await w2.close();
      expect(await Wal.repair(extendFs, dir, options)).toBe(true);
      w2 = await Wal.open(extendFs, dir, { index: 0n, term: 0n }, options);
      entries = (await w2.readAll()).entries;
    }
    expect([acked.length, acked.length + 1]).toContain(entries.length);
    expectEntries(entries.slice(0, acked.length), acked);
    const more = entry(entries.length + 1);
    await w2.save({ term: 1n, vote: 1n, commit: more.index }, [more]);
    await w2.close();
    const r = await Wal.openForRead(extendFs, dir, { index: 0n, term: 0n });
    expectEntries((await r.readAll()).entries, [...entries, more]);
    await r.close();
  });
});

describe('disk full with noFsync (segments extended, not zero-filled: allocate { synced: false })', () => {
  it('ENOSPC appears in an append, typed; the WAL then refuses writes; reopened, it reads back what was acknowledged', async (ctx) => {
    if (!small) return ctx.skip(skipReason);
    const dir = join(small.dir, 'nofsync', 'wal');
    await fs.mkdir(join(small.dir, 'nofsync'));
    const noFsync = { ...options, noFsync: true };
    const w = await Wal.create(fs, dir, metadata, noFsync);
    const filler = await fillDisk(small.dir, SEGMENT / 2);
    const acked: Entry[] = [];
    let failure: unknown;
    for (let i = 1; i <= Math.ceil((4 * SEGMENT) / DATA_BYTES); i++) {
      try {
        await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
      } catch (err) {
        failure = err;
        break;
      }
      acked.push(entry(i));
    }
    // Nothing was reserved, so the disk runs out inside an append (a write into the extended segment, or
    // the one a cut needs), not when a segment is prepared.
    expect(failure).toBeInstanceOf(FileSystemError);
    expect((failure as FileSystemError).code).toBe('ENOSPC');
    expect(acked.length).toBeGreaterThan(0);
    await expect(w.save({ term: 1n, vote: 1n, commit: 1n }, [entry(acked.length + 1)])).rejects.toBeInstanceOf(WalPoisonedError);
    await w.close().catch(() => undefined);
    await rm(filler);

    let w2 = await Wal.open(fs, dir, { index: 0n, term: 0n }, noFsync);
    let entries: readonly Entry[];
    try {
      entries = (await w2.readAll()).entries;
    } catch (e) {
      expect((e as { code?: string }).code).toBe('WAL_UNEXPECTED_EOF');
      await w2.close();
      expect(await Wal.repair(fs, dir, noFsync)).toBe(true);
      w2 = await Wal.open(fs, dir, { index: 0n, term: 0n }, noFsync);
      entries = (await w2.readAll()).entries;
    }
    expect([acked.length, acked.length + 1]).toContain(entries.length);
    expectEntries(entries.slice(0, acked.length), acked);
    await w2.close();
  });
});
