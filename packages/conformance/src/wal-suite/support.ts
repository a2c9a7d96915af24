/**
 * What the WAL suites share: the fixture type, locating `../shared` from the repository root,
 * moving files between the real disk and the FileSystem under test, and etcd's test data generator.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinPath, readFully, writeFully, type FileSystem } from '@walnut/wal-core';
import type { CrossProcessLocking, FileSystemSuiteFixture } from '../file-system-suite.js';

/** How a backend plugs into {@link walSuite}. */
export interface WalSuiteFactory {
  /** Names the backend in test titles. */
  readonly name: string;
  /** A file system and a fresh, empty scratch directory for one test. */
  create(): Promise<FileSystemSuiteFixture>;
  /**
   * Run the heavy cases here (64 MiB entries, hundreds of segments, many seeds). Give it to one backend:
   * they test the WAL, not the backend, and CI time is shared.
   */
  readonly heavy?: boolean;
  /** Present when locks exclude other processes (fs-node): the suite then checks ELOCKED across processes. */
  readonly crossProcess?: CrossProcessLocking;
  /**
   * For a backend with a second tier (@walnut/fs-s3-archive): called where the suite holds a WAL whose
   * older segments are released — a golden etcd directory just copied in, a round trip after
   * `releaseLockTo` — to move them there (archive them), so that the reads, verify and
   * validSnapshotEntries that follow cross both tiers. The newest segment must stay.
   */
  readonly moveReleasedSegments?: (fs: FileSystem, dir: string) => Promise<void>;
}

/** The repository root: the nearest ancestor of this file holding nx.json (never the working directory). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('walnut: cannot find the repository root (nx.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * The directory holding etcd's golden data (`testdata/etcd34/`): `$WALNUT_SHARED_DIR` when set (a backend
 * outside this repository points it at a copy of walnut's `shared/`), else `../shared` beside the
 * repository root.
 */
export function sharedDir(): string {
  const fromEnv = process.env['WALNUT_SHARED_DIR'];
  if (fromEnv) {
    const d = resolve(fromEnv);
    if (!existsSync(join(d, 'testdata', 'etcd34'))) throw new Error(`walnut: WALNUT_SHARED_DIR=${fromEnv} holds no testdata/etcd34`);
    return d;
  }
  const d = resolve(repositoryRoot(), '..', 'shared');
  if (!existsSync(d)) {
    throw new Error(`walnut: ../shared not found at ${d}; it must sit beside the repository root (or set WALNUT_SHARED_DIR)`);
  }
  return d;
}

/** The golden etcd 3.4 datasets. */
export function goldenDir(): string {
  return join(sharedDir(), 'testdata', 'etcd34');
}

/** Names of the golden datasets (directories with expected.json). */
export function goldenDatasets(): string[] {
  const base = goldenDir();
  return readdirSync(base)
    .filter((d) => statSync(join(base, d)).isDirectory() && existsSync(join(base, d, 'expected.json')))
    .sort();
}

/** Copies the regular files of a real directory into `dir` of `fs` (created). */
export async function copyIntoFs(fs: FileSystem, from: string, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const name of readdirSync(from).sort()) {
    const p = join(from, name);
    if (!statSync(p).isFile()) continue;
    await writeFile(fs, joinPath(dir, name), readFileSync(p));
  }
}

/** Writes a whole file through `fs`. */
export async function writeFile(fs: FileSystem, path: string, data: Uint8Array): Promise<void> {
  const f = await fs.open(path, 'createTruncate', { mode: 0o600 });
  try {
    await writeFully(f, data, 0, data.length, 0);
  } finally {
    await f.close();
  }
}

/** Reads a whole file through `fs`. */
export async function readFile(fs: FileSystem, path: string): Promise<Uint8Array> {
  const f = await fs.open(path, 'read');
  try {
    const size = await f.size();
    const buf = new Uint8Array(size);
    const n = await readFully(f, buf, 0, size, 0);
    return buf.subarray(0, n);
  } finally {
    await f.close();
  }
}

/** Copies every regular file of `from` to `to` within `fs`. */
export async function copyWithinFs(fs: FileSystem, from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true });
  for (const name of (await fs.readdir(from)).sort()) {
    const st = await fs.stat(joinPath(from, name));
    if (st.isFile) await writeFile(fs, joinPath(to, name), await readFile(fs, joinPath(from, name)));
  }
}

/** The harness's file listing: regular files, sorted by name, with size and sha256. */
export async function listFiles(fs: FileSystem, dir: string): Promise<{ name: string; size: number; sha256: string }[]> {
  const out = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    const st = await fs.stat(joinPath(dir, name));
    if (!st.isFile) continue;
    const b = await readFile(fs, joinPath(dir, name));
    out.push({ name, size: b.length, sha256: createHash('sha256').update(b).digest('hex') });
  }
  return out;
}

const M64 = (1n << 64n) - 1n;

/** The reference harness's data generator: splitmix64 bytes (`fill(seed, n)` in ../shared/reference/README.md). */
export function fill(seed: bigint, n: number): Uint8Array {
  let s = seed & M64;
  const out = new Uint8Array(Math.ceil(n / 8) * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < out.length; i += 8) {
    s = (s + 0x9e3779b97f4a7c15n) & M64;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    z = z ^ (z >> 31n);
    view.setBigUint64(i, z, true);
  }
  return out.subarray(0, n);
}

/** A small seeded PRNG (splitmix64) for randomized tests: no Math.random, so failures replay. */
export class SeededRandom {
  private s: bigint;
  constructor(seed: number | bigint) {
    this.s = BigInt(seed) & M64;
  }
  /** The next 64 random bits. */
  next64(): bigint {
    this.s = (this.s + 0x9e3779b97f4a7c15n) & M64;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Number(this.next64() % BigInt(n));
  }
  /** Random bytes. */
  bytes(n: number): Uint8Array {
    return fill(this.next64(), n);
  }
}
