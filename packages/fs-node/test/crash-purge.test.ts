/**
 * Purge across processes with a real WAL on each side (fixtures/crash-wal-holder.mjs runs the built
 * packages): another process holds the WAL open, and a purge here deletes exactly the segments that
 * process has released (releaseLockTo); once it is killed (-9), its locks are gone and a WAL reopened
 * here, owning its purger (WalOptions.purge), takes over.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Wal, formatSegmentName, purgeSegments, type PurgeResult } from '@walnut/wal-core';
import { NodeFileSystem } from '../src/index.js';
import { checkBuilt } from './crash-harness.js';

const HOLDER = fileURLToPath(new URL('./fixtures/crash-wal-holder.mjs', import.meta.url));
/** Every save cuts: segment 0 is seg(0, 0), segment k ≥ 1 is seg(k, k + 1) and holds entry k + 1. */
const CUT_EVERY_SAVE = 1;
const walSeg = (k: number) => (k === 0 ? formatSegmentName(0n, 0n) : formatSegmentName(BigInt(k), BigInt(k + 1)));
const walSegs = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => walSeg(from + k));

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'walnut-crash-purge-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The holder process: send a command, get the segments it then holds. */
function startHolder(dir: string, snapIndex: number) {
  const child = spawn(
    process.execPath,
    [HOLDER, JSON.stringify({ dir, snapIndex, snapTerm: snapIndex === 0 ? 0 : 1, segmentSizeBytes: CUT_EVERY_SAVE })],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let buffered = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    wake?.();
  });
  child.once('exit', () => wake?.());
  const held = async (): Promise<string[]> => {
    const deadline = Date.now() + 20_000;
    while (lines.length === 0) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`holder: no answer (stderr: ${stderr})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    const line = lines.shift()!;
    if (!line.startsWith('HELD ')) throw new Error(`holder: unexpected line ${line}`);
    return JSON.parse(line.slice(5)) as string[];
  };
  return {
    held,
    async command(cmd: string): Promise<string[]> {
      child.stdin.write(cmd + '\n');
      return held();
    },
    async kill(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

it('a purge here deletes only what a WAL held by another process has released; after kill -9 a reopened WAL purges the rest', async () => {
  checkBuilt();
  const fs = new NodeFileSystem();
  const dir = join(scratch, 'wal');
  const w = await Wal.create(fs, dir, undefined, { segmentSizeBytes: CUT_EVERY_SAVE });
  for (let i = 1; i <= 10; i++) await w.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [{ index: BigInt(i), term: 1n, type: 0 }]);
  await w.saveSnapshot({ index: 10n, term: 1n }); // in seg(10, 11), the tail
  await w.close();

  const holder = startHolder(dir, 0);
  try {
    expect(await holder.held()).toEqual(walSegs(0, 11));
    expect((await Wal.open(fs, dir, { index: 10n, term: 1n }).catch((e: unknown) => e)) as Error).toMatchObject({ code: 'ELOCKED' });
    // Nothing released: the oldest segment is the barrier.
    expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: [], blockedBy: walSeg(0) });

    expect(await holder.command('release 10')).toEqual(walSegs(8, 11));
    expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: walSegs(0, 8), blockedBy: walSeg(8) });

    // Entry 11 cuts seg(11, 12); a snapshot at 11 goes there; releasing to it frees seg(8, 9).
    expect(await holder.command('save 11')).toEqual(walSegs(8, 12));
    expect(await holder.command('snap 11')).toEqual(walSegs(8, 12));
    expect(await holder.command('release 11')).toEqual(walSegs(9, 12));
    expect(await purgeSegments(fs, dir, { max: 1 })).toEqual({ removed: [walSeg(8)], blockedBy: walSeg(9) });
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort()).toEqual(walSegs(9, 12));
  } finally {
    await holder.kill();
  }

  // The dead process's locks are gone. A WAL reopened at its snapshot holds seg(10, 11) on, and its own
  // purger deletes what is older, stopping at its own lock.
  const rounds: PurgeResult[] = [];
  let roundDone!: () => void;
  const firstRound = new Promise<void>((resolve) => (roundDone = resolve));
  const r = await Wal.open(
    fs,
    dir,
    { index: 11n, term: 1n },
    { segmentSizeBytes: CUT_EVERY_SAVE, purge: { max: 1, onPurge: (x) => (rounds.push(x), roundDone()) } },
  );
  await firstRound;
  expect(rounds[0]).toEqual({ removed: [walSeg(9)], blockedBy: walSeg(10) });
  const all = await r.readAll();
  expect(all.entries).toEqual([]);
  expect(all.hardState).toEqual({ term: 1n, vote: 1n, commit: 11n });
  await r.save({ term: 1n, vote: 1n, commit: 12n }, [{ index: 12n, term: 1n, type: 0 }]);
  await r.close();
  const again = await Wal.open(fs, dir, { index: 11n, term: 1n });
  expect((await again.readAll()).entries.map((e) => e.index)).toEqual([12n]);
  await again.close();
}, 60_000);
