/**
 * The checker can fail: a planted bug (a disk that silently drops one write a later datasync "makes durable")
 * must be caught; so must untyped errors and oversized reads. And the model's pieces do what etcd does.
 */
import { describe, expect, it } from 'vitest';
import { FileSystemError, Wal } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { checkReadAll, checkTyped, SimFailure } from '../src/checker.js';
import { FIRST_SEGMENT, parseSegment, replayEtcd, type TypedSegment } from '../src/model.js';
import { runSeed } from '../src/runner.js';
import { SimFileSystem, SimViolation } from '../src/sim-fs.js';

describe('the checker catches a planted bug', () => {
  it('a dropped synced write fails almost every seed, and only with the planted bug', async () => {
    let caught = 0;
    for (let s = 0n; s < 20n; s++) {
      const planted = await runSeed(s, { plant: 'drop-synced-write' });
      if (!planted.ok) {
        caught++;
        expect(planted.failure).toMatch(/acknowledged records lost|is not the next record of the stream/);
        expect(planted.trace.join('\n')).toMatch(/PLANTED BUG/);
      }
      const clean = await runSeed(s);
      expect(clean.ok, clean.failure).toBe(true);
    }
    expect(caught).toBeGreaterThanOrEqual(18);
  });
});

describe('checks', () => {
  it('an untyped error is a failure; a typed one is returned', () => {
    expect(() => checkTyped('op', new TypeError('x is undefined'))).toThrow(SimFailure);
    expect(() => checkTyped('op', 'a string')).toThrow(/untyped error/);
    expect(() => checkTyped('op', new SimViolation('read of 1 GiB'))).toThrow(/read of 1 GiB/);
    const e = new FileSystemError('EIO', 'write', '/x');
    expect(checkTyped('op', e)).toBe(e);
  });

  it('a read larger than the file is a violation', async () => {
    const mem = new MemoryFileSystem();
    const h0 = await mem.open('/f', 'createExclusive');
    await h0.write(new Uint8Array(100), 0, 100, 0);
    await h0.close();
    const fs = new SimFileSystem(mem);
    const h = await fs.open('/f', 'read');
    await expect(h.read(new Uint8Array(4096), 0, 4096, 0)).rejects.toThrow(SimViolation);
    await h.close();
    expect(fs.violations).toHaveLength(1);
    expect(fs.handles.size).toBe(0);
  });

  it('a crash at operation N: the post-crash disk is taken there, and every later operation fails', async () => {
    const mem = new MemoryFileSystem();
    let taken: MemoryFileSystem | undefined;
    const fs = new SimFileSystem(mem, { onCrash: () => (taken = mem.crash({ mode: 'keep-all' })) });
    fs.crashAt = 3;
    await fs.mkdir('/a');
    await fs.mkdir('/b');
    await expect(fs.mkdir('/c')).rejects.toMatchObject({ code: 'EIO' });
    await expect(fs.mkdir('/d')).rejects.toMatchObject({ code: 'EIO' });
    expect((await taken!.readdir('/')).sort()).toEqual(['a', 'b']);
  });

  it('readAll results are compared entry by entry, absent data apart from empty data', () => {
    const e = { index: 1n, term: 1n, type: 0 };
    const hs = { term: 1n, vote: 0n, commit: 0n };
    expect(() => checkReadAll('x', { ok: true, hardState: hs, entries: [e] }, { ok: true, hardState: hs, entries: [e] })).not.toThrow();
    expect(() =>
      checkReadAll(
        'x',
        { ok: true, hardState: hs, entries: [e] },
        { ok: true, hardState: hs, entries: [{ ...e, data: new Uint8Array(0) }] },
      ),
    ).toThrow(/entry \[0\]/);
  });
});

describe('the model', () => {
  const seg = (name: string, records: TypedSegment['records']): TypedSegment => ({ name, seq: 0n, index: 0n, records });
  const ent = (index: bigint, term: bigint) => ({ kind: 'entry' as const, entry: { index, term, type: 0 } });

  it("applies raft's overwrite rule", () => {
    const r = replayEtcd(
      [seg(FIRST_SEGMENT, [{ kind: 'snap', snap: { index: 0n, term: 0n } }, ent(1n, 1n), ent(2n, 1n), ent(3n, 1n), ent(2n, 2n)])],
      {
        index: 0n,
        term: 0n,
      },
    );
    expect(r.ok && r.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2']);
  });

  it('ignores an overwrite at or below the start snapshot, truncation included (etcd issue 22442)', () => {
    const r = replayEtcd(
      [
        seg(FIRST_SEGMENT, [
          { kind: 'snap', snap: { index: 0n, term: 0n } },
          ent(1n, 1n),
          ent(2n, 1n),
          ent(3n, 1n),
          { kind: 'snap', snap: { index: 2n, term: 1n } },
          ent(2n, 2n),
        ]),
      ],
      { index: 2n, term: 1n },
    );
    expect(r.ok && r.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['3/1']);
  });

  it("parses walnut's own segments", async () => {
    const mem = new MemoryFileSystem();
    await mem.mkdir('/d');
    const w = await Wal.create(mem, '/d/wal', new Uint8Array([1, 2]), { segmentSizeBytes: 1 << 16 });
    await w.save({ term: 1n, vote: 2n, commit: 0n }, [{ index: 1n, term: 1n, type: 0, data: new Uint8Array(513) }]);
    await w.close();
    const h = await mem.open(`/d/wal/${FIRST_SEGMENT}`, 'read');
    const buf = new Uint8Array((await mem.stat(`/d/wal/${FIRST_SEGMENT}`)).size);
    await h.read(buf, 0, buf.length, 0);
    await h.close();
    const p = parseSegment(FIRST_SEGMENT, buf);
    expect(p.frames.map((f) => f.type)).toEqual([4, 1, 5, 2, 3]);
    expect(p.stop).toEqual({ kind: 'clean' });
  });
});
