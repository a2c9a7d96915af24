import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDir } from '../src/reference-harness.js';
import { fill, SplitMix64 } from '../src/splitmix64.js';
import { generateWorkload, REAL_MEMBER_ID } from '../src/workload.js';

describe('splitmix64', () => {
  it("matches etcdwal's fill() on the basic dataset", async () => {
    const base = join(await sharedDir(), 'testdata', 'etcd34', 'basic');
    const ops = JSON.parse(await readFile(join(base, 'ops.json'), 'utf8')) as {
      ops: { op: string; entries?: { index: number; len: number; seed?: string }[] }[];
    };
    const expected = JSON.parse(await readFile(join(base, 'expected.json'), 'utf8')) as {
      read: { entries: { index: number; dataSha256: string }[] };
    };
    const shaByIndex = new Map(expected.read.entries.map((e) => [e.index, e.dataSha256]));
    let checked = 0;
    for (const op of ops.ops) {
      for (const e of op.entries ?? []) {
        if (!e.seed) continue;
        const sha = createHash('sha256')
          .update(fill(BigInt(e.seed), e.len))
          .digest('hex');
        expect(sha, `entry ${e.index}`).toBe(shaByIndex.get(e.index));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('is deterministic', () => {
    const a = new SplitMix64(42n);
    const b = new SplitMix64(42n);
    for (let i = 0; i < 10; i++) expect(a.next()).toBe(b.next());
  });
});

describe('generateWorkload', () => {
  for (const seed of [1n, 2n, 3n, 0xdeadbeefn, (1n << 64n) - 1n]) {
    it(`seed ${seed}: raft-like and covers every feature`, () => {
      const w = generateWorkload(seed);
      const again = generateWorkload(seed);
      expect(again.ops.length).toBe(w.ops.length);
      expect(again.log.map((e) => `${e.index}@${e.term}`)).toEqual(w.log.map((e) => `${e.index}@${e.term}`));

      expect(w.ops[0]!.op).toBe('create');
      expect(w.ops[w.ops.length - 1]!.op).toBe('close');
      expect(w.stats.overwrites).toBeGreaterThanOrEqual(2);
      expect(w.stats.snapshots).toBeGreaterThanOrEqual(2);
      expect(w.stats.bigEntries).toBeGreaterThanOrEqual(2);
      expect(w.stats.absentData).toBeGreaterThan(0);
      expect(w.stats.emptyData).toBeGreaterThan(0);
      expect(w.stats.byType[0]).toBeGreaterThan(0);
      // the log is contiguous, terms never go down, the final commit covers it
      w.log.forEach((e, i) => expect(e.index).toBe(BigInt(i + 1)));
      for (let i = 1; i < w.log.length; i++) expect(w.log[i]!.term >= w.log[i - 1]!.term).toBe(true);
      expect(w.hardState.commit).toBe(BigInt(w.log.length));

      // saves: contiguous batches; at least one starts at or below the last index (an overwrite)
      let last = 0n;
      let commit = 0n;
      let overwrote = false;
      let bigVote = false;
      for (const op of w.ops) {
        if (op.op === 'save') {
          const first = op.entries[0]?.index;
          if (first !== undefined) {
            expect(first <= last + 1n).toBe(true);
            if (first <= last) {
              overwrote = true;
              expect(first > commit).toBe(true);
            }
            op.entries.forEach((e, i) => expect(e.index).toBe(first + BigInt(i)));
            last = first + BigInt(op.entries.length - 1);
          }
          if (op.hardState.term !== 0n) {
            expect(op.hardState.commit >= commit).toBe(true);
            expect(op.hardState.commit <= last).toBe(true);
            commit = op.hardState.commit;
            if (op.hardState.vote > 2n ** 53n) bigVote = true;
          }
        }
        if (op.op === 'saveSnapshot') expect(op.snapshot.index <= commit).toBe(true);
      }
      expect(overwrote).toBe(true);
      expect(bigVote || w.hardState.vote === REAL_MEMBER_ID).toBe(true);
    });
  }
});
