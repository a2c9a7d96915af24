/**
 * {@link MemoryFileSystem}: walnut's FileSystem in memory, on memfs, with the POSIX rules memfs
 * does not enforce (rename over directories, mkdir -p over files, open of a directory).
 */
import type { FileHandle, FileStat, FileSystem, NamedFileSystem, OpenFlags, OpenOptions } from '@walnut/wal-core';
import { fsError } from './errors.js';
import { LockTable } from './lock-table.js';
import { MemoryFileHandle, type HandleContext } from './memory-file-handle.js';
import { isStrictlyInside, normalizePath, parentOf } from './path.js';
import { MemoryVolume } from './volume.js';

/** Options for {@link MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /**
   * Seed of every pseudo-random decision this file system makes (default 0). Nothing uses it yet;
   * the crash simulation will derive from it which unsynced writes and names survive a crash,
   * so that a run with the same seed repeats exactly.
   */
  readonly seed?: number | bigint;
}

const DEFAULT_FILE_MODE = 0o600;
const DEFAULT_DIR_MODE = 0o700;

/**
 * A {@link FileSystem} that keeps everything in memory, for tests and simulations.
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
 * Durability: for now every operation is immediately "durable" (there is no crash to lose it);
 * `datasync`, `sync` and `syncDir` check their target and succeed. The seeded crash model comes
 * in a later release.
 *
 * @example
 * ```ts
 * const fs = new MemoryFileSystem({ seed: 42 });
 * await fs.mkdir('/wal', { recursive: true });
 * const f = await fs.open('/wal/a', 'createExclusive');
 * await f.write(new TextEncoder().encode('hi'), 0, 2, 0);
 * await f.datasync();
 * await f.close();
 * ```
 */
export class MemoryFileSystem implements FileSystem, NamedFileSystem {
  /** Always `"memory"`. */
  readonly kind = 'memory';
  /** The seed this file system was created with, as a bigint. */
  readonly seed: bigint;
  readonly #ctx: HandleContext;

  constructor(options: MemoryFileSystemOptions = {}) {
    const seed = options.seed ?? 0n;
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new RangeError(`MemoryFileSystem: seed must be an integer, got ${seed}`);
    }
    this.seed = BigInt(seed);
    this.#ctx = { volume: new MemoryVolume(), locks: new LockTable() };
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
