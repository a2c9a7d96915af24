/**
 * {@link MemoryFileSystem}: walnut's FileSystem in memory, on memfs, with the POSIX rules memfs
 * does not enforce (rename over directories, mkdir -p over files, open of a directory).
 */
import type { FileHandle, FileStat, FileSystem, NamedFileSystem, OpenFlags, OpenOptions } from '@walnut/wal-core';
import { fsError } from './errors.js';
import { LockTable } from './lock-table.js';
import { MemoryFileHandle, type HandleContext } from './memory-file-handle.js';
import { isStrictlyInside, normalizePath, parentOf } from './path.js';
import { SplitMix64, deriveSeed, toSeed } from './prng.js';
import { MemoryVolume, type CrashMode } from './volume.js';

/** Options for {@link MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /**
   * Seed of every pseudo-random decision this file system makes (default 0): which unsynced writes
   * and names survive a {@link MemoryFileSystem.crash} (the n-th crash draws from a seed derived
   * from this one and n), so that a run with the same seed and the same operations repeats exactly.
   */
  readonly seed?: number | bigint;
}

/** Options for {@link MemoryFileSystem.crash}. */
export interface CrashOptions {
  /** Seed of this crash's decisions (default: derived from the file system's seed and its crash count). */
  readonly seed?: number | bigint;
  /**
   * - `random` (default): a power cut. Synced data and synced names are kept; each unsynced write is
   *   kept, dropped, or torn per 512-byte sector; each unsynced size change, create, rename and remove
   *   is kept or reverted, all decided by the seed.
   * - `durable-only`: a power cut that loses everything not yet durable (the worst case).
   * - `keep-all`: a process crash (kill -9): everything the process did survives, only its locks
   *   and handles go.
   */
  readonly mode?: CrashMode;
}

const DEFAULT_FILE_MODE = 0o600;
const DEFAULT_DIR_MODE = 0o700;

/**
 * A {@link FileSystem} that keeps everything in memory, for tests and deterministic simulations,
 * with a durability model and seeded crashes.
 *
 * Paths are absolute POSIX paths within the file system's own volume (`/wal`); a relative path
 * fails with `EINVAL`. Each instance is an independent, empty volume containing only `/`.
 *
 * Behaviour follows POSIX and Linux where the contract is silent: `rename` replaces a file
 * atomically, replaces an empty directory, and fails with `ENOTEMPTY`, `EISDIR`, `ENOTDIR` or
 * `EINVAL` as rename(2); a removed or replaced file stays readable through handles already open on
 * it; locks behave like open-file-description locks (per handle, following the inode, released on
 * close) and exclude other handles of this instance. Nothing reads the clock or `Math.random`.
 *
 * Durability: `datasync`/`sync` of any handle make the file's current contents durable; `syncDir`
 * makes the creates, renames and removes in that directory durable (a name created and never
 * dir-synced can vanish in a crash even if its data was synced). {@link MemoryFileSystem.crash}
 * returns a new file system holding what a power cut could leave; {@link MemoryFileSystem.durableState}
 * shows what is durable now.
 *
 * @example
 * ```ts
 * const fs = new MemoryFileSystem({ seed: 42 });
 * await fs.mkdir('/wal');
 * await fs.syncDir('/');
 * const f = await fs.open('/wal/a', 'createExclusive');
 * await f.write(new TextEncoder().encode('hi'), 0, 2, 0);
 * await f.datasync();
 * await fs.syncDir('/wal');
 * const after = fs.crash(); // a power cut: '/wal/a' holds 'hi' whatever the seed
 * ```
 */
export class MemoryFileSystem implements FileSystem, NamedFileSystem {
  /** Always `"memory"`. */
  readonly kind = 'memory';
  /** The seed this file system was created with, as a bigint. */
  readonly seed: bigint;
  #ctx: HandleContext;
  #crashes = 0;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.seed = toSeed(options.seed ?? 0n, 'MemoryFileSystem: seed');
    this.#ctx = { volume: new MemoryVolume(), locks: new LockTable() };
  }

  /**
   * A power cut now: returns a new file system holding what the crash left (see
   * {@link CrashOptions.mode}). Its `seed` is the crash's seed; it has no open handles and no locks,
   * and everything in it is durable. This instance is not changed and stays usable (its handles and
   * locks too), so one run can explore several crash points, or several crashes of one point.
   *
   * Deterministic: the same operations and the same crash seed give the same result. Without
   * `options.seed`, the n-th crash of this instance uses a seed derived from {@link seed} and n.
   */
  crash(options: CrashOptions = {}): MemoryFileSystem {
    this.#crashes++;
    const seed = options.seed !== undefined ? toSeed(options.seed, 'crash: seed') : deriveSeed(this.seed, this.#crashes);
    const mode = options.mode ?? 'random';
    if (mode !== 'random' && mode !== 'durable-only' && mode !== 'keep-all') throw new RangeError(`crash: unknown mode '${String(mode)}'`);
    const image = this.#ctx.volume.crashImage(mode, new SplitMix64(seed));
    const after = new MemoryFileSystem({ seed });
    after.#ctx = { volume: MemoryVolume.fromImage(image), locks: new LockTable() };
    return after;
  }

  /**
   * What is durable now, by path: `files` maps every file reachable through durable names to its
   * contents as last synced; `dirs` maps every such directory (`/` included) to its durable names,
   * sorted. This is exactly what a `durable-only` crash keeps.
   */
  durableState(): {
    /** Every file reachable through durable names, by path: its contents as last synced. */
    files: Map<string, Uint8Array>;
    /** Every directory reachable through durable names (`/` included), by path: its durable names, sorted. */
    dirs: Map<string, string[]>;
  } {
    return this.#ctx.volume.durableState();
  }

  /**
   * Fault injection hook: what Linux does after a failed fsync of the file at `path`. Its unsynced
   * data stays readable but its pages are clean: a later sync persists only the 4 KiB pages written
   * again since (and the size), a power cut loses the rest. `FaultInjectingFileSystem` calls it (or
   * the handle's `dropUnsynced`) when it fails a datasync.
   */
  dropUnsynced(path: string): void {
    const p = normalizePath(path, 'fdatasync');
    this.#ctx.volume.dropUnsyncedAt(p, path);
  }

  async open(path: string, flags: OpenFlags, options: OpenOptions = {}): Promise<FileHandle> {
    const p = normalizePath(path, 'open');
    const file = this.#ctx.volume.openFile(p, flags, options.mode ?? DEFAULT_FILE_MODE, path);
    return new MemoryFileHandle(this.#ctx, path, file, flags !== 'read');
  }

  async readdir(path: string): Promise<string[]> {
    const p = normalizePath(path, 'scandir');
    return this.#ctx.volume.readdir(p, path);
  }

  async stat(path: string): Promise<FileStat> {
    const p = normalizePath(path, 'stat');
    const st = this.#ctx.volume.tryStat(p, path);
    if (st === undefined) throw fsError('ENOENT', 'stat', path);
    return st;
  }

  async mkdir(path: string, options: { readonly recursive?: boolean; readonly mode?: number } = {}): Promise<void> {
    const p = normalizePath(path, 'mkdir');
    const mode = options.mode ?? DEFAULT_DIR_MODE;
    const volume = this.#ctx.volume;
    if (!options.recursive) {
      volume.makeDir(p, mode, path);
      return;
    }
    // memfs's own recursive mkdir succeeds over an existing file; walk the components instead,
    // as mkdir -p does: a file in the middle is ENOTDIR, a file at the end is EEXIST.
    const parts = p.split('/').filter((s) => s.length > 0);
    let current = '';
    for (let i = 0; i < parts.length; i++) {
      current += '/' + parts[i];
      const st = volume.tryStat(current, path);
      if (st === undefined) volume.makeDir(current, mode, path);
      else if (!st.isDirectory) throw fsError(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
    }
  }

  async remove(path: string, options: { readonly recursive?: boolean; readonly force?: boolean } = {}): Promise<void> {
    const p = normalizePath(path, 'rm');
    if (p === '/') throw fsError('EBUSY', 'rm', path, 'cannot remove the root of the volume');
    const volume = this.#ctx.volume;
    // rm -f ignores only a missing path: a file in the middle of the path is still ENOTDIR.
    const st = volume.tryStat(p, path);
    if (st === undefined) {
      if (options.force) return;
      throw fsError('ENOENT', 'rm', path);
    }
    if (!st.isDirectory) volume.removeFile(p, path);
    else if (options.recursive) volume.removeTree(p, path);
    else volume.removeDir(p, path);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = normalizePath(from, 'rename');
    const dst = normalizePath(to, 'rename');
    const volume = this.#ctx.volume;
    const detail = (text: string) => `${text} (rename '${from}' -> '${to}')`;
    if (src === '/' || dst === '/') throw fsError('EBUSY', 'rename', from, detail('the root of the volume cannot be renamed or replaced'));
    const srcStat = volume.tryStat(src, from);
    if (srcStat === undefined) throw fsError('ENOENT', 'rename', from, detail('no such file or directory'));
    const dstParent = volume.tryStat(parentOf(dst), to);
    if (dstParent === undefined) throw fsError('ENOENT', 'rename', to, detail('target directory does not exist'));
    if (!dstParent.isDirectory) throw fsError('ENOTDIR', 'rename', to, detail('target parent is not a directory'));
    if (src === dst) return; // rename(2): same file, nothing to do
    if (srcStat.isDirectory && isStrictlyInside(dst, src)) {
      throw fsError('EINVAL', 'rename', from, detail('cannot move a directory into itself'));
    }
    const dstStat = volume.tryStat(dst, to);
    let replaceEmptyDir = false;
    if (dstStat !== undefined) {
      if (!srcStat.isDirectory && dstStat.isDirectory) throw fsError('EISDIR', 'rename', to, detail('target is a directory'));
      if (srcStat.isDirectory && !dstStat.isDirectory) throw fsError('ENOTDIR', 'rename', to, detail('target is not a directory'));
      if (dstStat.isDirectory) {
        if (volume.readdir(dst, to).length > 0) throw fsError('ENOTEMPTY', 'rename', to, detail('target directory is not empty'));
        replaceEmptyDir = true;
      }
    }
    volume.rename(src, dst, replaceEmptyDir, from);
  }

  async syncDir(path: string): Promise<void> {
    const p = normalizePath(path, 'fsync');
    const st = this.#ctx.volume.tryStat(p, path);
    if (st === undefined) throw fsError('ENOENT', 'fsync', path);
    if (!st.isDirectory) throw fsError('ENOTDIR', 'fsync', path);
    this.#ctx.volume.syncDir(p);
  }
}
