// Reverse interop: walnut writes, etcd 3.4's own wal package reads.
//
// For every seed, walnut (on local disk, fs-node) replays a generated raft-like workload; then the
// etcdwal harness (real etcd code) dumps, verifies and lists snapshots of that directory, and every
// answer must equal walnut's own answer for the same directory, as text (member ids exceed 2^53),
// and the workload's model. Reproduce one seed:
//   WALNUT_INTEROP_SEEDS=3 WALNUT_INTEROP_KEEP=1 npx vitest run test/reverse-interop.test.ts
// (in tools/interop) keeps the directories and prints where they are, for `etcdwal dump <dir> --snap I:T`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileSystem } from '@walnut/fs-node';
import { canonicalDump, formatCanonicalDump, Wal } from '@walnut/wal-core';
import type { FileSystem } from '@walnut/wal-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapPosition } from '../src/etcdwal.js';
import { errorOf, etcdDump, etcdSnapshots, etcdVerify, stringifyLikeGo } from '../src/etcdwal.js';
import { modelDump, modelSnapshots } from '../src/model.js';
import { ensureReferenceHarness } from '../src/reference-harness.js';
import { runWorkload } from '../src/run-workload.js';
import { copyDir, listFiles, purgeBefore, segmentNames } from '../src/wal-dir.js';
import type { Workload } from '../src/workload.js';
import { generateWorkload } from '../src/workload.js';

/** Seeds: WALNUT_INTEROP_SEEDS="3,0x2a" overrides the default eight. */
const SEEDS: bigint[] = process.env['WALNUT_INTEROP_SEEDS']
  ? process.env['WALNUT_INTEROP_SEEDS'].split(',').map((s) => BigInt(s.trim()))
  : [1n, 2n, 3n, 4n, 5n, 6n, 7n, 0x5eed_c0ffee_d00dn];
const KEEP = process.env['WALNUT_INTEROP_KEEP'] === '1';

const ZERO: SnapPosition = { index: 0n, term: 0n };
const fs: FileSystem = new NodeFileSystem();

let bin: string;
let base: string;

beforeAll(async () => {
  // Installs golang-go / golang-etcd-server-dev if missing and builds etcdwal: may take minutes on a fresh machine.
  bin = await ensureReferenceHarness();
  base = await mkdtemp(join(tmpdir(), 'walnut-interop-'));
}, 600_000);

afterAll(async () => {
  if (!base) return;
  if (KEEP) console.log(`walnut-interop: kept the WAL directories under ${base}`);
  else await rm(base, { recursive: true, force: true });
});

const snapName = (s: SnapPosition): string => `${s.index}:${s.term}`;

/** walnut's dump; write mode preallocates 64 KiB for the next segment, as etcdwal sets wal.SegmentSizeBytes. */
async function walnutDump(dir: string, snap: SnapPosition, write: boolean): Promise<string> {
  return formatCanonicalDump(await canonicalDump(fs, dir, snap, { write, segmentSizeBytes: 64 * 1024 }));
}

SEEDS.forEach((seed, i) =>
  describe(`seed ${seed}`, () => {
    let w: Workload;
    let seedDir: string;
    let dir: string;

    beforeAll(async () => {
      // One seed with 16 KiB segments (more cuts), the rest with etcdwal's 64 KiB; one seed with fdatasync on.
      w = generateWorkload(seed, { segmentSizeBytes: i === SEEDS.length - 1 && SEEDS.length > 1 ? 16 * 1024 : 64 * 1024 });
      seedDir = join(base, `seed-${seed}`);
      dir = join(seedDir, 'wal');
      await runWorkload(fs, dir, w, { noFsync: i !== 0 });
      if (KEEP) console.log(`seed ${seed}: ${dir} snapshots ${w.snapshots.map(snapName).join(' ')}`);
    }, 120_000);

    it('spans several segments', async () => {
      expect((await segmentNames(dir)).length).toBeGreaterThanOrEqual(3);
    });

    it('etcd reads it at 0:0 with no error, exactly as walnut and the model do', async () => {
      const etcd = await etcdDump(bin, dir, ZERO);
      expect(errorOf(etcd), `etcdwal dump ${dir} --snap 0:0`).toBeNull();
      expect(etcd).toBe(modelDump(w, ZERO));
      expect(await walnutDump(dir, ZERO, false)).toBe(etcd);
    });

    it('etcd reads it at every snapshot (the latest included) exactly as walnut and the model do', async () => {
      expect(w.snapshots.length).toBeGreaterThanOrEqual(2);
      for (const snap of w.snapshots) {
        const etcd = await etcdDump(bin, dir, snap);
        expect(errorOf(etcd), `etcdwal dump ${dir} --snap ${snapName(snap)}`).toBeNull();
        expect(etcd, `model at ${snapName(snap)}`).toBe(modelDump(w, snap));
        expect(await walnutDump(dir, snap, false), `walnut at ${snapName(snap)}`).toBe(etcd);
      }
    });

    it('fails like etcd at a snapshot with the wrong term and at one never saved', async () => {
      const last = BigInt(w.log.length);
      for (const snap of [
        { index: w.latestSnapshot.index, term: w.latestSnapshot.term + 7n }, // wal: snapshot mismatch
        { index: last + 1000n, term: w.hardState.term }, // wal: snapshot not found
      ]) {
        const etcd = await etcdDump(bin, dir, snap);
        expect(errorOf(etcd), `etcd at ${snapName(snap)}`).not.toBeNull();
        expect(await walnutDump(dir, snap, false), `walnut at ${snapName(snap)}`).toBe(etcd);
      }
    });

    it('etcd verifies it at 0:0 and at every snapshot; walnut agrees', async () => {
      for (const snap of [ZERO, ...w.snapshots]) {
        expect(errorOf(await etcdVerify(bin, dir, snap)), `etcdwal verify ${dir} --snap ${snapName(snap)}`).toBeNull();
        const hs = await Wal.verify(fs, dir, snap);
        expect(stringifyLikeGo(hs), `Wal.verify at ${snapName(snap)}`).toBe(stringifyLikeGo(w.hardState));
      }
    });

    it("etcd's ValidSnapshotEntries equals walnut's", async () => {
      const etcd = await etcdSnapshots(bin, dir);
      expect(etcd).toBe(modelSnapshots(w));
      const walnut = await Wal.validSnapshotEntries(fs, dir);
      expect(stringifyLikeGo({ snapshots: walnut.map((s) => ({ index: s.index, term: s.term })), error: null })).toBe(etcd);
    });

    it('etcd opens it for writing (flock, tail zeroed) with no error; walnut does the same to a copy, byte for byte', async () => {
      const snap = w.latestSnapshot;
      const expected = modelDump(w, snap);
      const etcdCopy = join(seedDir, 'write-etcd');
      const walnutCopy = join(seedDir, 'write-walnut');
      await copyDir(dir, etcdCopy);
      await copyDir(dir, walnutCopy);

      const etcd = await etcdDump(bin, etcdCopy, snap, true);
      expect(errorOf(etcd), `etcdwal dump ${etcdCopy} --snap ${snapName(snap)} --write`).toBeNull();
      expect(etcd).toBe(expected);
      expect(await walnutDump(walnutCopy, snap, true)).toBe(expected);

      // Both write-mode opens leave the same files, and each side still reads the other's result.
      expect(await listFiles(walnutCopy)).toEqual(await listFiles(etcdCopy));
      expect(await walnutDump(etcdCopy, ZERO, false)).toBe(modelDump(w, ZERO));
      expect(await etcdDump(bin, walnutCopy, ZERO)).toBe(modelDump(w, ZERO));
    });

    it('after a purge of the segments before the latest snapshot, etcd and walnut still agree', async () => {
      const snap = w.latestSnapshot;
      const purged = join(seedDir, 'purged');
      await copyDir(dir, purged);
      const removed = await purgeBefore(purged, snap);
      const etcd = await etcdDump(bin, purged, snap);
      expect(errorOf(etcd), `etcdwal dump ${purged} --snap ${snapName(snap)}`).toBeNull();
      expect(etcd).toBe(modelDump(w, snap));
      expect(await walnutDump(purged, snap, false)).toBe(etcd);
      if (removed.length > 0) {
        // The first segments are gone: etcd reports "wal: file not found" at 0:0; walnut must say the same.
        const etcdZero = await etcdDump(bin, purged, ZERO);
        expect(errorOf(etcdZero)).not.toBeNull();
        expect(await walnutDump(purged, ZERO, false)).toBe(etcdZero);
        expect(await etcdSnapshots(bin, purged)).toBe(
          stringifyLikeGo({
            snapshots: (await Wal.validSnapshotEntries(fs, purged)).map((s) => ({ index: s.index, term: s.term })),
            error: null,
          }),
        );
      }
    });
  }),
);
