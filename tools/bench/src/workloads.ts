/**
 * The benchmark workloads (../shared/reference/README.md a–d, plus walnut-only e and g), for walnut on
 * fs-node, the raw disk in Node, and better-sqlite3. Each function runs one workload in this process and
 * returns its figures; the orchestrator runs each in a fresh child process. (h, archiving to S3, is in
 * archive-workload.ts.)
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Wal, type Entry } from '@walnut/wal-core';
import { NodeFileSystem } from '@walnut/fs-node';

/** fs-node as the bench runs it: `--io sync|async` reaches the child processes as WALNUT_BENCH_IO. */
export function nodeFs(): NodeFileSystem {
  const io = process.env['WALNUT_BENCH_IO'] === 'async' ? 'async' : 'sync';
  return new NodeFileSystem({ io });
}

/** One measured run. */
export interface RunResult {
  impl: string;
  workload: string;
  saves: number;
  entries: number;
  payloadBytes: number;
  seconds: number;
  entriesPerSec: number;
  savesPerSec: number;
  MBps: number;
  peakRssMB: number;
  /** The round of the run (set by the orchestrator), so ratios pair runs of the same round. */
  round?: number;
}

/** Sizes of the write workloads (etcd's, or scaled down with --quick). */
export interface WriteShape {
  saves: number;
  perSave: number;
  size: number;
  fsync: boolean;
}

export function shapeOf(workload: string, quick: boolean): WriteShape {
  switch (workload) {
    case 'a':
      return { saves: quick ? 5_000 : 100_000, perSave: 1, size: 100, fsync: true };
    case 'b':
      return { saves: quick ? 200 : 1_000, perSave: 100, size: 1024, fsync: true };
    case 'c':
      return { saves: quick ? 64 : 512, perSave: 256, size: 4096, fsync: false };
    case 'e':
      return { saves: quick ? 5_000 : 50_000, perSave: 1, size: 100, fsync: true };
    case 'c16':
      // f's small reference: 16 MiB of c's entries.
      return { saves: 16, perSave: 256, size: 4096, fsync: false };
    default:
      throw new Error(`no write shape for workload ${workload}`);
  }
}

const M64 = (1n << 64n) - 1n;
/** The reference harness's data: splitmix64 bytes from the first 8 bytes (LE) of sha256(name). */
export function pool(): Uint8Array {
  const h = createHash('sha256').update('bench-pool').digest();
  let s = h.readBigUInt64LE(0);
  const out = Buffer.allocUnsafe((1 << 20) + 8192);
  for (let i = 0; i < out.length; i += 8) {
    s = (s + 0x9e3779b97f4a7c15n) & M64;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    out.writeBigUInt64LE(z ^ (z >> 31n), i);
  }
  return out;
}

export function result(impl: string, workload: string, saves: number, entries: number, payloadBytes: number, seconds: number): RunResult {
  return {
    impl,
    workload,
    saves,
    entries,
    payloadBytes,
    seconds,
    entriesPerSec: entries / seconds,
    savesPerSec: saves / seconds,
    MBps: payloadBytes / 1e6 / seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Entries as etcd's harness makes them: data slices of the pool at (index * 4099) mod (pool − size). */
export function entriesFor(p: Uint8Array, first: number, n: number, size: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const idx = first + i;
    const off = (idx * 4099) % (p.length - size);
    out.push({ index: BigInt(idx), term: 1n, type: 0, data: p.subarray(off, off + size) });
  }
  return out;
}

/** a, b, c: sequential saves of `perSave` entries + a HardState whose commit moves every save. */
export async function walnutWrite(dir: string, workload: string, quick: boolean): Promise<RunResult> {
  const s = shapeOf(workload, quick);
  const p = pool();
  const fs = nodeFs();
  const wal = await Wal.create(fs, dir, new TextEncoder().encode('bench'), { noFsync: !s.fsync });
  let idx = 0;
  const t0 = performance.now();
  for (let i = 0; i < s.saves; i++) {
    const ents = entriesFor(p, idx + 1, s.perSave, s.size);
    idx += s.perSave;
    await wal.save({ term: 1n, vote: 1n, commit: BigInt(idx) }, ents);
  }
  const seconds = (performance.now() - t0) / 1000;
  await wal.close();
  return result('walnut', workload, s.saves, idx, idx * s.size, seconds);
}

/** e: 64 appenders, each awaiting the durability of its own 1-entry save before the next. */
export async function walnutConcurrent(dir: string, quick: boolean, appenders = 64): Promise<RunResult> {
  const s = shapeOf('e', quick);
  const p = pool();
  const wal = await Wal.create(nodeFs(), dir, new TextEncoder().encode('bench'));
  let next = 0;
  const t0 = performance.now();
  const run = async () => {
    for (;;) {
      const idx = ++next;
      if (idx > s.saves) return;
      await wal.save({ term: 1n, vote: 1n, commit: BigInt(idx) }, entriesFor(p, idx, 1, s.size));
    }
  };
  await Promise.all(Array.from({ length: appenders }, run));
  const seconds = (performance.now() - t0) / 1000;
  await wal.close();
  return result('walnut', 'e', s.saves, s.saves, s.saves * s.size, seconds);
}

/** d: openForRead + readAll of workload c's directory. */
export async function walnutRead(dir: string): Promise<RunResult> {
  const fs = nodeFs();
  syncAll(dir);
  const t0 = performance.now();
  const wal = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
  const { entries } = await wal.readAll();
  const seconds = (performance.now() - t0) / 1000;
  let bytes = 0;
  for (const e of entries) bytes += e.data?.length ?? 0;
  await wal.close();
  return result('walnut', 'd', 0, entries.length, bytes, seconds);
}

/** f: streaming replay (wal.replay) of a directory, keeping nothing: memory must stay flat. */
export async function walnutReplay(dir: string): Promise<RunResult> {
  syncAll(dir);
  const t0 = performance.now();
  const wal = await Wal.openForRead(nodeFs(), dir, { index: 0n, term: 0n });
  let entries = 0;
  let bytes = 0;
  for await (const item of wal.replay()) {
    if (item.kind === 'entry') {
      entries++;
      bytes += item.entry.data?.length ?? 0;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  await wal.close();
  return result('walnut', 'f', 0, entries, bytes, seconds);
}

/** Outside the timing: finish the writeback of c (written without fsync) so it does not compete with the read. */
function syncAll(dir: string): void {
  for (const n of readdirSync(dir)) {
    if (!n.endsWith('.wal')) continue;
    const fd = openSync(join(dir, n), 'r');
    fdatasyncSync(fd);
    closeSync(fd);
  }
}

/** Bytes walnut writes for one save of the shape (frames of the entries and the HardState record, approx.). */
function bytesPerSave(s: WriteShape): number {
  const frame = (n: number) => 8 + Math.ceil(n / 8) * 8;
  return s.perSave * frame(s.size + 24) + frame(20);
}

/** g (write): the same number of bytes per save with plain writeSync + fdatasyncSync into a growing file. */
export function rawWrite(dir: string, workload: string, quick: boolean): RunResult {
  const s = shapeOf(workload, quick);
  const buf = Buffer.alloc(bytesPerSave(s), 7);
  const fd = openSync(join(dir, 'raw.bin'), 'w');
  let pos = 0;
  const t0 = performance.now();
  for (let i = 0; i < s.saves; i++) {
    writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
    if (s.fsync) fdatasyncSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  return result('raw', workload, s.saves, s.saves * s.perSave, s.saves * s.perSave * s.size, seconds);
}

/** g (read): plain sequential 1 MiB reads of every file in `dir` (c's directory). */
export function rawRead(dir: string): RunResult {
  syncAll(dir);
  const buf = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  const t0 = performance.now();
  for (const n of readdirSync(dir).sort()) {
    if (!n.endsWith('.wal')) continue;
    const fd = openSync(join(dir, n), 'r');
    for (let pos = 0, size = statSync(join(dir, n)).size; pos < size;) {
      const r = readSync(fd, buf, 0, buf.length, pos);
      if (r <= 0) break;
      pos += r;
      bytes += r;
    }
    closeSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  return result('raw', 'd', 0, 0, bytes, seconds);
}
