/**
 * Segment order with names etcd's lenient parser accepts (`1-5.wal`): walnut orders segments by sequence
 * number (for canonical names this is etcd's byte order), so a WAL whose tail has such a name can be
 * appended to, cut, and reopened. Byte order would put the canonically named new segment before the
 * lenient tail and the next open would fail with a sequence gap.
 */
import { describe, expect, it } from 'vitest';
import { Wal, joinPath, type Entry } from '@walnut/wal-core';
import { readFile, writeFile, type WalSuiteFactory } from './support.js';

export function segmentOrderTests(factory: WalSuiteFactory): void {
  describe('segment order', () => {
    it('a lenient tail name (etcd accepts 1-5.wal) survives a cut and a reopen', async () => {
      const { fs, dir: root, cleanup } = await factory.create();
      try {
        const dir = joinPath(root, 'wal');
        const opts = { segmentSizeBytes: 4096 };
        const w = await Wal.create(fs, dir, new Uint8Array([7]), opts);
        const entry = (i: bigint): Entry => ({ index: i, term: 1n, type: 0, data: new Uint8Array(300).fill(Number(i)) });
        for (let i = 1n; i <= 40n; i++) await w.save({ term: 1n, vote: 1n, commit: i }, [entry(i)]);
        await w.close();
        const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
        expect(names.length).toBeGreaterThan(2);
        // Rename the tail to the short form etcd's Sscanf("%016x-%016x.wal") also accepts.
        const tail = names[names.length - 1]!;
        const short = `${BigInt('0x' + tail.slice(0, 16)).toString(16)}-${BigInt('0x' + tail.slice(17, 33)).toString(16)}.wal`;
        await writeFile(fs, joinPath(dir, short), await readFile(fs, joinPath(dir, tail)));
        await fs.remove(joinPath(dir, tail));
        const again = await Wal.open(fs, dir, { index: 0n, term: 0n }, opts);
        expect((await again.readAll()).entries).toHaveLength(40);
        for (let i = 41n; i <= 80n; i++) await again.save({ term: 1n, vote: 1n, commit: i }, [entry(i)]);
        await again.close();
        const third = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
        const { entries } = await third.readAll();
        await third.close();
        expect(entries.map((e) => e.index)).toEqual(Array.from({ length: 80 }, (_, i) => BigInt(i + 1)));
      } finally {
        await cleanup();
      }
    });
  });
}
