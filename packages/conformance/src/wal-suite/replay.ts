/**
 * `wal.replay()`, the streaming form of readAll: for the golden datasets and seeded workloads it must
 * yield exactly what readAll returns once raft's overwrite rule is applied, fail the same way, and leave
 * a write-mode WAL appendable.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal, joinPath, type Entry, type FileSystem, type HardState, type SnapshotPosition } from '@walnut/wal-core';
import { SeededRandom, copyIntoFs, goldenDatasets, goldenDir, type WalSuiteFactory } from './support.js';
import { readFileSync } from 'node:fs';

async function viaReplay(fs: FileSystem, dir: string, snap: SnapshotPosition, write: boolean) {
  const wal = write ? await Wal.open(fs, dir, snap) : await Wal.openForRead(fs, dir, snap);
  const entries: Entry[] = [];
  let states = 0;
  try {
    const it = wal.replay();
    for (;;) {
      const r = await it.next();
      if (r.done) return { wal, result: { metadata: r.value.metadata, hardState: r.value.hardState, entries }, states };
      const item = r.value;
      if (item.kind === 'entry') {
        entries.length = Number(item.entry.index - snap.index - 1n);
        entries.push(item.entry);
      } else if (item.kind === 'hardState') states++;
    }
  } catch (e) {
    await wal.close();
    throw e;
  }
}

async function viaReadAll(fs: FileSystem, dir: string, snap: SnapshotPosition) {
  const wal = await Wal.openForRead(fs, dir, snap);
  try {
    return await wal.readAll();
  } finally {
    await wal.close();
  }
}

const outcome = async <T>(p: Promise<T>): Promise<{ ok: T } | { code: string }> => {
  try {
    return { ok: await p };
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e) };
  }
};

export function replayTests(factory: WalSuiteFactory): void {
  describe('replay (streaming readAll)', () => {
    const withFixture = (body: (fs: FileSystem, root: string) => Promise<void>) => async () => {
      const fx = await factory.create();
      try {
        await body(fx.fs, fx.dir);
      } finally {
        await fx.cleanup();
      }
    };

    it(
      'yields what readAll returns for every golden dataset, at every snapshot, and fails the same way',
      withFixture(async (fs, root) => {
        for (const name of goldenDatasets()) {
          const dir = joinPath(root, name);
          await copyIntoFs(fs, join(goldenDir(), name, 'wal'), dir);
          const expected = JSON.parse(readFileSync(join(goldenDir(), name, 'expected.json'), 'utf8'));
          const snaps = [expected.snap, ...(expected.alsoAt ?? []).map((a: { snap: unknown }) => a.snap)] as {
            index: number;
            term: number;
          }[];
          for (const s of snaps) {
            const snap = { index: BigInt(s.index), term: BigInt(s.term) };
            const a = await outcome(viaReadAll(fs, dir, snap));
            const b = await outcome(
              viaReplay(fs, dir, snap, false).then(async ({ wal, result }) => {
                await wal.close();
                return result;
              }),
            );
            expect(b, `${name} at ${s.index}:${s.term}`).toEqual(a);
          }
        }
      }),
    );

    it(
      'a write-mode WAL accepts appends once the stream is consumed, and the result reads back',
      withFixture(async (fs, root) => {
        const dir = joinPath(root, 'wal');
        const rnd = new SeededRandom(99);
        const wal = await Wal.create(fs, dir, new Uint8Array([1, 2, 3]), { segmentSizeBytes: 8192 });
        let index = 0n;
        let hs: HardState = { term: 1n, vote: 1n, commit: 0n };
        for (let i = 0; i < 60; i++) {
          const n = 1 + rnd.int(4);
          const ents: Entry[] = [];
          // Every 15 saves a new term overwrites the last two entries.
          if (i % 15 === 14 && index > 2n) {
            index -= 2n;
            hs = { term: hs.term + 1n, vote: 1n, commit: hs.commit };
          }
          for (let k = 0; k < n; k++) ents.push({ index: ++index, term: hs.term, type: 0, data: rnd.bytes(rnd.int(700)) });
          hs = { ...hs, commit: index - 1n };
          await wal.save(hs, ents);
        }
        await wal.close();
        const expected = await viaReadAll(fs, dir, { index: 0n, term: 0n });
        const { wal: w, result, states } = await viaReplay(fs, dir, { index: 0n, term: 0n }, true);
        expect(result).toEqual(expected);
        expect(states).toBeGreaterThan(0);
        await w.save({ ...hs, commit: index }, [{ index: index + 1n, term: hs.term, type: 0, data: new Uint8Array([9]) }]);
        await w.close();
        const after = await viaReadAll(fs, dir, { index: 0n, term: 0n });
        expect(after.entries.length).toBe(expected.entries.length + 1);
        expect(after.hardState.commit).toBe(index);
      }),
    );

    it(
      'replay can be taken only once, like readAll',
      withFixture(async (fs, root) => {
        const dir = joinPath(root, 'wal');
        await (await Wal.create(fs, dir, undefined)).close();
        const wal = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
        for await (const item of wal.replay()) void item;
        await expect(wal.readAll()).rejects.toMatchObject({ code: 'WAL_DECODER_NOT_FOUND' });
        await wal.close();
      }),
    );
  });
}
