/**
 * etcd's own tests of its `wal` package (etcd-wal-format.md §4.1) and of the fileutil parts the WAL relies
 * on (§4.2), ported to walnut's public API. Each test is named after the etcd test it ports. Where etcd
 * reaches into internals (w.cut(), w.tail().Seek(), searchIndex), the port drives the same behaviour
 * through the API: a segment size of 1 byte makes every save cut (etcd's "Save then cut"), the end of the
 * records is found with the public RecordDecoder, and segment selection is observed through
 * `wal.lockedSegments`.
 *
 * The walnut API contract (typed errors, uint64 values, call order, group commit, failures) is in
 * api-contract.ts and registered from here.
 */
import { describe, expect, it } from 'vitest';
import {
  CrcMismatchError,
  EMPTY_HARD_STATE,
  UnexpectedEofError,
  Wal,
  WalError,
  encodeSnapshot,
  formatSegmentName,
  joinPath,
  parseSegmentName,
  tryParseSegmentName,
  type ConfState,
  type Entry,
  type FileSystem,
  type HardState,
  type WalScheduler,
} from '@walnut/wal-core';
import { apiContractTests } from './api-contract.js';
import type { WalSuiteFactory } from './support.js';
import {
  FrameBuilder,
  HookedFileSystem,
  REC,
  ascii,
  entryBytes,
  expectWalError,
  fastBytes,
  frame,
  fsFailure,
  hex,
  lockIsFree,
  patchFile,
  readFile,
  readRange,
  recordBytes,
  recordsEnd,
  scanSegments,
  segmentNames,
  snapshotBytes,
  stateAfter,
  toHex,
  truncateFile,
  withFixture,
  writeFile,
} from './wal-test-kit.js';

/** Segment size where cuts do not matter: small, so preallocation stays cheap on every backend. */
const SEG = 1024 * 1024;
/** Every save cuts (the file position after a save is always ≥ 1): etcd's "Save, then w.cut()". */
const CUT_EVERY_SAVE = 1;
const MiB = 1024 * 1024;

/** etcd's `confState` of wal_test.go. */
export const CONF_STATE: ConfState = { voters: [0x00ffca74n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

export const ent = (index: number | bigint, term: number | bigint = 0, data?: Uint8Array): Entry =>
  data === undefined ? { index: BigInt(index), term: BigInt(term), type: 0 } : { index: BigInt(index), term: BigInt(term), type: 0, data };
export const hs = (term: number | bigint, vote: number | bigint, commit: number | bigint): HardState => ({
  term: BigInt(term),
  vote: BigInt(vote),
  commit: BigInt(commit),
});
const ZERO = { index: 0n, term: 0n };
const seg = formatSegmentName;

/** A scheduler that remembers the background tasks (the file pipeline) so a test can wait for them. */
function capturingScheduler(): { scheduler: WalScheduler; settled: () => Promise<void> } {
  const tasks: Promise<void>[] = [];
  return {
    scheduler: (task) => {
      tasks.push(task());
    },
    settled: async () => {
      let n = -1;
      while (n !== tasks.length) {
        n = tasks.length;
        await Promise.all(tasks);
      }
    },
  };
}

const lastIndex = (es: readonly Entry[]) => es[es.length - 1]!.index;

export function etcdWalTests(factory: WalSuiteFactory): void {
  describe('etcd-tests', () => {
    describe('etcd wal package (etcd-wal-format.md §4.1)', () => {
      creationTests(factory);
      openingTests(factory);
      appendTests(factory);
      readingTests(factory);
      recordTests(factory);
      repairTests(factory);
      pipelineTests(factory);
    });
    describe('etcd fileutil (etcd-wal-format.md §4.2)', () => {
      lockTests(factory);
    });
    apiContractTests(factory);
  });
}

// -------------------------------------------------------------------------------------------------
// Create
// -------------------------------------------------------------------------------------------------

/** The 72 bytes of etcd's testdata/TestNew.wal (etcd-wal-format.md §1.7). */
const TEST_NEW_WAL = hex(`
  04 00 00 00 00 00 00 84  08 04 10 00  00 00 00 00
  12 00 00 00 00 00 00 86  08 01  10 85 d4 fd a0 07  1a 08 73 6f 6d 65 64 61 74 61  00 00 00 00 00 00
  0e 00 00 00 00 00 00 82  08 05  10 80 db 81 c1 01  1a 04 08 00 10 00  00 00`);

function creationTests(factory: WalSuiteFactory): void {
  it(
    'TestNew: create writes the golden 72 bytes of TestNew.wal, preallocated to the segment size, plus a 0.tmp',
    withFixture(factory, async ({ fs, dir }) => {
      expect(TEST_NEW_WAL.length).toBe(72);
      const wdir = joinPath(dir, 'wal');
      const bg = capturingScheduler();
      const w = await Wal.create(fs, wdir, ascii('somedata'), { scheduler: bg.scheduler });
      try {
        expect(w.lockedSegments).toEqual([seg(0n, 0n)]);
        const path = joinPath(wdir, seg(0n, 0n));
        const head = await readRange(fs, path, 0, 4096);
        expect(toHex(head.subarray(0, 72))).toBe(toHex(TEST_NEW_WAL));
        expect(head.subarray(72).every((b) => b === 0)).toBe(true);
        // The same bytes as a fresh encoder's CRC{0}, Metadata{"somedata"}, Snapshot{0,0}.
        const fb = new FrameBuilder().add(REC.Crc, undefined).add(REC.Metadata, ascii('somedata')).add(REC.Snapshot, snapshotBytes(0n, 0n));
        expect(toHex(fb.bytes())).toBe(toHex(TEST_NEW_WAL));
        // Preallocated to etcd's 64,000,000 bytes; the pipeline keeps the next segment ready beside it.
        expect((await fs.stat(path)).size).toBe(64_000_000);
        await bg.settled();
        expect((await fs.readdir(wdir)).sort()).toEqual(['0.tmp', seg(0n, 0n)]);
        expect((await fs.stat(joinPath(wdir, '0.tmp'))).size).toBe(64_000_000);
      } finally {
        await w.close();
      }
      // Close stops the pipeline, which deletes its temp file.
      expect(await fs.readdir(wdir)).toEqual([seg(0n, 0n)]);
    }),
  );

  it(
    'TestCreateNewWALFile: segments and pipeline temp files are created with mode 0600 and locked',
    withFixture(factory, async ({ fs, dir }) => {
      const wdir = joinPath(dir, 'wal');
      const bg = capturingScheduler();
      const w = await Wal.create(fs, wdir, undefined, { segmentSizeBytes: 4096, scheduler: bg.scheduler });
      try {
        await bg.settled();
        for (const name of [seg(0n, 0n), '0.tmp']) {
          expect((await fs.stat(joinPath(wdir, name))).mode, name).toBe(0o600);
          expect(await lockIsFree(fs, joinPath(wdir, name)), `${name} is locked`).toBe(false);
        }
      } finally {
        await w.close();
      }
    }),
  );

  it(
    'TestCreateFailFromPollutedDir: a test.wal in the directory makes create fail with WAL_EXISTS (os.ErrExist)',
    withFixture(factory, async ({ fs, dir }) => {
      await writeFile(fs, joinPath(dir, 'test.wal'), ascii('data'));
      await expectWalError(Wal.create(fs, dir, ascii('data')), 'WAL_EXISTS', 'file already exists');
      expect(await fs.readdir(dir)).toEqual(['test.wal']);
    }),
  );

  it(
    'TestNewForInitedDir: an existing 0-0.wal makes create fail with WAL_EXISTS and is left alone',
    withFixture(factory, async ({ fs, dir }) => {
      await writeFile(fs, joinPath(dir, seg(0n, 0n)), new Uint8Array(0));
      await expectWalError(Wal.create(fs, dir, undefined), 'WAL_EXISTS', 'file already exists');
      expect(await fs.readdir(dir)).toEqual([seg(0n, 0n)]);
    }),
  );

  it(
    'TestWalCleanup: a failing parent directory sync renames the WAL to <dir>.broken.<YYYYMMDD.HHMMSS.ffffff> and throws',
    withFixture(factory, async ({ fs: base, dir }) => {
      const wdir = joinPath(dir, 'wal');
      const fs = new HookedFileSystem(base, {
        before: (op, path) => {
          if (op === 'syncDir' && path === dir) throw fsFailure('EIO', 'fsync', path);
        },
      });
      // A fixed wall clock: Go's layout 20060102.150405.999999 drops trailing zeros of the fraction.
      const clock = { now: () => performance.now(), wallTime: () => new Date(2024, 0, 2, 3, 4, 5, 120) };
      const err = await expectWalError(
        Wal.create(fs, wdir, new Uint8Array(0), { clock, segmentSizeBytes: 4096 }),
        'EIO',
        'input/output error',
      );
      expect(err.message).toContain(dir);
      expect(await base.readdir(dir)).toEqual(['wal.broken.20240102.030405.12']);
      const broken = joinPath(dir, 'wal.broken.20240102.030405.12');
      // The WAL was closed first: the pipeline's temp file is gone, the segment is no longer locked.
      expect(await base.readdir(broken)).toEqual([seg(0n, 0n)]);
      expect(await lockIsFree(base, joinPath(broken, seg(0n, 0n)))).toBe(true);

      // With the real clock: exactly one entry, matching etcd's pattern.
      const other = joinPath(dir, 'other');
      await base.mkdir(other);
      const fs2 = new HookedFileSystem(base, {
        before: (op, path) => {
          if (op === 'syncDir' && path === other) throw fsFailure('EIO', 'fsync', path);
        },
      });
      await expectWalError(Wal.create(fs2, joinPath(other, 'waltest'), new Uint8Array(0), { segmentSizeBytes: 4096 }), 'EIO');
      const names = await base.readdir(other);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^waltest\.broken\.\d{8}\.\d{6}(\.\d{1,6})?$/);
    }),
  );

  it(
    'TestCreateFailFromNoSpaceLeft: a preallocation failing with ENOSPC makes create fail and leaves nothing behind',
    withFixture(factory, async ({ fs: base, dir }) => {
      const fs = new HookedFileSystem(base, {
        before: (op, path) => {
          if (op === 'allocate') throw fsFailure('ENOSPC', 'fallocate', path);
        },
      });
      await expectWalError(Wal.create(fs, joinPath(dir, 'wal'), ascii('data')), 'ENOSPC', 'no space left on device');
      expect(await base.readdir(dir)).toEqual([]);
    }),
  );

  it(
    'TestRenameFail: a failing rename of <dir>.tmp makes create fail with that error, leaving no WAL and no temp dir',
    withFixture(factory, async ({ fs: base, dir }) => {
      const fs = new HookedFileSystem(base, {
        before: (op, path) => {
          if (op === 'rename' && path.endsWith('wal.tmp')) throw fsFailure('EIO', 'rename', path);
        },
      });
      await expectWalError(Wal.create(fs, joinPath(dir, 'wal'), ascii('data'), { segmentSizeBytes: 4096 }), 'EIO');
      expect(await base.readdir(dir)).toEqual([]);
    }),
  );

  it(
    'Create (etcd §2.2): a directory without *.wal files is replaced, whatever it holds; missing parents are made',
    withFixture(factory, async ({ fs, dir }) => {
      const wdir = joinPath(dir, 'wal');
      await fs.mkdir(joinPath(wdir, 'sub'), { recursive: true });
      await writeFile(fs, joinPath(wdir, 'junk.txt'), ascii('junk'));
      await writeFile(fs, joinPath(wdir, `${seg(0n, 0n)}.broken`), ascii('old backup'));
      const w = await Wal.create(fs, wdir, undefined, { segmentSizeBytes: 4096 });
      await w.close();
      expect(await fs.readdir(wdir)).toEqual([seg(0n, 0n)]);
      const deep = joinPath(dir, 'a', 'b', 'wal');
      const w2 = await Wal.create(fs, deep, undefined, { segmentSizeBytes: 4096 });
      await w2.close();
      expect(await fs.readdir(deep)).toEqual([seg(0n, 0n)]);
    }),
  );

  it(
    'TestRestartCreateWal: a leftover <dir>.tmp with a junk file is replaced by create',
    withFixture(factory, async ({ fs, dir }) => {
      const wdir = joinPath(dir, 'wal');
      await fs.mkdir(`${wdir}.tmp`, { mode: 0o700 });
      await writeFile(fs, joinPath(`${wdir}.tmp`, 'test'), new Uint8Array(0));
      const w = await Wal.create(fs, wdir, ascii('abc'), { segmentSizeBytes: 4096 });
      await w.close();
      expect(await fs.readdir(dir)).toEqual(['wal']);
      expect(await fs.readdir(wdir)).toEqual([seg(0n, 0n)]);
      const r = await Wal.openForRead(fs, wdir, ZERO);
      const { metadata } = await r.readAll();
      await r.close();
      expect(Buffer.from(metadata!).toString()).toBe('abc');
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// Open, segment selection, names
// -------------------------------------------------------------------------------------------------

function openingTests(factory: WalSuiteFactory): void {
  it(
    'TestOpenAtIndex: empty 0-0 opens; with 2-10 beside it, an open at index 5 has tail 2-10 (the seq-0 quirk); an empty dir is WAL_FILE_NOT_FOUND',
    withFixture(factory, async ({ fs, dir }) => {
      const wdir = joinPath(dir, 'wal');
      await fs.mkdir(wdir);
      await writeFile(fs, joinPath(wdir, seg(0n, 0n)), new Uint8Array(0));
      let w = await Wal.open(fs, wdir, ZERO, { segmentSizeBytes: 4096 });
      expect(w.lockedSegments).toEqual([seg(0n, 0n)]);
      await w.close();

      await writeFile(fs, joinPath(wdir, seg(2n, 10n)), new Uint8Array(0));
      w = await Wal.open(fs, wdir, { index: 5n, term: 0n }, { segmentSizeBytes: 4096 });
      const locked = w.lockedSegments;
      expect(locked[locked.length - 1]).toBe(seg(2n, 10n));
      expect(parseSegmentName(locked[locked.length - 1]!).seq).toBe(2n);
      await w.close();
      // Closing a WAL that was never read deletes the pipeline's temp file too.
      expect((await fs.readdir(wdir)).sort()).toEqual([seg(0n, 0n), seg(2n, 10n)]);

      const empty = joinPath(dir, 'empty');
      await fs.mkdir(empty);
      await expectWalError(Wal.open(fs, empty, ZERO), 'WAL_FILE_NOT_FOUND', 'wal: file not found');
      await expectWalError(Wal.openForRead(fs, empty, ZERO), 'WAL_FILE_NOT_FOUND', 'wal: file not found');
    }),
  );

  it(
    'TestSearchIndex: the start segment is the last one whose index ≤ the snapshot index, searching backwards',
    withFixture(factory, async ({ fs, dir }) => {
      const cases: { names: [bigint, bigint][]; index: bigint; from: number }[] = [
        {
          names: [
            [0n, 0n],
            [1n, 0x1000n],
            [2n, 0x2000n],
          ],
          index: 0x1000n,
          from: 1,
        },
        // Names need not be monotonic in index.
        {
          names: [
            [1n, 0x4000n],
            [2n, 0x3000n],
            [3n, 0x5000n],
          ],
          index: 0x4000n,
          from: 1,
        },
        {
          names: [
            [1n, 0x2000n],
            [2n, 0x3000n],
            [3n, 0x5000n],
          ],
          index: 0x1000n,
          from: -1,
        },
      ];
      for (const [i, c] of cases.entries()) {
        const d = joinPath(dir, `case${i}`);
        await fs.mkdir(d);
        const names = c.names.map(([s, x]) => seg(s, x));
        for (const n of names) await writeFile(fs, joinPath(d, n), new Uint8Array(0));
        if (c.from < 0) {
          const e = await expectWalError(
            Wal.open(fs, d, { index: c.index, term: 0n }),
            'WAL_SNAPSHOT_INDEX_NOT_COVERED',
            'wal: file not found',
          );
          expect(e.message).toContain(`'${c.index}'`);
          continue;
        }
        const w = await Wal.open(fs, d, { index: c.index, term: 0n }, { segmentSizeBytes: 4096 });
        expect(w.lockedSegments, `case ${i}`).toEqual(names.slice(c.from));
        await w.close();
      }
    }),
  );

  it('TestScanWalName: canonical names parse; a name without index or not ending in .wal does not (lenient like Go, strict on request)', () => {
    expect(parseSegmentName('0000000000000000-0000000000000000.wal')).toMatchObject({ seq: 0n, index: 0n });
    expect(parseSegmentName('00000000000000ff-ffffffffffffffff.wal')).toMatchObject({ seq: 0xffn, index: (1n << 64n) - 1n });
    for (const bad of [
      '0000000000000000.wal',
      '0000000000000000-0000000000000000.snap',
      '00000000000000000-0.wal',
      '0-00000000000000000.wal',
      'g-0.wal',
    ]) {
      expect(tryParseSegmentName(bad), bad).toBeUndefined();
      let err: unknown;
      try {
        parseSegmentName(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(WalError);
      expect((err as WalError).code).toBe('WAL_BAD_NAME');
      expect((err as WalError).etcdMessage).toBe('bad wal name');
    }
    // Go's Sscanf("%016x-%016x.wal") is lenient (etcd-wal-format.md §1.1); walnut follows it unless strict.
    expect(parseSegmentName('1-2.wal')).toMatchObject({ seq: 1n, index: 2n });
    expect(parseSegmentName('00000000000000AB-00000000000000CD.wal')).toMatchObject({ seq: 0xabn, index: 0xcdn });
    expect(parseSegmentName('0000000000000001-0000000000000002.wal.wal')).toMatchObject({ seq: 1n, index: 2n });
    for (const lenient of ['1-2.wal', '00000000000000AB-00000000000000CD.wal', '0000000000000001-0000000000000002.wal.wal']) {
      expect(tryParseSegmentName(lenient, true), lenient).toBeUndefined();
    }
    expect(formatSegmentName(0x20n, 0x31n)).toBe('0000000000000020-0000000000000031.wal');
  });

  it(
    'TestRecoverAfterCut: with segment 4-4 deleted, opening at 0..4 fails with "do not increase continuously", at 5..9 reads the rest',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, ascii('metadata'), { segmentSizeBytes: CUT_EVERY_SAVE });
      for (let i = 0; i < 10; i++) {
        await w.saveSnapshot({ index: BigInt(i), term: 1n, confState: CONF_STATE });
        await w.save(EMPTY_HARD_STATE, [ent(i)]);
      }
      await w.close();
      expect(await segmentNames(fs, dir)).toEqual(Array.from({ length: 11 }, (_, i) => seg(BigInt(i), BigInt(i))));
      await fs.remove(joinPath(dir, seg(4n, 4n)));
      for (let i = 0; i < 10; i++) {
        const at = { index: BigInt(i), term: 1n };
        if (i <= 4) {
          const e = await expectWalError(Wal.open(fs, dir, at), 'WAL_SEQUENCE_GAP', 'wal: file not found');
          expect(e.message).toContain('do not increase continuously');
          continue;
        }
        const r = await Wal.open(fs, dir, at);
        const { metadata, entries } = await r.readAll();
        await r.close();
        expect(Buffer.from(metadata!).toString()).toBe('metadata');
        expect(entries.map((e) => e.index)).toEqual(Array.from({ length: 9 - i }, (_, j) => BigInt(i + 1 + j)));
      }
    }),
  );

  it(
    'TestOpenAtUncommittedIndex: a second {0,0} snapshot and entry 0; open at {} reads without error',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
      await w.saveSnapshot({ index: 0n, term: 0n });
      await w.save(EMPTY_HARD_STATE, [ent(0)]);
      await w.close();
      const r = await Wal.open(fs, dir, ZERO);
      const got = await r.readAll();
      await r.close();
      expect(got.entries).toEqual([]);
      expect(got.metadata).toBeUndefined();
    }),
  );

  it(
    'TestOpenForRead: after releaseLockTo(5), openForRead reads every segment while the writer is open',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: CUT_EVERY_SAVE });
      try {
        for (let i = 0; i < 10; i++) await w.save(EMPTY_HARD_STATE, [ent(i)]);
        await w.releaseLockTo(5n);
        const r = await Wal.openForRead(fs, dir, ZERO);
        const { entries } = await r.readAll();
        await r.close();
        expect(lastIndex(entries)).toBe(9n);
        expect(entries.map((e) => e.index)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
      } finally {
        await w.close();
      }
    }),
  );

  it(
    'TestOpenWithMaxIndex: an entry at 2^63-1 (or 2^64-1) after a start at 0 is WAL_SLICE_OUT_OF_RANGE',
    withFixture(factory, async ({ fs, dir }) => {
      for (const index of [(1n << 63n) - 1n, (1n << 64n) - 1n]) {
        const d = joinPath(dir, `w${index}`);
        const w = await Wal.create(fs, d, undefined, { segmentSizeBytes: SEG });
        await w.save(EMPTY_HARD_STATE, [ent(index)]);
        await w.close();
        const r = await Wal.open(fs, d, ZERO);
        const e = await expectWalError(r.readAll(), 'WAL_SLICE_OUT_OF_RANGE', 'wal: slice bounds out of range');
        expect(e.message).toContain(`Index: ${index}`);
        await r.close();
      }
    }),
  );

  it(
    'TestVerify: verify returns the last HardState; after truncating the third segment to 0 bytes it fails (CRC record mismatch)',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: CUT_EVERY_SAVE });
      try {
        for (let i = 0; i < 5; i++) await w.save(EMPTY_HARD_STATE, [ent(i, 0, ascii(`waldata${i + 1}`))]);
        const state = hs(1, 3, 5);
        await w.save(state, []);
        expect(await Wal.verify(fs, dir, ZERO)).toEqual(state);
        const names = await segmentNames(fs, dir);
        expect(names.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => seg(BigInt(i), BigInt(i))));
        await truncateFile(fs, joinPath(dir, names[2]!), 0);
        const e = await expectWalError<CrcMismatchError>(Wal.verify(fs, dir, ZERO), 'WAL_CRC_MISMATCH', 'wal: crc mismatch');
        expect(e.crcRecord).toBe(true);
        expect(e.location.file).toBe(names[3]);
      } finally {
        await w.close();
      }
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// Save, cut, snapshots
// -------------------------------------------------------------------------------------------------

function appendTests(factory: WalSuiteFactory): void {
  it(
    'TestCut: cuts are named (seq+1, last index+1); a snapshot never cuts; the new segment head carries the last HardState',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: CUT_EVERY_SAVE });
      try {
        const state = hs(1, 0, 0);
        await w.save(state, []);
        expect(w.lockedSegments.at(-1)).toBe(seg(1n, 1n));
        await w.save(EMPTY_HARD_STATE, [ent(1, 1, Uint8Array.of(1))]);
        const snap = { index: 2n, term: 1n, confState: CONF_STATE };
        await w.saveSnapshot(snap);
        expect(w.lockedSegments.at(-1)).toBe(seg(2n, 2n));
        expect(await segmentNames(fs, dir)).toEqual([seg(0n, 0n), seg(1n, 1n), seg(2n, 2n)]);
        // Read the last segment alone (before closing: the cut must have synced it) at the snapshot.
        const r = await Wal.openForRead(fs, dir, { index: 2n, term: 1n });
        const got = await r.readAll();
        await r.close();
        expect(got.hardState).toEqual(state);
        expect(got.entries).toEqual([]);
        const { records } = await scanSegments(fs, dir, [seg(2n, 2n)]);
        expect(records.map((x) => x.type)).toEqual([REC.Crc, REC.Metadata, REC.State, REC.Snapshot]);
      } finally {
        await w.close();
      }
    }),
  );

  it(
    'TestSaveWithCut: segment size 2048 and 500-byte entries: the tail after reopen is 1-5 (the cut decision lags the page buffer), 4 entries read back',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, ascii('metadata'), { segmentSizeBytes: 2048 });
      const state = hs(1, 0, 0);
      await w.save(state, []);
      const big = new Uint8Array(500);
      big.set(ascii('Hello World!!'));
      let index = 0;
      for (let total = 0; total < 2048; total += 500) await w.save(state, [ent(index++, 1, big)]);
      await w.close();
      const r = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: 2048 });
      try {
        expect(r.lockedSegments.at(-1)).toBe(seg(1n, BigInt(index)));
        expect(index).toBe(5);
        const got = await r.readAll();
        expect(got.hardState).toEqual(state);
        expect(got.entries).toHaveLength(Math.floor(2048 / 500));
        for (const e of got.entries) expect(toHex(e.data!)).toBe(toHex(big));
      } finally {
        await r.close();
      }
    }),
  );

  const recoverSizes = factory.heavy ? [10, 20, 40] : [10];
  for (const mib of recoverSizes) {
    it(
      `TestRecover: two ${mib} MiB entries and two HardStates read back byte-equal with only the last state`,
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, ascii('metadata'));
        await w.saveSnapshot({ index: 0n, term: 0n });
        const data = fastBytes(0x5eed0000n + BigInt(mib), mib * MiB);
        const ents = [ent(1, 1, data), ent(2, 2, data)];
        await w.save(EMPTY_HARD_STATE, ents);
        const states = [hs(1, 1, 1), hs(2, 2, 2)];
        for (const s of states) await w.save(s, []);
        await w.close();
        const r = await Wal.open(fs, dir, ZERO);
        const got = await r.readAll();
        await r.close();
        expect(Buffer.from(got.metadata!).toString()).toBe('metadata');
        expect(got.hardState).toEqual(states[1]);
        expect(got.entries.map((e) => [e.index, e.term, e.type])).toEqual([
          [1n, 1n, 0],
          [2n, 2n, 0],
        ]);
        for (const e of got.entries) expect(Buffer.compare(Buffer.from(e.data!), Buffer.from(data))).toBe(0);
      }),
      120_000,
    );
  }

  it(
    'TestSaveEmpty: saving an empty HardState writes nothing; with entries it writes no State record',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 4096 });
      const path = joinPath(dir, seg(0n, 0n));
      const before = await readFile(fs, path);
      await w.save(EMPTY_HARD_STATE, []);
      await w.save(null, []);
      await w.save(undefined, []);
      await w.sync();
      expect(toHex(await readFile(fs, path))).toBe(toHex(before));
      await w.save(EMPTY_HARD_STATE, [ent(1, 1)]);
      await w.close();
      const { records } = await scanSegments(fs, dir, [seg(0n, 0n)]);
      expect(records.map((r) => r.type)).toEqual([REC.Crc, REC.Metadata, REC.Snapshot, REC.Entry]);
    }),
  );

  it(
    'TestReleaseLockTo: releases every segment before the last one whose index < the given index; released segments can be locked by others, held ones not',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: CUT_EVERY_SAVE });
      try {
        // Nothing to release with one segment.
        await w.releaseLockTo(10n);
        expect(w.lockedSegments).toEqual([seg(0n, 0n)]);
        for (let i = 0; i < 10; i++) await w.save(EMPTY_HARD_STATE, [ent(i)]);
        const all = Array.from({ length: 11 }, (_, i) => seg(BigInt(i), BigInt(i)));
        expect(w.lockedSegments).toEqual(all);
        await w.releaseLockTo(0n);
        expect(w.lockedSegments).toEqual(all);

        await w.releaseLockTo(5n);
        expect(w.lockedSegments.map((n) => parseSegmentName(n).index)).toEqual([4n, 5n, 6n, 7n, 8n, 9n, 10n]);
        for (const [i, name] of all.entries()) {
          expect(await lockIsFree(fs, joinPath(dir, name)), `${name} ${i < 4 ? 'released' : 'held'}`).toBe(i < 4);
        }

        await w.releaseLockTo(15n);
        expect(w.lockedSegments).toEqual([seg(10n, 10n)]);
        for (const [i, name] of all.entries()) expect(await lockIsFree(fs, joinPath(dir, name)), name).toBe(i < 10);
        // The WAL still appends to its tail.
        await w.save(EMPTY_HARD_STATE, [ent(10)]);
      } finally {
        await w.close();
      }
      for (const name of await segmentNames(fs, dir)) expect(await lockIsFree(fs, joinPath(dir, name)), name).toBe(true);
    }),
  );

  it(
    'TestTailWriteNoSlackSpace: a tail truncated to its records (no preallocated space) is appended to and read back',
    withFixture(factory, async ({ fs, dir }) => {
      let w = await Wal.create(fs, dir, ascii('metadata'), { segmentSizeBytes: SEG });
      for (let i = 1; i <= 5; i++) await w.save(hs(1, 0, 0), [ent(i, 1, Uint8Array.of(i))]);
      await w.close();
      const path = joinPath(dir, seg(0n, 0n));
      const end = await recordsEnd(fs, path);
      await truncateFile(fs, path, end);

      w = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: SEG });
      expect((await w.readAll()).entries).toHaveLength(5);
      for (let i = 6; i <= 10; i++) await w.save(hs(1, 0, 0), [ent(i, 1, Uint8Array.of(i))]);
      await w.close();

      w = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: SEG });
      const got = await w.readAll();
      await w.close();
      expect(got.entries.map((e) => [e.index, e.data![0]])).toEqual(Array.from({ length: 10 }, (_, i) => [BigInt(i + 1), i + 1]));
    }),
  );

  it(
    'TestValidateSnapshot: {0,0} is valid; {5,3} needs a ConfState with requireConfState (etcd ≥ 3.5), not without (3.4); a missing snapshot or index is invalid',
    withFixture(factory, async ({ fs, dir }) => {
      const strict = await Wal.create(fs, joinPath(dir, 'strict'), undefined, { segmentSizeBytes: SEG, requireConfState: true });
      try {
        await strict.saveSnapshot({ index: 0n, term: 0n });
        const e = await expectWalError(strict.saveSnapshot({ index: 5n, term: 3n }), 'WAL_INVALID_SNAPSHOT');
        expect(e.etcdMessage).toMatch(/^Saved \(not-initial\) snapshot is missing ConfState/);
        await strict.saveSnapshot({ index: 5n, term: 3n, confState: { ...CONF_STATE, voters: [0x00cad1n] } });
        await expectWalError(strict.saveSnapshot(null as never), 'WAL_INVALID_SNAPSHOT', 'snapshot is nil');
        // etcd main: "snapshot is missing index"; walnut rejects it before writing, as a typed error.
        expect(['WAL_INVALID_SNAPSHOT', 'WAL_INVALID_ARGUMENT']).toContain(await codeOf(strict.saveSnapshot({} as never)));
        // A rejected snapshot writes nothing and does not poison the WAL.
        await strict.save(hs(3, 1, 5), [ent(6, 3)]);
      } finally {
        await strict.close();
      }
      const r = await Wal.openForRead(fs, joinPath(dir, 'strict'), { index: 5n, term: 3n });
      expect((await r.readAll()).entries.map((x) => x.index)).toEqual([6n]);
      await r.close();
      const snaps = await Wal.validSnapshotEntries(fs, joinPath(dir, 'strict'));
      expect(snaps.map((s) => [s.index, s.term])).toEqual([
        [0n, 0n],
        [0n, 0n],
        [5n, 3n],
      ]);
      expect(snaps[2]!.confState?.voters).toEqual([0x00cad1n]);

      const lax = await Wal.create(fs, joinPath(dir, 'lax'), undefined, { segmentSizeBytes: SEG });
      try {
        await lax.saveSnapshot({ index: 5n, term: 3n });
      } finally {
        await lax.close();
      }
    }),
  );

  it('TestSnapshotMetadataCompatibility: walpb.Snapshot numbers index 1, term 2, conf_state 3 (not raftpb.SnapshotMetadata’s)', () => {
    // etcd-wal-format.md §1.3: Snapshot{index 2, term 1, conf_state{voters [0x00ffca74]}}.
    expect(toHex(encodeSnapshot({ index: 2n, term: 1n, confState: CONF_STATE }))).toBe('080210011a0708f494ff072800');
    expect(toHex(encodeSnapshot({ index: 0n, term: 0n }))).toBe('08001000');
  });
}

/** The code of the error a promise rejects with (undefined if it resolves). */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e instanceof WalError ? e.code : `not a WalError: ${String(e)}`;
  }
}

// -------------------------------------------------------------------------------------------------
// readAll, ValidSnapshotEntries, torn writes
// -------------------------------------------------------------------------------------------------

function readingTests(factory: WalSuiteFactory): void {
  it(
    'TestReadAllFail: readAll on a WAL from create, or a second readAll, is WAL_DECODER_NOT_FOUND',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, ascii('metadata'), { segmentSizeBytes: SEG });
      await expectWalError(w.readAll(), 'WAL_DECODER_NOT_FOUND', 'wal: decoder not found');
      await w.close();
      const r = await Wal.open(fs, dir, ZERO);
      await r.readAll();
      await expectWalError(r.readAll(), 'WAL_DECODER_NOT_FOUND', 'wal: decoder not found');
      await r.close();
      const ro = await Wal.openForRead(fs, dir, ZERO);
      await ro.readAll();
      await expectWalError(ro.readAll(), 'WAL_DECODER_NOT_FOUND', 'wal: decoder not found');
      await ro.close();
    }),
  );

  it(
    'TestOpenOnTornWrite: a zeroed record ends the read; the tail past it is zeroed, so later appends read back without CRC errors',
    withFixture(factory, async ({ fs, dir }) => {
      const maxEntries = 40;
      const clobberIdx = 20;
      const overwriteEntries = 5;
      let w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
      for (let i = 0; i < maxEntries; i++) await w.save(EMPTY_HARD_STATE, [ent(i)]);
      await w.close();
      const path = joinPath(dir, seg(0n, 0n));
      const { records } = await scanSegments(fs, dir, [seg(0n, 0n)]);
      const entryRecs = records.filter((r) => r.type === REC.Entry);
      expect(entryRecs).toHaveLength(maxEntries);
      // etcd zeroes [offsets[clobberIdx], offsets[clobberIdx+1]): the frame of the entry saved after it.
      const victim = entryRecs[clobberIdx + 1]!;
      await patchFile(fs, path, victim.offset, new Uint8Array(victim.frameBytes));

      w = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: SEG });
      expect((await w.readAll()).entries.map((e) => e.index)).toEqual(Array.from({ length: clobberIdx }, (_, i) => BigInt(i + 1)));
      for (let i = 0; i < overwriteEntries; i++) await w.save(EMPTY_HARD_STATE, [ent(i + clobberIdx, 0, ascii('new'))]);
      await w.close();

      const r = await Wal.openForRead(fs, dir, ZERO);
      const got = await r.readAll();
      await r.close();
      expect(got.entries).toHaveLength(clobberIdx - 1 + overwriteEntries);
      expect(got.entries.slice(clobberIdx - 1).map((e) => [e.index, Buffer.from(e.data!).toString()])).toEqual(
        Array.from({ length: overwriteEntries }, (_, i) => [BigInt(i + clobberIdx), 'new']),
      );
    }),
  );

  const snap = (index: number, term: number) => ({ index: BigInt(index), term: BigInt(term), confState: CONF_STATE });

  it(
    'TestValidSnapshotEntries: snapshots up to the last committed index, in order, including the implicit {0,0}',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
      await w.saveSnapshot(snap(1, 1));
      await w.save(hs(1, 0, 1), []);
      await w.saveSnapshot(snap(2, 1));
      await w.saveSnapshot(snap(3, 2));
      await w.save(hs(2, 0, 3), []);
      await w.saveSnapshot(snap(4, 2)); // orphaned: the last commit is 3
      await w.close();
      const got = await Wal.validSnapshotEntries(fs, dir);
      expect(got.map((s) => [s.index, s.term])).toEqual([
        [0n, 0n],
        [1n, 1n],
        [2n, 1n],
        [3n, 2n],
      ]);
      expect(got[0]!.confState).toBeUndefined();
      for (const s of got.slice(1)) expect(s.confState).toEqual(CONF_STATE);
    }),
  );

  it(
    'TestValidSnapshotEntriesAfterPurgeWal: with segment size 64 and the first segment deleted, the CRC chain is seeded from the next segment',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 64 });
      await w.saveSnapshot(snap(1, 1));
      await w.save(hs(1, 0, 1), []);
      await w.saveSnapshot(snap(2, 1));
      await w.saveSnapshot(snap(3, 2));
      for (let i = 0; i < 128; i++) await w.save(hs(2, 0, 3), []);
      await w.close();
      const names = await segmentNames(fs, dir);
      expect(names.length).toBeGreaterThan(1);
      await fs.remove(joinPath(dir, names[0]!));
      const got = await Wal.validSnapshotEntries(fs, dir);
      // snap1 was in the deleted first segment; snap2 and snap3 follow the first cut.
      expect(got.map((s) => [s.index, s.term])).toEqual([
        [2n, 1n],
        [3n, 2n],
      ]);
    }),
  );

  it(
    'TestLastRecordLengthExceedFileEnd: a last length word of 1000 past the file end yields two entries, then WAL_UNEXPECTED_EOF (repairable)',
    withFixture(factory, async ({ fs, dir }) => {
      const fb = new FrameBuilder().add(REC.Crc, undefined).add(REC.Metadata, undefined).add(REC.Snapshot, snapshotBytes(0n, 0n));
      for (let i = 1n; i <= 3n; i++) fb.add(REC.Entry, entryBytes(i, 0n, 0, ascii(`waldata${i}`)));
      const data = fb.bytes();
      const offsets = fb.offsets();
      // etcd-wal-format.md §1.7, second example: the metadata record and entry 1 (crc 0xF0B705BA).
      expect(toHex(data.subarray(offsets[1]!, offsets[2]!))).toBe('04000000000000840801100000000000');
      expect(toHex(data.subarray(offsets[3]!, offsets[4]!))).toBe(
        '1a00000000000086' + '080210ba8bdc850f1a10' + '0800100018012208' + toHex(ascii('waldata1')) + '000000000000',
      );
      // The last frame claims 1000 bytes.
      data.set(hex('e8 03 00 00 00 00 00 86'), offsets[5]!);
      const name = seg(0n, 0n);
      await writeFile(fs, joinPath(dir, name), data);

      const scan = await scanSegments(fs, dir, [name]);
      expect(scan.records.map((r) => r.type)).toEqual([REC.Crc, REC.Metadata, REC.Snapshot, REC.Entry, REC.Entry]);
      expect(scan.end).toBeInstanceOf(UnexpectedEofError);
      expect((scan.end as UnexpectedEofError).code).toBe('WAL_UNEXPECTED_EOF');
      expect((scan.end as UnexpectedEofError).etcdMessage).toBe('unexpected EOF');
      expect((scan.end as UnexpectedEofError).location).toEqual({ file: name, offset: offsets[5] });

      const w = await Wal.open(fs, dir, ZERO);
      await expectWalError(w.readAll(), 'WAL_UNEXPECTED_EOF', 'unexpected EOF');
      await w.close();
      // Read mode tolerates it and returns what precedes it.
      const r = await Wal.openForRead(fs, dir, ZERO);
      const got = await r.readAll();
      await r.close();
      expect(got.entries.map((e) => [e.index, e.type, Buffer.from(e.data!).toString()])).toEqual([
        [1n, 0, 'waldata1'],
        [2n, 0, 'waldata2'],
      ]);
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// record_test.go: the decoder on hand-made frames
// -------------------------------------------------------------------------------------------------

function recordTests(factory: WalSuiteFactory): void {
  it(
    'TestReadRecord: a legacy unpadded record decodes; empty is EOF; truncations are WAL_UNEXPECTED_EOF; a changed data byte is WAL_CRC_MISMATCH',
    withFixture(factory, async ({ fs, dir }) => {
      const infoData = hex('08 ef fd 02');
      const infoRecord = hex('0e 00 00 00 00 00 00 00  08 01 10 99 b5 e4 d0 03 1a 04  08 ef fd 02');
      // The same bytes from the format rules: a legacy (unpadded) frame of Record{1, crc, infoData}.
      const crc = new FrameBuilder().add(REC.Metadata, infoData).crc;
      expect(toHex(frame(recordBytes(REC.Metadata, crc, infoData), true))).toBe(toHex(infoRecord));
      const bad = infoRecord.slice();
      bad[bad.length - 1] = 'a'.charCodeAt(0);

      const cases: { name: string; data: Uint8Array; want: 'ok' | 'eof' | 'WAL_UNEXPECTED_EOF' | 'WAL_CRC_MISMATCH' }[] = [
        { name: 'full', data: infoRecord, want: 'ok' },
        { name: 'empty', data: new Uint8Array(0), want: 'eof' },
        { name: 'cut14', data: infoRecord.subarray(0, 14), want: 'WAL_UNEXPECTED_EOF' },
        { name: 'nodata-1', data: infoRecord.subarray(0, infoRecord.length - infoData.length - 1), want: 'WAL_UNEXPECTED_EOF' },
        { name: 'nodata', data: infoRecord.subarray(0, infoRecord.length - infoData.length), want: 'WAL_UNEXPECTED_EOF' },
        { name: 'minus8', data: infoRecord.subarray(0, infoRecord.length - 8), want: 'WAL_UNEXPECTED_EOF' },
        { name: 'partial-word', data: infoRecord.subarray(0, 5), want: 'WAL_UNEXPECTED_EOF' },
        { name: 'badcrc', data: bad, want: 'WAL_CRC_MISMATCH' },
      ];
      for (const c of cases) {
        await writeFile(fs, joinPath(dir, c.name), c.data);
        const { records, end } = await scanSegments(fs, dir, [c.name]);
        if (c.want === 'ok') {
          expect(end, c.name).toBeNull();
          expect(records).toHaveLength(1);
          expect(records[0]).toMatchObject({ type: REC.Metadata, crc, offset: 0, frameBytes: 22 });
          expect(toHex(records[0]!.data!)).toBe(toHex(infoData));
        } else if (c.want === 'eof') {
          expect(end, c.name).toBeNull();
          expect(records).toEqual([]);
        } else {
          expect(records, c.name).toEqual([]);
          expect(end, c.name).toBeInstanceOf(WalError);
          expect((end as WalError).code, c.name).toBe(c.want);
          expect((end as WalError).etcdMessage, c.name).toBe(c.want === 'WAL_CRC_MISMATCH' ? 'walpb: crc mismatch' : 'unexpected EOF');
        }
      }
    }),
  );

  it(
    'TestWriteRecord: a record of type 0xABCD with "Hello world!" round-trips through the decoder; readAll and verify reject the type',
    withFixture(factory, async ({ fs, dir }) => {
      const d = ascii('Hello world!');
      const rec = new FrameBuilder().add(0xabcd, d).bytes();
      await writeFile(fs, joinPath(dir, 'rec'), rec);
      const { records, end } = await scanSegments(fs, dir, ['rec']);
      expect(end).toBeNull();
      expect(records).toHaveLength(1);
      expect(records[0]!.type).toBe(0xabcd);
      expect(Buffer.from(records[0]!.data!).toString()).toBe('Hello world!');

      // In a WAL: ReadAll and Verify fail with "unexpected block type"; ValidSnapshotEntries skips it.
      const fb = new FrameBuilder()
        .add(REC.Crc, undefined)
        .add(REC.Metadata, undefined)
        .add(REC.Snapshot, snapshotBytes(0n, 0n))
        .add(0xabcd, d);
      const wdir = joinPath(dir, 'wal');
      await fs.mkdir(wdir);
      await writeFile(fs, joinPath(wdir, seg(0n, 0n)), fb.bytes());
      const r = await Wal.openForRead(fs, wdir, ZERO);
      await expectWalError(r.readAll(), 'WAL_UNKNOWN_RECORD_TYPE', 'unexpected block type 43981');
      await r.close();
      await expectWalError(Wal.verify(fs, wdir, ZERO), 'WAL_UNKNOWN_RECORD_TYPE', 'unexpected block type 43981');
      expect((await Wal.validSnapshotEntries(fs, wdir)).map((s) => s.index)).toEqual([0n]);
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// repair_test.go
// -------------------------------------------------------------------------------------------------

function repairTests(factory: WalSuiteFactory): void {
  const makeEnts = (n: number, data?: Uint8Array) => Array.from({ length: n }, (_, i) => [ent(i + 1, 0, data)]);

  async function testRepair(
    fs: FileSystem,
    dir: string,
    ents: Entry[][],
    corrupt: (path: string, end: number) => Promise<void>,
    expectedEnts: number,
  ): Promise<void> {
    let w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
    for (const es of ents) await w.save(EMPTY_HARD_STATE, es);
    await w.close();
    const names = await segmentNames(fs, dir);
    const last = joinPath(dir, names[names.length - 1]!);
    await corrupt(last, await recordsEnd(fs, last));
    const damaged = await readFile(fs, last);

    // The WAL is broken for writing (etcd: io.ErrUnexpectedEOF); the read-only paths accept the torn tail.
    w = await Wal.open(fs, dir, ZERO);
    await expectWalError(w.readAll(), 'WAL_UNEXPECTED_EOF', 'unexpected EOF');
    await w.close();
    const ro = await Wal.openForRead(fs, dir, ZERO);
    expect((await ro.readAll()).entries.length).toBe(expectedEnts);
    await ro.close();
    expect(await Wal.verify(fs, dir, ZERO)).toEqual(EMPTY_HARD_STATE);
    expect((await Wal.validSnapshotEntries(fs, dir)).map((s) => s.index)).toEqual([0n]);

    expect(await Wal.repair(fs, dir)).toBe(true);
    const st = await fs.stat(`${last}.broken`);
    expect(st.mode).toBe(0o600);
    expect(toHex(await readFile(fs, `${last}.broken`))).toBe(toHex(damaged));

    w = await Wal.open(fs, dir, ZERO);
    expect((await w.readAll()).entries).toHaveLength(expectedEnts);
    for (let i = 1; i <= 10; i++) await w.save(EMPTY_HARD_STATE, [ent(expectedEnts + i)]);
    await w.close();

    w = await Wal.open(fs, dir, ZERO);
    const got = await w.readAll();
    await w.close();
    expect(got.entries.map((e) => e.index)).toEqual(Array.from({ length: expectedEnts + 10 }, (_, i) => BigInt(i + 1)));
    // A healthy WAL needs no repair: true, and no new backup.
    await fs.remove(`${last}.broken`);
    expect(await Wal.repair(fs, dir)).toBe(true);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.broken'))).toEqual([]);
  }

  it(
    'TestRepairTruncate: the last file cut 4 bytes short is repaired to 9 entries (backup .broken, 0600); appends follow',
    withFixture(factory, ({ fs, dir }) => testRepair(fs, dir, makeEnts(10), (p, end) => truncateFile(fs, p, end - 4), 9)),
  );

  it(
    'TestRepairWriteTearLast: records past byte 1024 zeroed (a torn last record straddling sectors): 40 entries remain',
    withFixture(factory, ({ fs, dir }) =>
      testRepair(
        fs,
        dir,
        makeEnts(50),
        async (p, end) => {
          expect(end).toBeGreaterThan(1024);
          await truncateFile(fs, p, 1024);
          await truncateFile(fs, p, end);
        },
        40,
      ),
    ),
  );

  it(
    'TestRepairWriteTearMiddle: a zeroed sector in the middle of the second 4 KiB record: 1 entry remains',
    withFixture(factory, ({ fs, dir }) => {
      const dat = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
      return testRepair(fs, dir, makeEnts(5, dat), (p) => patchFile(fs, p, 4096 + 512, new Uint8Array(512)), 1);
    }),
  );

  it(
    'TestRepairFailDeleteDir: repair of a deleted WAL directory returns false',
    withFixture(factory, async ({ fs, dir }) => {
      const wdir = joinPath(dir, 'wal');
      let w = await Wal.create(fs, wdir, undefined, { segmentSizeBytes: 64 });
      for (const es of makeEnts(50)) await w.save(EMPTY_HARD_STATE, es);
      await w.close();
      const names = await segmentNames(fs, wdir);
      expect(names.length).toBeGreaterThan(2);
      await truncateFile(fs, joinPath(wdir, names[names.length - 1]!), 20);
      w = await Wal.open(fs, wdir, ZERO);
      await expectWalError(w.readAll(), 'WAL_UNEXPECTED_EOF', 'unexpected EOF');
      await w.close();
      await fs.remove(wdir, { recursive: true });
      expect(await Wal.repair(fs, wdir)).toBe(false);
    }),
  );

  it(
    'Repair of a CRC mismatch (not a torn tail) returns false and changes nothing',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
      for (const es of makeEnts(5, ascii('some entry data'))) await w.save(EMPTY_HARD_STATE, es);
      await w.close();
      const path = joinPath(dir, seg(0n, 0n));
      const { records } = await scanSegments(fs, dir, [seg(0n, 0n)]);
      const victim = records.filter((r) => r.type === REC.Entry)[2]!;
      // A byte of the entry's data (the padding at the end of the frame is not covered by the CRC).
      const at = victim.offset + 8 + 20;
      const b = await readRange(fs, path, at, 1);
      expect(b[0]).toBe(ascii('some entry data')[2]);
      await patchFile(fs, path, at, Uint8Array.of(b[0]! ^ 0xff));
      const before = await readFile(fs, path);
      const r = await Wal.open(fs, dir, ZERO);
      await expectWalError(r.readAll(), 'WAL_CRC_MISMATCH', 'walpb: crc mismatch');
      await r.close();
      expect(await Wal.repair(fs, dir)).toBe(false);
      expect(toHex(await readFile(fs, path))).toBe(toHex(before));
      expect((await fs.readdir(dir)).sort()).toEqual([seg(0n, 0n)]);
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// file_pipeline_test.go
// -------------------------------------------------------------------------------------------------

function pipelineTests(factory: WalSuiteFactory): void {
  it(
    'TestFilePipeline: the pipeline keeps a locked, preallocated N.tmp ready (alternating 0/1); a cut takes it; close deletes it',
    withFixture(factory, async ({ fs, dir }) => {
      const bg = capturingScheduler();
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 4096, scheduler: bg.scheduler });
      try {
        await bg.settled();
        expect((await fs.stat(joinPath(dir, '0.tmp'))).size).toBe(4096);
        expect(await lockIsFree(fs, joinPath(dir, '0.tmp'))).toBe(false);
        // One save past the segment size cuts: 0.tmp becomes the new tail, 1.tmp is prepared.
        await w.save(EMPTY_HARD_STATE, [ent(1, 1, new Uint8Array(5000))]);
        await w.save(EMPTY_HARD_STATE, [ent(2, 1)]);
        await bg.settled();
        expect((await fs.readdir(dir)).sort()).toEqual([seg(0n, 0n), seg(1n, 3n), '1.tmp']);
        expect(w.lockedSegments).toEqual([seg(0n, 0n), seg(1n, 3n)]);
        expect(await lockIsFree(fs, joinPath(dir, '1.tmp'))).toBe(false);
      } finally {
        await w.close();
      }
      expect((await fs.readdir(dir)).sort()).toEqual([seg(0n, 0n), seg(1n, 3n)]);
    }),
  );

  it(
    'TestFilePipeline (crash leftover): a stale 0.tmp from a crash in the middle of a cut, with a longer head, does not leave stale records in the new segment',
    withFixture(factory, async ({ fs, dir }) => {
      let w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 4096 });
      await w.save(hs(1, 1, 1), [ent(1, 1)]);
      await w.close();
      // What a crash between the head sync and the rename of a cut leaves (etcd-wal-format.md §2.10 steps 7–8):
      // a preallocated temp file holding CRC, metadata and the State of the handle that cut.
      const head = new FrameBuilder();
      head.crc = 0x12345678;
      head.add(REC.Crc, undefined).add(REC.Metadata, undefined).add(REC.State, hex('08 01 10 01 18 01'));
      const stale = new Uint8Array(4096);
      stale.set(head.bytes());
      await writeFile(fs, joinPath(dir, '0.tmp'), stale);

      // After a restart the handle has no remembered HardState (§2.10 caveat), so its first cut writes a
      // shorter head (CRC, metadata) into the reused temp file.
      w = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: 4096 });
      await w.readAll();
      await w.save(EMPTY_HARD_STATE, [ent(2, 1, new Uint8Array(5000))]);
      await w.save(EMPTY_HARD_STATE, [ent(3, 1)]);
      expect(w.lockedSegments.at(-1)).toBe(seg(1n, 4n));
      await w.close();

      // etcd reuses the temp file without truncating it, so the stale State frame follows the new head and the
      // WAL no longer opens (a CRC mismatch that repair refuses). walnut must read it back.
      const r = await Wal.open(fs, dir, ZERO, { segmentSizeBytes: 4096 });
      try {
        const got = await r.readAll();
        expect(got.entries.map((e) => e.index)).toEqual([1n, 2n, 3n]);
        expect(got.hardState).toEqual(hs(1, 1, 1));
      } finally {
        await r.close();
      }
    }),
  );

  it(
    'TestFilePipelineFailPreallocate: a temp file whose preallocation fails (ENOSPC) fails the cut that needs it; the WAL then refuses writes (WAL_FAILED) and reopens intact',
    withFixture(factory, async ({ fs: base, dir }) => {
      const fs = new HookedFileSystem(base, {
        before: (op, path) => {
          if (op === 'allocate' && path.endsWith('.tmp')) throw fsFailure('ENOSPC', 'fallocate', path);
        },
      });
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 4096 });
      await w.save(EMPTY_HARD_STATE, [ent(1, 1, new Uint8Array(5000))]);
      await expectWalError(w.save(EMPTY_HARD_STATE, [ent(2, 1)]), 'ENOSPC', 'no space left on device');
      await expectWalError(w.save(EMPTY_HARD_STATE, [ent(3, 1)]), 'WAL_FAILED', 'wal: failed');
      await w.close();
      expect(await segmentNames(base, dir)).toEqual([seg(0n, 0n)]);
      const r = await Wal.open(base, dir, ZERO);
      const got = await r.readAll();
      expect(got.entries.map((e) => e.index)).toEqual([1n, 2n]);
      await r.save(EMPTY_HARD_STATE, [ent(3, 1)]);
      await r.close();
    }),
  );
}

// -------------------------------------------------------------------------------------------------
// fileutil: locks (TestLockAndUnlock), across processes where the backend has them
// -------------------------------------------------------------------------------------------------

function lockTests(factory: WalSuiteFactory): void {
  it(
    'TestLockAndUnlock: an open WAL excludes a second open for writing (ELOCKED) and other lockers; a blocking lock waits until it is closed',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, ascii('m'), { segmentSizeBytes: SEG });
      const tail = joinPath(dir, seg(0n, 0n));
      const h = await fs.open(tail, 'readWrite');
      try {
        await w.save(hs(1, 1, 0), [ent(1, 1)]);
        await expectWalError(Wal.open(fs, dir, ZERO), 'ELOCKED', 'fileutil: file already locked');
        await expectWalError(h.tryLock(), 'ELOCKED', 'fileutil: file already locked');
        // The failed open took nothing: the WAL keeps working.
        await w.save(hs(1, 1, 1), [ent(2, 1)]);
        const waiting = h.lock();
        expect(await stateAfter(waiting, 60)).toBe('pending');
        await w.close();
        await waiting;
        // Now the other holder excludes the WAL.
        await expectWalError(Wal.open(fs, dir, ZERO), 'ELOCKED');
        await h.unlock();
        const r = await Wal.open(fs, dir, ZERO);
        expect((await r.readAll()).entries.map((e) => e.index)).toEqual([1n, 2n]);
        await r.close();
      } finally {
        await h.close();
      }
    }),
  );

  const cp = factory.crossProcess;
  if (!cp) {
    it.skip('TestLockAndUnlock across processes: not applicable (the factory provides no crossProcess)', () => {});
    return;
  }
  it(
    'TestLockAndUnlock across processes: a segment locked by another process makes open fail with ELOCKED; an open WAL excludes the other process',
    withFixture(factory, async ({ fs, dir }) => {
      const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
      await w.save(hs(1, 1, 0), [ent(1, 1)]);
      const tail = joinPath(dir, seg(0n, 0n));
      await expectWalError(cp.holdLock(tail), 'ELOCKED');
      await w.close();
      const holder = await cp.holdLock(tail);
      try {
        await expectWalError(Wal.open(fs, dir, ZERO), 'ELOCKED');
      } finally {
        await holder.kill();
      }
      const r = await Wal.open(fs, dir, ZERO);
      expect((await r.readAll()).entries.map((e) => e.index)).toEqual([1n]);
      await r.close();
    }),
    30_000,
  );
}
