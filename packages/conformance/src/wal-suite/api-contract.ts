/**
 * walnut's API contract beyond etcd's tests (DESIGN §3): typed errors for misuse (a second writer, a
 * read-only or closed WAL), exact uint64 values, operations taking effect in call order whether awaited
 * or not, group commit (concurrent saves share datasyncs and none resolves before its bytes are durable),
 * and a failing datasync poisoning the WAL until it is reopened.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_HARD_STATE, Wal, WalError, basenamePath, formatSegmentName, joinPath, type Entry } from '@walnut/wal-core';
import type { WalSuiteFactory } from './support.js';
import {
  HookedFileSystem,
  REC,
  ascii,
  concat,
  expectWalError,
  fastBytes,
  fsFailure,
  readFile,
  scanSegments,
  segmentNames,
  sleep,
  withFixture,
} from './wal-test-kit.js';

const SEG = 1024 * 1024;
const ZERO = { index: 0n, term: 0n };
const U64_MAX = (1n << 64n) - 1n;
/** An etcd member id above 2^53 (etcd-wal-format.md: vote holds member ids). */
const BIG_VOTE = 10351854194737052131n;

const ent = (index: bigint | number, term: bigint | number, data?: Uint8Array): Entry =>
  data === undefined ? { index: BigInt(index), term: BigInt(term), type: 0 } : { index: BigInt(index), term: BigInt(term), type: 0, data };

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle));
}

export function apiContractTests(factory: WalSuiteFactory): void {
  describe('walnut API contract', () => {
    it(
      'a second Wal.open of an open WAL fails with ELOCKED; openForRead still reads it',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, ascii('meta'), { segmentSizeBytes: SEG });
        try {
          await w.save({ term: 1n, vote: 1n, commit: 1n }, [ent(1, 1)]);
          const e = await expectWalError(Wal.open(fs, dir, ZERO), 'ELOCKED', 'fileutil: file already locked');
          expect(e.message).toContain(formatSegmentName(0n, 0n));
          const r = await Wal.openForRead(fs, dir, ZERO);
          expect((await r.readAll()).entries.map((x) => x.index)).toEqual([1n]);
          await r.close();
        } finally {
          await w.close();
        }
      }),
    );

    it(
      'writing needs a writable WAL: openForRead → WAL_NOT_WRITABLE; open before readAll → WAL_NOT_WRITABLE',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        await w.save({ term: 1n, vote: 0n, commit: 0n }, [ent(1, 1)]);
        await w.close();

        const r = await Wal.openForRead(fs, dir, ZERO);
        await expectWalError(r.save({ term: 1n, vote: 0n, commit: 1n }, [ent(2, 1)]), 'WAL_NOT_WRITABLE', 'wal: not writable');
        await r.readAll();
        await expectWalError(r.save({ term: 1n, vote: 0n, commit: 1n }, [ent(2, 1)]), 'WAL_NOT_WRITABLE');
        await expectWalError(r.saveSnapshot({ index: 1n, term: 1n }), 'WAL_NOT_WRITABLE');
        await expectWalError(r.sync(), 'WAL_NOT_WRITABLE');
        await r.close();

        const o = await Wal.open(fs, dir, ZERO);
        await expectWalError(o.save({ term: 1n, vote: 0n, commit: 1n }, [ent(2, 1)]), 'WAL_NOT_WRITABLE', 'wal: not writable');
        await expectWalError(o.saveSnapshot({ index: 1n, term: 1n }), 'WAL_NOT_WRITABLE');
        await o.readAll();
        await o.save({ term: 1n, vote: 0n, commit: 1n }, [ent(2, 1)]);
        await o.close();
      }),
    );

    it(
      'operations after close fail with WAL_CLOSED; close is idempotent',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        await w.close();
        await w.close();
        await expectWalError(w.save({ term: 1n, vote: 0n, commit: 0n }, [ent(1, 1)]), 'WAL_CLOSED', 'wal: closed');
        await expectWalError(w.saveSnapshot({ index: 1n, term: 1n }), 'WAL_CLOSED');
        await expectWalError(w.sync(), 'WAL_CLOSED');
        await expectWalError(w.readAll(), 'WAL_CLOSED');
        await expectWalError(w.releaseLockTo(1n), 'WAL_CLOSED');
        const r = await Wal.openForRead(fs, dir, ZERO);
        await r.close();
        await expectWalError(r.readAll(), 'WAL_CLOSED');
      }),
    );

    it(
      'invalid arguments are typed errors and write nothing: negative or > 2^64-1 values, non-bigint indexes',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        try {
          await expectWalError(w.save({ term: -1n, vote: 0n, commit: 0n }, []), 'WAL_INVALID_ARGUMENT');
          await expectWalError(w.save(EMPTY_HARD_STATE, [ent(1n << 64n, 1)]), 'WAL_INVALID_ARGUMENT');
          await expectWalError(w.save(EMPTY_HARD_STATE, [{ index: 1 as never, term: 1n, type: 0 }]), 'WAL_INVALID_ARGUMENT');
          await expectWalError(w.releaseLockTo(-1n), 'WAL_INVALID_ARGUMENT');
          await expectWalError(Wal.open(fs, dir, { index: -1n, term: 0n }), 'WAL_INVALID_ARGUMENT');
          await w.save({ term: 1n, vote: 0n, commit: 0n }, [ent(1, 1)]);
        } finally {
          await w.close();
        }
        const { records } = await scanSegments(fs, dir, [formatSegmentName(0n, 0n)]);
        expect(records.map((r) => r.type)).toEqual([REC.Crc, REC.Metadata, REC.Snapshot, REC.Entry, REC.State]);
      }),
    );

    it(
      'uint64 values above 2^53 round-trip exactly: vote 10351854194737052131, indexes and terms near 2^64-1, ConfState ids',
      withFixture(factory, async ({ fs, dir }) => {
        const confState = {
          voters: [BIG_VOTE, U64_MAX],
          learners: [(1n << 53n) + 1n],
          votersOutgoing: [1n << 63n],
          learnersNext: [U64_MAX - 1n],
          autoLeave: true,
        };
        const snap = { index: U64_MAX - 5n, term: U64_MAX - 1n, confState };
        const state = { term: U64_MAX, vote: BIG_VOTE, commit: U64_MAX - 5n };
        const ents = [
          ent(U64_MAX - 4n, U64_MAX - 1n),
          ent(U64_MAX - 3n, U64_MAX - 1n, ascii('x')),
          ent(U64_MAX - 2n, U64_MAX),
          ent(U64_MAX - 1n, U64_MAX, new Uint8Array(0)),
        ];
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        await w.saveSnapshot(snap);
        await w.save(state, ents);
        await w.close();
        expect(await Wal.verify(fs, dir, snap)).toEqual(state);
        const r = await Wal.open(fs, dir, snap);
        const got = await r.readAll();
        await r.close();
        expect(got.hardState).toEqual(state);
        expect(got.entries.map((e) => [e.index, e.term, e.data === undefined ? null : Buffer.from(e.data).toString()])).toEqual([
          [U64_MAX - 4n, U64_MAX - 1n, null],
          [U64_MAX - 3n, U64_MAX - 1n, 'x'],
          [U64_MAX - 2n, U64_MAX, null],
          [U64_MAX - 1n, U64_MAX, ''],
        ]);
        const snaps = await Wal.validSnapshotEntries(fs, dir);
        expect(snaps[snaps.length - 1]).toEqual(snap);
      }),
    );

    it(
      'segment names near 2^64-1: a cut after index 2^64-2 is named ...-ffffffffffffffff.wal and the WAL reopens at any of its snapshots',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 1 });
        const base = U64_MAX - 10n;
        await w.saveSnapshot({ index: base, term: 7n });
        await w.save({ term: 7n, vote: BIG_VOTE, commit: base }, [ent(base + 1n, 7n), ent(base + 2n, 7n)]);
        await w.saveSnapshot({ index: base + 2n, term: 7n });
        await w.save(
          EMPTY_HARD_STATE,
          Array.from({ length: 6 }, (_, i) => ent(base + 3n + BigInt(i), 7n)),
        );
        await w.close();
        expect(await segmentNames(fs, dir)).toEqual([
          formatSegmentName(0n, 0n),
          formatSegmentName(1n, base + 3n),
          formatSegmentName(2n, U64_MAX - 1n),
        ]);
        const r = await Wal.open(fs, dir, { index: base + 2n, term: 7n }, { segmentSizeBytes: 1 });
        const got = await r.readAll();
        expect(got.entries.map((e) => e.index)).toEqual(Array.from({ length: 6 }, (_, i) => base + 3n + BigInt(i)));
        await r.save(EMPTY_HARD_STATE, [ent(U64_MAX - 1n, 8n)]);
        await r.close();
        expect((await segmentNames(fs, dir)).at(-1)).toBe(formatSegmentName(3n, U64_MAX));
        const again = await Wal.openForRead(fs, dir, { index: base, term: 7n });
        expect((await again.readAll()).entries.at(-1)).toEqual(ent(U64_MAX - 1n, 8n));
        await again.close();
      }),
    );

    it(
      'segment names at the uint64 limit: a cut after an entry at index 2^64-1 never writes an unparsable name (etcd: index wraps to 0, 0000000000000002-0000000000000000.wal)',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 1 });
        try {
          await w.saveSnapshot({ index: U64_MAX - 2n, term: 1n });
          await w.save({ term: 1n, vote: 1n, commit: U64_MAX - 2n }, [ent(U64_MAX - 1n, 1)]);
          expect(await segmentNames(fs, dir)).toEqual([formatSegmentName(0n, 0n), formatSegmentName(1n, U64_MAX)]);
          // The next cut's name index is enti + 1 = 2^64: Go's uint64 arithmetic makes it 0.
          let rejected: unknown;
          await w.save(EMPTY_HARD_STATE, [ent(U64_MAX, 1)]).catch((e: unknown) => (rejected = e));
          const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
          for (const n of names) expect(n, 'every segment name parses back').toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/);
          if (rejected === undefined) {
            expect(names.sort()).toEqual([formatSegmentName(0n, 0n), formatSegmentName(1n, U64_MAX), formatSegmentName(2n, 0n)]);
          } else {
            // Refusing is acceptable too, as a typed error that leaves the WAL as it was.
            expect(rejected).toBeInstanceOf(WalError);
            expect(names.sort()).toEqual([formatSegmentName(0n, 0n), formatSegmentName(1n, U64_MAX)]);
          }
        } finally {
          await w.close().catch(() => {});
        }
      }),
    );

    it(
      'write mode after "snapshot not found" (walnut §8): readAll reports WAL_SNAPSHOT_NOT_FOUND with the data read, and the WAL refuses appends',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        await w.save({ term: 1n, vote: 1n, commit: 1n }, [ent(1, 1), ent(2, 1)]);
        await w.close();
        const o = await Wal.open(fs, dir, { index: 1n, term: 1n });
        const e = await expectWalError(o.readAll(), 'WAL_SNAPSHOT_NOT_FOUND', 'wal: snapshot not found');
        expect((e as unknown as { partial: { entries: Entry[] } }).partial.entries.map((x) => x.index)).toEqual([2n]);
        await expectWalError(o.save({ term: 1n, vote: 1n, commit: 2n }, [ent(3, 1)]), 'WAL_NOT_WRITABLE');
        await o.close();
        const r = await Wal.openForRead(fs, dir, { index: 1n, term: 2n });
        await expectWalError(r.readAll(), 'WAL_SNAPSHOT_NOT_FOUND');
        await r.close();
        await expectWalError(Wal.verify(fs, dir, { index: 1n, term: 1n }), 'WAL_SNAPSHOT_NOT_FOUND', 'wal: snapshot not found');
      }),
    );

    it(
      'a missing directory is a typed ENOENT for open, openForRead, verify and validSnapshotEntries; repair returns false',
      withFixture(factory, async ({ fs, dir }) => {
        const missing = joinPath(dir, 'nope');
        await expectWalError(Wal.open(fs, missing, ZERO), 'ENOENT');
        await expectWalError(Wal.openForRead(fs, missing, ZERO), 'ENOENT');
        await expectWalError(Wal.verify(fs, missing, ZERO), 'ENOENT');
        await expectWalError(Wal.validSnapshotEntries(fs, missing), 'ENOENT');
        expect(await Wal.repair(fs, missing)).toBe(false);
      }),
    );

    it(
      'a failing write (EIO) poisons the WAL: the save rejects with it, later writes with WAL_FAILED; a reopen reads what was durable',
      withFixture(factory, async ({ fs: base, dir }) => {
        let failing = false;
        const fs = new HookedFileSystem(base, {
          before: (op, path) => {
            if (failing && op === 'write') throw fsFailure('EIO', 'write', path);
          },
        });
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        await w.save({ term: 1n, vote: 1n, commit: 0n }, [ent(1, 1)]);
        failing = true;
        await expectWalError(w.save({ term: 1n, vote: 1n, commit: 1n }, [ent(2, 1)]), 'EIO', 'input/output error');
        failing = false;
        await expectWalError(w.save({ term: 1n, vote: 1n, commit: 1n }, [ent(2, 1)]), 'WAL_FAILED');
        await w.close();
        const r = await Wal.open(fs, dir, ZERO);
        expect((await r.readAll()).entries.map((x) => x.index)).toEqual([1n]);
        await r.save({ term: 1n, vote: 1n, commit: 1n }, [ent(2, 1)]);
        await r.close();
      }),
    );

    it(
      'noFsync (etcd --unsafe-no-fsync): no datasync of segments, but the data reaches the file system and the directory syncs of create and cut still happen',
      withFixture(factory, async ({ fs: base, dir }) => {
        const fs = new HookedFileSystem(base);
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 4096, noFsync: true });
        for (let i = 1; i <= 8; i++) await w.save({ term: 1n, vote: 1n, commit: BigInt(i - 1) }, [ent(i, 1, new Uint8Array(1000))]);
        // Visible to a reader while the writer is still open: saves flushed their bytes.
        const r = await Wal.openForRead(fs, dir, ZERO);
        expect((await r.readAll()).entries.map((e) => e.index)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
        await r.close();
        await w.close();
        expect((await segmentNames(base, dir)).length).toBeGreaterThan(1);
        const ops = fs.events.filter((e) => e.phase === 'end');
        expect(ops.filter((e) => e.op === 'datasync').length, 'datasyncs').toBe(0);
        const dirSyncs = ops.filter((e) => e.op === 'syncDir');
        expect(dirSyncs.length, 'directory syncs: the parent at create, the WAL directory at each cut').toBeGreaterThanOrEqual(2);
      }),
    );

    it(
      'observability: metrics (syncDuration, bytesWritten, segmentCut) and the slow-datasync warning, through the injected clock and logger',
      withFixture(factory, async ({ fs: base, dir }) => {
        const fs = new HookedFileSystem(base);
        let t = 0;
        const clock = { now: () => (t += 1500), wallTime: () => new Date(0) };
        const warnings: string[] = [];
        const logger = {
          debug() {},
          info() {},
          warn: (_fields: Record<string, unknown>, msg: string) => void warnings.push(msg),
          error() {},
        };
        const synced: number[] = [];
        let bytes = 0;
        let cuts = 0;
        const metrics = {
          syncDuration: (s: number) => void synced.push(s),
          bytesWritten: (n: number) => void (bytes += n),
          segmentCut: () => void cuts++,
        };
        const w = await Wal.create(fs, dir, ascii('m'), { segmentSizeBytes: 4096, clock, logger, metrics });
        for (let i = 1; i <= 6; i++) await w.save({ term: 1n, vote: 1n, commit: BigInt(i - 1) }, [ent(i, 1, new Uint8Array(1500))]);
        await w.close();
        const segments = (await segmentNames(base, dir)).length;
        expect(segments).toBeGreaterThan(1);
        expect(cuts).toBe(segments - 1);
        const ends = fs.events.filter((e) => e.phase === 'end');
        // Every datasync of a segment and every directory sync is measured (etcd's wal_fsync_duration_seconds).
        expect(synced.length).toBe(ends.filter((e) => e.op === 'datasync' || e.op === 'syncDir').length);
        for (const s of synced) expect(s).toBeGreaterThan(1);
        expect(warnings.filter((m) => m === 'slow fdatasync').length).toBeGreaterThan(0);
        // Every byte handed to the file system by the append path is counted (etcd's wal_write_bytes_total).
        expect(bytes).toBe(ends.filter((e) => e.op === 'write').reduce((n, e) => n + e.length!, 0));
      }),
    );

    it(
      'calls not awaited take effect in call order (save, snapshot, overwrite, commit-only save, sync, release, close; a save after close is WAL_CLOSED)',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await Wal.create(fs, dir, ascii('order'), { segmentSizeBytes: SEG });
        const calls: Promise<unknown>[] = [
          w.save({ term: 1n, vote: 1n, commit: 0n }, [ent(1, 1), ent(2, 1), ent(3, 1)]),
          w.saveSnapshot({ index: 2n, term: 1n }),
          w.save({ term: 2n, vote: 2n, commit: 2n }, [ent(3, 2, ascii('x')), ent(4, 2)]),
          w.save({ term: 2n, vote: 2n, commit: 4n }, []),
          w.sync(),
          w.releaseLockTo(3n),
          w.close(),
          w.save({ term: 2n, vote: 2n, commit: 4n }, [ent(5, 2)]),
        ];
        const results = await Promise.allSettled(calls);
        expect(results.slice(0, 7).map((r) => r.status)).toEqual(Array(7).fill('fulfilled'));
        expect(results[7]!.status).toBe('rejected');
        expect(((results[7] as PromiseRejectedResult).reason as WalError).code).toBe('WAL_CLOSED');

        const { records } = await scanSegments(fs, dir, [formatSegmentName(0n, 0n)]);
        expect(records.map((r) => r.type)).toEqual([
          REC.Crc,
          REC.Metadata,
          REC.Snapshot,
          REC.Entry,
          REC.Entry,
          REC.Entry,
          REC.State,
          REC.Snapshot,
          REC.Entry,
          REC.Entry,
          REC.State,
          REC.State,
        ]);
        const r = await Wal.open(fs, dir, ZERO);
        const got = await r.readAll();
        await r.close();
        expect(got.hardState).toEqual({ term: 2n, vote: 2n, commit: 4n });
        expect(got.entries.map((e) => [e.index, e.term])).toEqual([
          [1n, 1n],
          [2n, 1n],
          [3n, 2n],
          [4n, 2n],
        ]);
      }),
    );

    it(
      'saves called in one tick share one datasync and land in call order; saves one after another each get their own',
      withFixture(factory, async ({ fs: base, dir }) => {
        const fs = new HookedFileSystem(base, {});
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        const datasyncs = () => fs.events.filter((e) => e.op === 'datasync' && e.phase === 'end').length;
        const before = datasyncs();
        // The first finds the WAL idle and is encoded at once; the rest join the sync it scheduled.
        await Promise.all(
          [1, 2, 3, 4, 5, 6, 7, 8].map((i) => w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [ent(i, 1, ascii(`t${i}`))])),
        );
        expect(datasyncs() - before, 'datasyncs for 8 saves in one tick').toBe(1);
        for (let i = 9; i <= 11; i++) await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [ent(i, 1, ascii(`t${i}`))]);
        expect(datasyncs() - before, 'then one per awaited save').toBe(4);
        await w.close();
        const r = await Wal.open(fs, dir, ZERO);
        const got = await r.readAll();
        await r.close();
        expect(got.entries.map((e) => new TextDecoder().decode(e.data))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => `t${i}`));
        expect(got.hardState.commit).toBe(11n);
      }),
    );

    for (const [segmentSize, what] of [
      [SEG, 'no cut'],
      [4096, 'cuts in between'],
    ] as const) {
      it(
        `group commit (${what}): 64 concurrent saves share datasyncs, and none resolves before a datasync of its segment that started after its bytes were written`,
        withFixture(factory, async ({ fs: base, dir }) => {
          // A slow datasync, so that later saves arrive while one is in flight.
          const fs = new HookedFileSystem(base, {
            before: async (op) => {
              if (op === 'datasync') await sleep(4);
            },
          });
          fs.captureWrites = true;
          const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: segmentSize });
          const from = fs.events.length;
          const marker = (i: number) => ascii(`#GC${String(i).padStart(4, '0')}#`);
          const resolvedAt: number[] = [];
          const saves: Promise<void>[] = [];
          for (let wave = 0; wave < 4; wave++) {
            for (let k = 0; k < 16; k++) {
              const i = wave * 16 + k;
              const data = concat([marker(i), fastBytes(i + 1, 40 + 5 * i)]);
              saves.push(
                w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [ent(i + 1, 1, data)]).then(() => {
                  resolvedAt[i] = fs.mark(`save ${i} resolved`);
                }),
              );
            }
            // Without cuts the next wave comes while a datasync may be in flight; with cuts it waits for this
            // wave's first save, so that the data handed to the file system has grown past the segment size.
            if (segmentSize === SEG) await sleep(1);
            else await saves[wave * 16];
          }
          await Promise.all(saves);
          const lastResolved = Math.max(...resolvedAt);
          await w.close();

          const events = fs.events.slice(from);
          const syncs: { file: string; start: number; end: number }[] = [];
          for (const e of events) {
            if (e.op !== 'datasync') continue;
            const file = basenamePath(e.path);
            if (e.phase === 'start') syncs.push({ file, start: e.seq, end: -1 });
            else if (e.phase === 'end') syncs.filter((s) => s.file === file && s.end < 0).at(-1)!.end = e.seq;
          }
          const beforeLast = syncs.filter((s) => s.end >= 0 && s.end < lastResolved);
          expect(beforeLast.length).toBeGreaterThanOrEqual(1);
          if (segmentSize === SEG) expect(beforeLast.length, 'datasyncs for 64 saves').toBeLessThanOrEqual(16);

          const files = new Map<string, Uint8Array>();
          for (const name of await segmentNames(base, dir)) files.set(name, await readFile(base, joinPath(dir, name)));
          if (segmentSize !== SEG) expect(files.size, 'segments').toBeGreaterThan(1);
          for (let i = 0; i < 64; i++) {
            const holders = [...files].filter(([, b]) => indexOf(b, marker(i)) > 0);
            expect(holders.length, `marker ${i} is in exactly one segment`).toBe(1);
            const [name, bytes] = holders[0]!;
            const at = indexOf(bytes, marker(i));
            // The last write that handed any byte of the marker to the file system.
            const covering = events.filter(
              (e) =>
                e.op === 'write' &&
                e.phase === 'end' &&
                basenamePath(e.path) === name &&
                e.position! < at + 8 &&
                e.position! + e.length! > at,
            );
            expect(covering.length, `write of save ${i}`).toBeGreaterThan(0);
            const written = Math.max(...covering.map((e) => e.seq));
            const durable = syncs.some((s) => s.file === name && s.start > written && s.end >= 0 && s.end < resolvedAt[i]!);
            expect(
              durable,
              `save ${i} (in ${name}, written at event ${written}, resolved at ${resolvedAt[i]}) resolved after a datasync that started after its write`,
            ).toBe(true);
          }
        }),
      );
    }

    it(
      'a failing datasync (EIO) rejects the pending saves; later writes fail with WAL_FAILED until the WAL is reopened',
      withFixture(factory, async ({ fs: base, dir }) => {
        let failing = false;
        const fs = new HookedFileSystem(base, {
          before: (op, path) => {
            if (failing && op === 'datasync') throw fsFailure('EIO', 'fdatasync', path);
          },
        });
        const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: SEG });
        for (let i = 1; i <= 3; i++) await w.save({ term: 1n, vote: 1n, commit: BigInt(i - 1) }, [ent(i, 1)]);
        failing = true;
        const pending = Array.from({ length: 8 }, (_, k) => w.save({ term: 1n, vote: 1n, commit: 3n }, [ent(4 + k, 1)]));
        const results = await Promise.allSettled(pending);
        for (const [k, r] of results.entries()) {
          expect(r.status, `save ${k}`).toBe('rejected');
          const reason = (r as PromiseRejectedResult).reason as WalError;
          expect(reason, `save ${k}`).toBeInstanceOf(WalError);
          expect(['EIO', 'WAL_FAILED'], `save ${k}: ${reason.message}`).toContain(reason.code);
        }
        expect(((results[0] as PromiseRejectedResult).reason as WalError).code).toBe('EIO');
        failing = false;
        // Even with a healthy disk again, the WAL refuses: the lost sync may have dropped acknowledged-to-OS data.
        const poisoned = await expectWalError(w.save({ term: 1n, vote: 1n, commit: 3n }, [ent(12, 1)]), 'WAL_FAILED', 'wal: failed');
        expect(poisoned.message).toContain('reopen');
        await expectWalError(w.saveSnapshot({ index: 1n, term: 1n }), 'WAL_FAILED');
        await expectWalError(w.sync(), 'WAL_FAILED');
        await w.close();

        const r = await Wal.open(fs, dir, ZERO);
        const got = await r.readAll();
        const indexes = got.entries.map((e) => e.index);
        expect(indexes.slice(0, 3)).toEqual([1n, 2n, 3n]);
        expect(indexes).toEqual(indexes.map((_, i) => BigInt(i + 1)));
        const next = BigInt(indexes.length + 1);
        await r.save({ term: 2n, vote: 1n, commit: next }, [ent(next, 2)]);
        await r.close();
        const again = await Wal.openForRead(fs, dir, ZERO);
        expect((await again.readAll()).entries.at(-1)).toEqual(ent(next, 2));
        await again.close();
      }),
    );
  });
}
