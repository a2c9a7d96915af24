/**
 * An open file of {@link MemoryFileSystem}. Adds to memfs what POSIX promises and memfs lacks:
 * writes (and size changes) through a read-only handle fail with `EBADF`; every operation on a
 * closed handle fails with `EBADF`; `allocate` never shrinks; locks behave like OFD locks.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { FileHandle } from '@walnut/wal-core';
import { fsError, lockedError } from './errors.js';
import type { LockTable } from './lock-table.js';
import type { MemoryVolume, OpenedFile } from './volume.js';

/** Largest file the volume can hold (one Node Buffer); beyond it writes fail with `EFBIG`. */
export const MAX_FILE_SIZE = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);

/** What a handle needs from its file system. */
export interface HandleContext {
  readonly volume: MemoryVolume;
  readonly locks: LockTable;
}

/** See the module comment. Created by {@link MemoryFileSystem.open}. */
export class MemoryFileHandle implements FileHandle {
  readonly path: string;
  readonly #ctx: HandleContext;
  readonly #file: OpenedFile;
  readonly #writable: boolean;
  #closed = false;

  /** @internal */
  constructor(ctx: HandleContext, path: string, file: OpenedFile, writable: boolean) {
    this.#ctx = ctx;
    this.path = path;
    this.#file = file;
    this.#writable = writable;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.#checkOpen('read');
    this.#checkRange('read', buffer, offset, length, position);
    return this.#ctx.volume.read(this.#file, buffer, offset, length, position, this.path);
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.#checkWritable('write');
    this.#checkRange('write', buffer, offset, length, position);
    if (position + length > MAX_FILE_SIZE) throw fsError('EFBIG', 'write', this.path);
    return this.#ctx.volume.write(this.#file, buffer, offset, length, position, this.path);
  }

  async size(): Promise<number> {
    this.#checkOpen('fstat');
    return this.#ctx.volume.size(this.#file, this.path);
  }

  async truncate(size: number): Promise<void> {
    this.#checkWritable('ftruncate');
    this.#checkSize('ftruncate', size);
    this.#ctx.volume.setSize(this.#file, size, this.path);
  }

  async allocate(size: number): Promise<void> {
    this.#checkWritable('fallocate');
    this.#checkSize('fallocate', size);
    // Memory has no blocks to reserve: extending with zeros is the whole job. Never shrink.
    if (this.#ctx.volume.size(this.#file, this.path) < size) this.#ctx.volume.setSize(this.#file, size, this.path);
  }

  async datasync(): Promise<void> {
    this.#checkOpen('fdatasync');
    this.#ctx.volume.syncFile(this.#file, 'datasync', this.path);
  }

  async sync(): Promise<void> {
    this.#checkOpen('fsync');
    this.#ctx.volume.syncFile(this.#file, 'sync', this.path);
  }

  /**
   * Fault injection hook (used by `FaultInjectingFileSystem` when it fails a datasync): what Linux
   * does after a failed fsync. The unsynced data of this file stays readable but its pages are marked
   * clean: only pages written again are persisted by a later sync, and a power cut loses the rest (a
   * `keep-all` crash, the process dying, keeps it).
   */
  dropUnsynced(): void {
    this.#checkOpen('fdatasync');
    this.#ctx.volume.dropUnsynced(this.#file);
  }

  async tryLock(): Promise<void> {
    this.#checkLockable('tryLock');
    if (!this.#ctx.locks.tryAcquire(this.#file.inode, this)) throw lockedError('tryLock', this.path);
  }

  async lock(): Promise<void> {
    this.#checkLockable('lock');
    await this.#ctx.locks.acquire(this.#file.inode, this);
  }

  async unlock(): Promise<void> {
    this.#checkOpen('unlock');
    this.#ctx.locks.release(this.#file.inode, this);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Like closing the last descriptor of an open file description: the lock goes with it, and
    // a lock() still waiting through this handle can never be granted.
    this.#ctx.locks.cancelWait(this.#file.inode, this, fsError('EBADF', 'lock', this.path, 'handle closed while waiting for the lock'));
    this.#ctx.locks.release(this.#file.inode, this);
    this.#ctx.volume.closeFile(this.#file, this.path);
  }

  #checkOpen(syscall: string): void {
    if (this.#closed) throw fsError('EBADF', syscall, this.path, 'file handle is closed');
  }

  #checkWritable(syscall: string): void {
    this.#checkOpen(syscall);
    if (!this.#writable) throw fsError('EBADF', syscall, this.path, 'file handle is open read-only');
  }

  #checkLockable(syscall: string): void {
    this.#checkOpen(syscall);
    // An OFD write lock needs a descriptor open for writing (fcntl fails with EBADF otherwise);
    // refuse it here too so the backends agree.
    if (!this.#writable) throw fsError('EBADF', syscall, this.path, 'an exclusive lock needs a handle open for writing');
  }

  #checkRange(syscall: string, buffer: Uint8Array, offset: number, length: number, position: number): void {
    const ok =
      buffer instanceof Uint8Array &&
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(length) &&
      Number.isSafeInteger(position) &&
      offset >= 0 &&
      length >= 0 &&
      position >= 0 &&
      offset + length <= buffer.byteLength;
    if (!ok) {
      throw fsError(
        'EINVAL',
        syscall,
        this.path,
        `invalid range: offset ${offset}, length ${length}, position ${position}, buffer of ${buffer?.byteLength} bytes`,
      );
    }
  }

  #checkSize(syscall: string, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw fsError('EINVAL', syscall, this.path, `invalid size ${size}`);
    if (size > MAX_FILE_SIZE) throw fsError('EFBIG', syscall, this.path);
  }
}
