/**
 * Purging old segments (etcd `fileutil.PurgeFile`, etcd-wal-format.md §2.16 and §5 items 19–21): the
 * ports of etcd's TestPurgeFile and TestPurgeFileHoldingLockFile, the lock protocol with a real WAL
 * (segments it has not released are a barrier), files that are never purged (`N.tmp`, `*.wal.broken`,
 * names that are not segments), the directory sync before the locks go, a WAL-owned purger that stops
 * before the WAL releases its locks (etcd PR #11308), and a segment held by another process.
 */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_HARD_STATE,
  SegmentPurger,
  Wal,
  formatSegmentName,
  joinPath,
  purgeSegments,
  type FileSystem,
  type PurgeResult,
  type PurgeTimer,
  type WalLogger,
  type WalScheduler,
} from '@walnut/wal-core';
import type { WalSuiteFactory } from './support.js';
import { HookedFileSystem, ascii, expectWalError, fsFailure, lockIsFree, segmentNames, withFixture, writeFile } from './wal-test-kit.js';

const seg = formatSegmentName;
/** Every save cuts: one segment per saved entry. */
const CUT_EVERY_SAVE = 1;

/** A timer the test fires by hand: no real time passes in these tests. */
class ManualTimer implements PurgeTimer {
  private next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs every pending callback (as if their time had come). */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.callback();
  }
}

/** Collects what a purger reports, and lets a test wait for the next round. */
class Rounds {
  readonly results: PurgeResult[] = [];
  readonly errors: unknown[] = [];
  private waiting: (() => void)[] = [];
  readonly onPurge = (r: PurgeResult): void => {
    this.results.push(r);
    this.wake();
  };
  readonly onError = (e: unknown): void => {
    this.errors.push(e);
    this.wake();
  };
  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
  /** Resolves when `n` rounds in total have reported. */
  async until(n: number): Promise<void> {
    while (this.results.length + this.errors.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

/** A logger that keeps what it is given. */
function recordingLogger(): WalLogger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Creates empty files named like segments 0..n-1 (purge looks at names and locks, not at contents). */
async function makeSegmentFiles(fs: FileSystem, dir: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await writeFile(fs, joinPath(dir, seg(BigInt(i), BigInt(i))), new Uint8Array(0));
}

const segs = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => seg(BigInt(from + k), BigInt(from + k)));
/** Segment k of {@link walWithReleasedSegments}: seg(0, 0), then seg(k, k + 1). */
const walSeg = (k: number) => (k === 0 ? seg(0n, 0n) : seg(BigInt(k), BigInt(k + 1)));
const walSegs = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => walSeg(from + k));

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** A scheduler that keeps the background tasks (the file pipeline, purge rounds) so a test can wait for them. */
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

/**
 * A WAL whose every save cuts: entries 1..10 in segments 0..9 (segment k ≥ 1 is named index k + 1),
 * the empty tail seg(10, 11) holding a snapshot at index 10, and releaseLockTo(10): the WAL then holds
 * seg(8, 9), seg(9, 10) and the tail, and segments 0..7 are released.
 */
async function walWithReleasedSegments(fs: FileSystem, dir: string, options: Parameters<typeof Wal.create>[3] = {}): Promise<Wal> {
  const w = await Wal.create(fs, dir, ascii('purge'), { segmentSizeBytes: CUT_EVERY_SAVE, ...options });
  for (let i = 1; i <= 10; i++) {
    await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [{ index: BigInt(i), term: 1n, type: 0, data: ascii(`e${i}`) }]);
  }
  await w.saveSnapshot({ index: 10n, term: 1n });
  await w.releaseLockTo(10n);
  expect(w.lockedSegments).toEqual(walSegs(8, 11));
  return w;
}

const SNAP10 = { index: 10n, term: 1n };

export function purgeTests(factory: WalSuiteFactory): void {
  describe('purge (etcd PurgeFile)', () => {
    it(
      'TestPurgeFile: keeps the newest max segments, round after round as new segments appear',
      withFixture(factory, async ({ fs, dir }) => {
        await makeSegmentFiles(fs, dir, 0, 5);
        const timer = new ManualTimer();
        const rounds = new Rounds();
        const purger = new SegmentPurger(fs, dir, { max: 3, intervalMs: 7, timer, onPurge: rounds.onPurge, onError: rounds.onError });
        purger.start();
        await rounds.until(1);
        expect(rounds.results[0]).toEqual({ removed: segs(0, 2) });
        expect(await segmentNames(fs, dir)).toEqual(segs(2, 5));
        // The next round waits for the interval, measured from the end of the round.
        expect([...timer.pending.values()].map((t) => t.ms)).toEqual([7]);

        for (let i = 5; i < 10; i++) {
          await makeSegmentFiles(fs, dir, i, i + 1);
          timer.fire();
          await rounds.until(i - 3);
          expect(await segmentNames(fs, dir)).toEqual(segs(i - 2, i + 1));
        }
        expect(rounds.errors).toEqual([]);
        await purger.stop();
        expect(timer.pending.size).toBe(0);
      }),
    );

    it(
      'TestPurgeFileHoldingLockFile: a locked segment is a barrier (nothing newer is tried) until it is released',
      withFixture(factory, async ({ fs, dir }) => {
        await makeSegmentFiles(fs, dir, 0, 10);
        const holder = await fs.open(joinPath(dir, seg(5n, 5n)), 'readWrite');
        await holder.tryLock();
        const logger = recordingLogger();
        const timer = new ManualTimer();
        const rounds = new Rounds();
        const purger = new SegmentPurger(fs, dir, { max: 3, timer, logger, onPurge: rounds.onPurge, onError: rounds.onError });
        try {
          purger.start();
          await rounds.until(1);
          expect(rounds.results[0]).toEqual({ removed: segs(0, 5), blockedBy: seg(5n, 5n) });
          expect(await segmentNames(fs, dir)).toEqual(segs(5, 10));
          const warn = logger.lines.filter((l) => l.level === 'warn');
          expect(warn.map((l) => l.msg)).toEqual(['failed to lock file']);
          expect(warn[0]!.fields.path).toBe(joinPath(dir, seg(5n, 5n)));
          expect(logger.lines.filter((l) => l.msg === 'purged').map((l) => l.fields.path)).toEqual(segs(0, 5).map((n) => joinPath(dir, n)));

          // Still held: the next round is blocked at the same place and deletes nothing.
          timer.fire();
          await rounds.until(2);
          expect(rounds.results[1]).toEqual({ removed: [], blockedBy: seg(5n, 5n) });

          await holder.close();
          timer.fire();
          await rounds.until(3);
          expect(rounds.results[2]).toEqual({ removed: segs(5, 7) });
          expect(await segmentNames(fs, dir)).toEqual(segs(7, 10));
        } finally {
          await purger.stop();
          await holder.close();
        }
      }),
    );

    it(
      'with a WAL: deletes only the segments releaseLockTo released; the WAL keeps appending and reopens at its snapshot',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await walWithReleasedSegments(fs, dir);
        try {
          // Nothing released yet beyond 0..7; max 1 would take everything else, but the WAL's locks stop it.
          expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: walSegs(0, 8), blockedBy: walSeg(8) });
          expect(await segmentNames(fs, dir)).toEqual(walSegs(8, 11));
          // A max that keeps more than the WAL holds deletes nothing.
          expect(await purgeSegments(fs, dir, { max: 3 })).toEqual({ removed: [] });

          // Entry 11 goes to seg(10, 11) and cuts seg(11, 12); releaseLockTo(11) lets seg(8, 9) go.
          await w.save({ term: 1n, vote: 1n, commit: 11n }, [{ index: 11n, term: 1n, type: 0, data: ascii('e11') }]);
          await w.releaseLockTo(11n);
          expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: [walSeg(8)], blockedBy: walSeg(9) });
        } finally {
          await w.close();
        }
        expect(await segmentNames(fs, dir)).toEqual(walSegs(9, 12));
        const r = await Wal.open(fs, dir, SNAP10);
        const all = await r.readAll();
        expect(all.entries.map((e) => e.index)).toEqual([11n]);
        expect(all.hardState).toEqual({ term: 1n, vote: 1n, commit: 11n });
        await r.save(EMPTY_HARD_STATE, [{ index: 12n, term: 1n, type: 0 }]);
        await r.close();
      }),
    );

    it(
      'never deletes N.tmp, *.wal.broken or names that are not segments (etcd would delete "backup.wal"), even with max 1',
      withFixture(factory, async ({ fs, dir }) => {
        await makeSegmentFiles(fs, dir, 0, 4);
        const others = ['0.tmp', '1.tmp', `${seg(0n, 0n)}.broken`, `${seg(3n, 3n)}.broken`, 'backup.wal', 'notes.txt', 'wal'];
        for (const n of others) await writeFile(fs, joinPath(dir, n), ascii(n));
        expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: segs(0, 3) });
        expect((await fs.readdir(dir)).sort()).toEqual([...others, seg(3n, 3n)].sort());
      }),
    );

    it(
      'a live WAL: its pipeline temp file and its tail survive, and repair backups are kept',
      withFixture(factory, async ({ fs, dir }) => {
        const { scheduler, settled } = capturingScheduler();
        const w = await walWithReleasedSegments(fs, dir, { scheduler });
        try {
          await settled();
          await writeFile(fs, joinPath(dir, `${walSeg(2)}.broken`), ascii('backup'));
          const before = (await fs.readdir(dir)).filter((n) => !n.endsWith('.wal')).sort();
          expect(before.filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
          expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: walSegs(0, 8), blockedBy: walSeg(8) });
          const after = (await fs.readdir(dir)).sort();
          expect(after.filter((n) => !n.endsWith('.wal'))).toEqual(before);
          expect(after).toContain(walSeg(10));
          // The WAL still cuts into the pipeline's file.
          await w.save(EMPTY_HARD_STATE, [{ index: 11n, term: 1n, type: 0 }]);
          expect(w.lockedSegments).toEqual(walSegs(8, 12));
        } finally {
          await w.close();
        }
      }),
    );

    it(
      'removes each segment under its lock, syncing the directory after each removal (oldest first: a crash leaves no gap), then lets the locks go',
      withFixture(factory, async ({ fs: inner, dir }) => {
        await makeSegmentFiles(inner, dir, 0, 5);
        const fs = new HookedFileSystem(inner);
        fs.logged = new Set(['tryLock', 'remove', 'syncDir', 'close']);
        expect(await purgeSegments(fs, dir, { max: 2 })).toEqual({ removed: segs(0, 3) });
        const trace = fs.events.filter((e) => e.phase === 'end').map((e) => `${e.op} ${e.path.slice(dir.length + 1)}`);
        expect(trace).toEqual([
          `tryLock ${seg(0n, 0n)}`,
          `remove ${seg(0n, 0n)}`,
          'syncDir ',
          `tryLock ${seg(1n, 1n)}`,
          `remove ${seg(1n, 1n)}`,
          'syncDir ',
          `tryLock ${seg(2n, 2n)}`,
          `remove ${seg(2n, 2n)}`,
          'syncDir ',
          `close ${seg(0n, 0n)}`,
          `close ${seg(1n, 1n)}`,
          `close ${seg(2n, 2n)}`,
        ]);
      }),
    );

    it(
      'a failure is thrown after syncing what was removed and closing every handle; a segment removed meanwhile counts as gone',
      withFixture(factory, async ({ fs: inner, dir }) => {
        await makeSegmentFiles(inner, dir, 0, 6);
        const fs = new HookedFileSystem(inner);
        fs.logged = new Set(['remove', 'syncDir', 'close']);
        fs.hooks.before = (op, path) => {
          if (op === 'remove' && path.endsWith(seg(2n, 2n))) throw fsFailure('EIO', 'unlink', path);
          if (op === 'open' && path.endsWith(seg(0n, 0n))) return inner.remove(path); // someone else purged it
        };
        await expectWalError(purgeSegments(fs, dir, { max: 1 }), 'EIO');
        const ends = fs.events.filter((e) => e.phase === 'end').map((e) => `${e.op} ${e.path.slice(dir.length + 1)}`);
        expect(ends).toEqual([`remove ${seg(1n, 1n)}`, 'syncDir ', `close ${seg(1n, 1n)}`, `close ${seg(2n, 2n)}`]);
        expect(await lockIsFree(inner, joinPath(dir, seg(2n, 2n)))).toBe(true);
        fs.hooks.before = undefined;
        // seg 0 vanished, so only four are left to count: the next round keeps the newest one.
        expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: segs(2, 5) });
      }),
    );

    it(
      'rejects a max below 1, a bad interval, and a stopped purger with typed errors',
      withFixture(factory, async ({ fs, dir }) => {
        for (const max of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) {
          await expectWalError(purgeSegments(fs, dir, { max }), 'WAL_INVALID_ARGUMENT');
          expect(thrown(() => new SegmentPurger(fs, dir, { max }))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
        }
        expect(thrown(() => new SegmentPurger(fs, dir, { max: 1, intervalMs: -1 }))).toMatchObject({ code: 'WAL_INVALID_ARGUMENT' });
        // The WAL checks its purge options before it creates anything.
        await expectWalError(Wal.create(fs, joinPath(dir, 'w'), undefined, { purge: { max: 0 } }), 'WAL_INVALID_ARGUMENT');
        expect(await fs.readdir(dir)).toEqual([]);

        const timer = new ManualTimer();
        const purger = new SegmentPurger(fs, dir, { max: 1, timer });
        await purger.stop();
        await purger.stop();
        expect(purger.stopped).toBe(true);
        expect(thrown(() => purger.start())).toMatchObject({ code: 'WAL_PURGER_STOPPED' });
        await expectWalError(purger.runOnce(), 'WAL_PURGER_STOPPED');
        expect(timer.pending.size).toBe(0);
      }),
    );

    it(
      'a failing round is reported (onError, or logged "failed to purge wal file") and the loop goes on',
      withFixture(factory, async ({ fs, dir }) => {
        const missing = joinPath(dir, 'not-yet');
        const timer = new ManualTimer();
        const rounds = new Rounds();
        const purger = new SegmentPurger(fs, missing, { max: 1, timer, onPurge: rounds.onPurge, onError: rounds.onError });
        purger.start();
        await rounds.until(1);
        expect(rounds.errors).toHaveLength(1);
        expect(rounds.errors[0]).toMatchObject({ code: 'ENOENT' });
        await fs.mkdir(missing);
        await makeSegmentFiles(fs, missing, 0, 3);
        timer.fire();
        await rounds.until(2);
        expect(rounds.results).toEqual([{ removed: segs(0, 2) }]);
        await purger.stop();

        const logger = recordingLogger();
        const logged = new SegmentPurger(fs, joinPath(dir, 'absent'), { max: 1, timer, logger });
        logged.start();
        while (timer.pending.size === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        expect(logger.lines.map((l) => `${l.level} ${l.msg}`)).toEqual(['error failed to purge wal file']);
        await logged.stop();
      }),
    );

    it(
      'runOnce runs a round now, never overlapping a background round',
      withFixture(factory, async ({ fs: inner, dir }) => {
        await makeSegmentFiles(inner, dir, 0, 6);
        // Slow listings: rounds that overlapped would list the same six files and collide on their locks.
        const fs = new HookedFileSystem(inner, {
          async before(op) {
            if (op === 'readdir') await new Promise((resolve) => setTimeout(resolve, 5));
          },
        });
        const rounds = new Rounds();
        const purger = new SegmentPurger(fs, dir, { max: 4, timer: new ManualTimer(), onPurge: rounds.onPurge });
        purger.start();
        const [a, b] = await Promise.all([purger.runOnce(), purger.runOnce()]);
        await rounds.until(1);
        await purger.stop();
        // The background round took 0 and 1; the two explicit ones came after it and found nothing to do.
        expect(rounds.results).toEqual([{ removed: segs(0, 2) }]);
        expect(a).toEqual({ removed: [] });
        expect(b).toEqual({ removed: [] });
        expect(await segmentNames(inner, dir)).toEqual(segs(2, 6));
      }),
    );

    it(
      'the hazard (etcd #11308): a purge after the WAL released its locks in close deletes what the next open needs',
      withFixture(factory, async ({ fs, dir }) => {
        const w = await walWithReleasedSegments(fs, dir);
        await w.close();
        // A purger that outlives the WAL: every segment is unlocked now.
        expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: walSegs(0, 10) });
        await expectWalError(Wal.open(fs, dir, SNAP10), 'WAL_SNAPSHOT_INDEX_NOT_COVERED', 'wal: file not found');
      }),
    );

    it(
      'WalOptions.purge: the WAL purges in the background and stops its purger before releasing its locks in close',
      withFixture(factory, async ({ fs: inner, dir }) => {
        const fs = new HookedFileSystem(inner);
        const timer = new ManualTimer();
        const rounds = new Rounds();
        const w = await walWithReleasedSegments(fs, dir, {
          purge: { max: 1, intervalMs: 1000, timer, onPurge: rounds.onPurge, onError: rounds.onError },
        });
        // The round at create found one segment: nothing to do.
        await rounds.until(1);
        expect(rounds.results[0]).toEqual({ removed: [] });

        // The next round stalls on its first lock, then close is called.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let stalled!: () => void;
        const reached = new Promise<void>((resolve) => (stalled = resolve));
        fs.hooks.before = async (op, path) => {
          if (op === 'tryLock' && path.endsWith(seg(0n, 0n))) {
            stalled();
            await gate;
          }
        };
        timer.fire();
        await reached;
        let closed = false;
        const closing = w.close().then(() => (closed = true));
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(closed).toBe(false); // close waits for the running round...
        expect(w.lockedSegments).toHaveLength(3); // ...before releasing anything
        release();
        await closing;
        await rounds.until(2);
        // ...which deleted the segment it had locked and nothing after the stop.
        expect(rounds.results[1]).toEqual({ removed: [walSeg(0)] });
        expect(timer.pending.size).toBe(0);
        expect(await segmentNames(inner, dir)).toEqual(walSegs(1, 11));
        // No "wal: file not found" on reopen.
        const r = await Wal.open(inner, dir, SNAP10);
        expect((await r.readAll()).hardState).toEqual({ term: 1n, vote: 1n, commit: 10n });
        await r.close();
      }),
    );

    it(
      "WalOptions.purge after open: deletes released segments round by round, never past the WAL's locks; read-only opens never purge",
      withFixture(factory, async ({ fs, dir }) => {
        const w = await walWithReleasedSegments(fs, dir);
        await w.close();
        const ro = await Wal.openForRead(fs, dir, { index: 0n, term: 0n }, { purge: { max: 1, timer: new ManualTimer() } });
        expect((await ro.readAll()).entries).toHaveLength(10);
        await ro.close();
        expect(await segmentNames(fs, dir)).toHaveLength(11);

        const timer = new ManualTimer();
        const rounds = new Rounds();
        const o = await Wal.open(fs, dir, SNAP10, { segmentSizeBytes: CUT_EVERY_SAVE, purge: { max: 2, timer, onPurge: rounds.onPurge } });
        // Open holds seg(9, 10) (the last one at or before the snapshot) and the tail; everything older goes.
        await rounds.until(1);
        expect(rounds.results[0]).toEqual({ removed: walSegs(0, 9) });
        expect(await segmentNames(fs, dir)).toEqual(walSegs(9, 11));
        await o.readAll();
        await o.save({ term: 1n, vote: 1n, commit: 11n }, [{ index: 11n, term: 1n, type: 0 }]);
        await o.releaseLockTo(12n);
        timer.fire();
        await rounds.until(2);
        expect(rounds.results[1]).toEqual({ removed: [walSeg(9)] });
        await o.close();
        expect(await segmentNames(fs, dir)).toEqual(walSegs(10, 12));
      }),
    );

    const cp = factory.crossProcess;
    if (!cp) {
      it.skip('a segment held by another process is a barrier: not applicable (the factory provides no crossProcess)', () => {});
      return;
    }
    it(
      'a segment held by another process is a barrier until that process dies',
      withFixture(factory, async ({ fs, dir }) => {
        await makeSegmentFiles(fs, dir, 0, 8);
        const holder = await cp.holdLock(joinPath(dir, seg(3n, 3n)));
        try {
          expect(await purgeSegments(fs, dir, { max: 2 })).toEqual({ removed: segs(0, 3), blockedBy: seg(3n, 3n) });
          expect(await purgeSegments(fs, dir, { max: 2 })).toEqual({ removed: [], blockedBy: seg(3n, 3n) });
        } finally {
          await holder.kill();
        }
        expect(await purgeSegments(fs, dir, { max: 2 })).toEqual({ removed: segs(3, 6) });
        expect(await segmentNames(fs, dir)).toEqual(segs(6, 8));
      }),
      30_000,
    );
  });
}
