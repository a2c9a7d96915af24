// pino satisfies WalLogger: checked at compile time (this file is type-checked by `typecheck`), and at run
// time by passing a real pino logger, writing JSON lines to a capture stream, to Wal.create / Wal.open and
// to a SegmentArchiver, and reading the structured lines back.
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { SLOW_SYNC_WARNING_MS, Wal, type WalLogger } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem, SegmentArchiver } from '@walnut/fs-s3-archive';
import { DIR, entry, steppingClock } from './support.js';

// Compile-time: pino's Logger (and a child's) is assignable to WalLogger. A change on either side that
// breaks this fails `npm run typecheck`.
type Assignable<T, U> = T extends U ? true : false;
const pinoIsAWalLogger: Assignable<Logger, WalLogger> = true;
const pinoChildIsAWalLogger: Assignable<ReturnType<Logger['child']>, WalLogger> = true;

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger whose JSON lines are collected, parsed. */
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino(
    { level: 'debug', base: undefined, timestamp: false },
    { write: (s: string) => void lines.push(JSON.parse(s) as Line) },
  );
  return { logger, lines };
}

async function disk(): Promise<MemoryFileSystem> {
  const mem = new MemoryFileSystem({ seed: 5 });
  await mem.mkdir('/data', { recursive: true });
  await mem.syncDir('/');
  return mem;
}

describe('a pino logger as WalLogger', () => {
  it('type-checks as one', () => {
    expect(pinoIsAWalLogger && pinoChildIsAWalLogger).toBe(true);
  });

  it('Wal.create and Wal.open log structured lines through it: slow fdatasync, segment cuts', async () => {
    const { logger, lines } = capture();
    const fs = await disk();
    // Every sync takes 1.5 s by the injected clock.
    const clock = steppingClock(1500);
    const wal = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 8192, logger: logger.child({ component: 'wal' }), clock });
    for (let i = 1; i <= 40; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.close();

    const slow = lines.filter((l) => l.msg === 'slow fdatasync');
    expect(slow.length).toBeGreaterThan(3);
    for (const l of slow)
      expect(l).toEqual({
        level: 40,
        component: 'wal',
        took: '1500.0ms',
        expectedDuration: `${SLOW_SYNC_WARNING_MS}ms`,
        msg: 'slow fdatasync',
      });
    const cuts = lines.filter((l) => l.msg === 'created a new WAL segment');
    expect(cuts.length).toBeGreaterThan(1);
    for (const l of cuts) {
      expect(l.level).toBe(30);
      expect(l.path).toMatch(/^\/data\/wal\/[0-9a-f]{16}-[0-9a-f]{16}\.wal$/);
    }

    // Open with a fast clock: no warnings; a file the WAL ignores is logged with its path.
    lines.length = 0;
    await (await fs.open(`${DIR}/notes.txt`, 'create')).close();
    const again = await Wal.open(fs, DIR, { index: 0n, term: 0n }, { logger, clock: steppingClock(1) });
    expect((await again.readAll()).entries.length).toBe(40);
    await again.close();
    expect(lines.filter((l) => l.msg === 'slow fdatasync')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'ignored file in wal directory')).toEqual([
      { level: 40, path: `${DIR}/notes.txt`, msg: 'ignored file in wal directory' },
    ]);
  });

  it('a SegmentArchiver logs archived segments (info), uploads (debug) and a failed background round (error)', async () => {
    const { logger, lines } = capture();
    const mem = await disk();
    const store = new MemoryObjectStore();
    const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'n1/', root: '/data' });
    const wal = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 8192 });
    for (let i = 1; i <= 30; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.releaseLockTo(30n);
    const timers: (() => void)[] = [];
    const rounds: number[] = [];
    const archiver = new SegmentArchiver(fs, DIR, {
      max: wal.lockedSegments.length,
      logger: logger.child({ component: 'archive' }),
      concurrency: 1,
      timer: { setTimeout: (cb) => timers.push(cb), clearTimeout: () => {} },
      onRound: (r) => rounds.push(r.archived.length),
    });
    store.failNext(1);
    archiver.start(); // the first round fails: logged, not thrown
    for (let i = 0; i < 500 && timers.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    const failed = lines.filter((l) => l.msg === 'archive: round failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, component: 'archive', dir: DIR });
    expect(failed[0]!.error).toMatch(/unreachable/);

    timers.shift()!(); // the next round succeeds
    for (let i = 0; i < 500 && rounds.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    await archiver.stop();
    expect(rounds[0]).toBeGreaterThan(1);
    const archived = lines.filter((l) => l.msg === 'archived');
    expect(archived).toHaveLength(rounds[0]!);
    for (const l of archived) {
      expect(l).toMatchObject({ level: 30, component: 'archive', resumed: false });
      expect(l.key).toBe(`n1/wal/${String(l.path).split('/').pop()}`);
      expect(l.size).toBeGreaterThan(0);
    }
    const uploads = lines.filter((l) => l.msg === 'archive: uploaded and verified');
    expect(uploads.map((l) => l.level)).toEqual(archived.map(() => 20));
    await wal.close();
  });
});
