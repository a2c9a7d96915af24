/**
 * The single gateway between {@link MemoryFileSystem} and memfs.
 *
 * Every byte written, every size change, every name created, renamed or removed and every
 * sync passes through one method of {@link MemoryVolume}. Nothing else in this package touches
 * memfs. That is deliberate: the durability model (tracking what was last synced per file and
 * per directory, and a seeded crash that reverts unsynced state) will hook in here, in one
 * place, without changing the file system or the handles.
 *
 * Methods are synchronous (memfs's sync API): the volume never reads the clock and never
 * schedules work, so the order of effects is exactly the order of calls.
 */
import { Volume } from 'memfs';
import type { FileStat, OpenFlags } from '@walnut/wal-core';
import { fsError, mapErrors } from './errors.js';

/**
 * Identity of a file's inode: stable across renames, distinct for a new file created under a
 * removed file's name (memfs reuses inode numbers, so the number alone is not enough).
 */
export type InodeIdentity = object;

/** An open memfs descriptor and the inode it refers to. */
export interface OpenedFile {
  readonly fd: number;
  readonly inode: InodeIdentity;
}

// POSIX open(2) flags as Linux numbers them; memfs interprets these numerically.
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;

const OPEN_FLAGS: Readonly<Record<OpenFlags, number>> = {
  read: O_RDONLY,
  readWrite: O_RDWR,
  create: O_RDWR | O_CREAT,
  createExclusive: O_RDWR | O_CREAT | O_EXCL,
  createTruncate: O_RDWR | O_CREAT | O_TRUNC,
};

/** See the module comment. */
export class MemoryVolume {
  readonly #vol = new Volume();

  // ---- files ----------------------------------------------------------------------------------

  /** Opens (maybe creates) a regular file. A directory fails with `EISDIR` for every flag. */
  openFile(path: string, flags: OpenFlags, mode: number, displayPath: string): OpenedFile {
    return mapErrors('open', displayPath, () => {
      const flagBits = OPEN_FLAGS[flags];
      if (flagBits === undefined) throw fsError('EINVAL', 'open', displayPath, `unknown open flags '${String(flags)}'`);
      // memfs opens a directory read-only without complaint; POSIX open(2) would too, but a
      // directory is never a valid file for this interface, so refuse it before opening
      // (after O_EXCL, which open(2) checks first).
      const existing = this.#lookup(path);
      if (existing !== undefined && flags === 'createExclusive') throw fsError('EEXIST', 'open', displayPath);
      if (existing?.isDirectory()) throw fsError('EISDIR', 'open', displayPath);
      if (existing === undefined && flags !== 'read' && flags !== 'readWrite') {
        // open(2) grants the creating call its access mode whatever the new file's permission
        // bits; memfs checks the bits, so create owner-writable, then set the requested mode.
        const fd = this.#vol.openSync(path, flagBits, mode | 0o600);
        if ((mode | 0o600) !== mode) this.#vol.fchmodSync(fd, mode);
        return { fd, inode: this.#vol._core.getFileByFd(fd).node };
      }
      const fd = this.#vol.openSync(path, flagBits, mode);
      return { fd, inode: this.#vol._core.getFileByFd(fd).node };
    });
  }

  /** Positional read; 0 at or past end of file. */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, displayPath: string): number {
    return mapErrors('read', displayPath, () => this.#vol.readSync(fd, buffer, offset, length, position));
  }

  /** Positional write, zero-filling any gap. Every data write of the volume happens here. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, displayPath: string): number {
    return mapErrors('write', displayPath, () => this.#vol.writeSync(fd, buffer, offset, length, position));
  }

  /** Sets the file's size; new bytes read as zeros. Every size change happens here. */
  setSize(fd: number, size: number, displayPath: string): void {
    mapErrors('ftruncate', displayPath, () => this.#vol.ftruncateSync(fd, size));
  }

  /** The file's size in bytes. */
  size(fd: number, displayPath: string): number {
    return mapErrors('fstat', displayPath, () => this.#vol.fstatSync(fd).size);
  }

  /** Makes the file's data (`datasync`) or data and metadata (`sync`) durable. */
  syncFile(fd: number, kind: 'datasync' | 'sync', displayPath: string): void {
    if (kind === 'datasync') mapErrors('fdatasync', displayPath, () => this.#vol.fdatasyncSync(fd));
    else mapErrors('fsync', displayPath, () => this.#vol.fsyncSync(fd));
  }

  /** Releases the descriptor. */
  closeFile(fd: number, displayPath: string): void {
    mapErrors('close', displayPath, () => this.#vol.closeSync(fd));
  }

  // ---- namespace ------------------------------------------------------------------------------

  /** Kind, size and permission bits, or `undefined` if nothing is at `path`. */
  tryStat(path: string, displayPath: string): FileStat | undefined {
    const node = mapErrors('stat', displayPath, () => this.#lookup(path));
    if (node === undefined) return undefined;
    const st = mapErrors('stat', displayPath, () => this.#vol.statSync(path));
    return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory(), mode: st.mode & 0o777 };
  }

  /** Names in a directory. */
  readdir(path: string, displayPath: string): string[] {
    return mapErrors('scandir', displayPath, () => (this.#vol.readdirSync(path) as unknown[]).map((n) => String(n)));
  }

  /** Creates one directory; its parent must exist. */
  makeDir(path: string, mode: number, displayPath: string): void {
    mapErrors('mkdir', displayPath, () => this.#vol.mkdirSync(path, { mode }));
  }

  /** Removes a name that is not a directory. */
  removeFile(path: string, displayPath: string): void {
    mapErrors('unlink', displayPath, () => this.#vol.unlinkSync(path));
  }

  /** Removes an empty directory (`ENOTEMPTY` otherwise). */
  removeDir(path: string, displayPath: string): void {
    mapErrors('rmdir', displayPath, () => this.#vol.rmdirSync(path));
  }

  /** Removes a directory and everything below it. */
  removeTree(path: string, displayPath: string): void {
    mapErrors('rm', displayPath, () => this.#vol.rmSync(path, { recursive: true }));
  }

  /**
   * Moves `from` to `to` in one step. The caller has checked the POSIX rules; with
   * `replaceEmptyDir` the (empty) directory at `to` is removed first, as rename(2) replaces it.
   */
  rename(from: string, to: string, replaceEmptyDir: boolean, displayPath: string): void {
    mapErrors('rename', displayPath, () => {
      if (replaceEmptyDir) this.#vol.rmdirSync(to);
      this.#vol.renameSync(from, to);
    });
  }

  /** Makes a directory's entries durable. The caller has checked that `path` is a directory. */
  syncDir(_path: string): void {
    // Nothing to do until the durability model tracks which names were last synced.
  }

  /** The memfs node at `path` (following nothing: the volume has no symlinks), if any. */
  #lookup(path: string): { isDirectory(): boolean } | undefined {
    try {
      return this.#vol.lstatSync(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
