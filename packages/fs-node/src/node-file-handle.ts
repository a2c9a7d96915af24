/**
 * An open file of {@link NodeFileSystem}: a raw descriptor plus the bookkeeping that keeps it
 * safe to use from concurrent promises.
 *
 * Descriptor reuse is the hazard of raw fds: if `close` released the number while a read or write
 * was still queued on the libuv pool, that call could land in whatever file the number is given to
 * next. So `close` marks the handle closed at once (every later call fails with `EBADF`), waits for
 * the operations already started, and only then closes the descriptor.
 */
import type { AllocateOptions, FileHandle } from '@walnut/wal-core';
import { fsError, toFileSystemError } from './errors.js';
import * as nodefs from './fs-calls.js';
import { tryLockFd, unlockFd, waitForLockFd } from './native-lock.js';
import { zeroFill, type Preallocation } from './preallocation.js';

/** How the data path (read, write, datasync, sync) calls the OS: see NodeFileSystemOptions.io. */
export type NodeIo = 'sync' | 'async';

/** See the module comment. Created by {@link NodeFileSystem.open}. */
export class NodeFileHandle implements FileHandle {
  readonly path: string;
  readonly #fd: number;
  readonly #writable: boolean;
  readonly #preallocation: Preallocation;
  readonly #io: NodeIo;
  /** The calls of the `io: 'sync'` fast paths (write, datasync, sync). */
  readonly #blocking: nodefs.BlockingIo;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Operations started and not yet finished (lock waits excluded, see {@link lock}). */
  #inflight = 0;
  #drained: (() => void) | undefined;
  /** Writes in progress, and who to tell when they reach zero (an allocate waiting for them). */
  #writers = 0;
  #writersDone: (() => void) | undefined;
  /** Set while an allocate runs; writes and other allocates wait for it. */
  #allocating: Promise<void> | undefined;
  /** lock() calls still waiting in fs-native-extensions, each with a way to reject it. */
  readonly #lockWaits = new Set<{ nativeDone: Promise<void>; reject: (err: unknown) => void }>();

  /** @internal */
  constructor(
    path: string,
    fd: number,
    writable: boolean,
    preallocation: Preallocation = 'zero-fill',
    io: NodeIo = 'sync',
    blocking: nodefs.BlockingIo = nodefs.nodeBlockingIo,
  ) {
    this.path = path;
    this.#fd = fd;
    this.#writable = writable;
    this.#preallocation = preallocation;
    this.#io = io;
    this.#blocking = blocking;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.#run('read', false, (fd) => {
      checkRange(buffer, offset, length, position, 'read', this.path);
      return this.#io === 'sync' ? nodefs.readNow(fd, buffer, offset, length, position) : nodefs.read(fd, buffer, offset, length, position);
    });
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    // io 'sync' fast path: the pwrite completes before this returns, so close() cannot run during it
    // and no in-flight bookkeeping is needed; an allocate in progress still takes the queued path
    // below. One settled promise instead of three async frames on the commit path, which runs with cold
    // CPU caches after each fdatasync.
    if (this.#io === 'sync' && this.#allocating === undefined) {
      try {
        this.#checkOpen('write');
        if (!this.#writable) throw fsError('EBADF', 'write', this.path, 'file handle is open read-only');
        checkRange(buffer, offset, length, position, 'write', this.path);
        return Promise.resolve(this.#blocking.write(this.#fd, buffer, offset, length, position));
      } catch (err) {
        return Promise.reject(toFileSystemError(err, 'write', this.path));
      }
    }
    return this.#run('write', true, async (fd) => {
      checkRange(buffer, offset, length, position, 'write', this.path);
      while (this.#allocating !== undefined) await this.#allocating;
      this.#writers++;
      try {
        return await (this.#io === 'sync'
          ? nodefs.writeNow(fd, buffer, offset, length, position)
          : nodefs.write(fd, buffer, offset, length, position));
      } finally {
        if (--this.#writers === 0) this.#writersDone?.();
      }
    });
  }

  async size(): Promise<number> {
    return this.#run('fstat', false, async (fd) => (await nodefs.fstat(fd)).size);
  }

  truncate(size: number): Promise<void> {
    return this.#run('ftruncate', true, (fd) => nodefs.ftruncate(fd, checkSize(size, 'ftruncate', this.path)));
  }

  /**
   * Makes the file at least `size` bytes long, the new bytes zeros, reserving the space; never shrinks.
   *
   * Node has no fallocate(2). With the default `zero-fill` preallocation the new range is written
   * with zeros and fdatasynced (see `preallocation.ts`): the blocks are really allocated, so a full
   * disk fails here with `ENOSPC` (and the file is put back to its old size), not in a later append.
   * With `extend` it is ftruncate, etcd's fallback where fallocate is unsupported: a hole, no blocks
   * reserved, instant.
   *
   * `options.synced: false` (a WAL with noFsync) extends too, whatever the preallocation: zero-filling
   * only pays off for commits that fdatasync, and its 64 MB of zeros per segment are written (page cache,
   * then writeback) for nothing. Measured, 512 MiB of 4 KiB entries without fsync (bench c): zero-fill
   * with its syncs 250-500 MB/s, without them 520-910 MB/s with 100-240 ms stalls at cuts and under
   * writeback, extend 680-1,180 MB/s with no save above ~46 ms. The cost: a full disk fails in an append
   * (poisoning the WAL) rather than at segment creation, as with etcd's own ftruncate fallback.
   */
  allocate(size: number, options?: AllocateOptions): Promise<void> {
    return this.#run('fallocate', true, async (fd) => {
      const want = checkSize(size, 'fallocate', this.path);
      // fstat + extend is not atomic: a write through this handle that extended the file in
      // between would be cut off (or overwritten with zeros). So allocate runs alone: it waits for
      // the writes already started and holds new ones (and other allocates) back until it is done.
      while (this.#allocating !== undefined) await this.#allocating;
      let done!: () => void;
      this.#allocating = new Promise<void>((resolve) => (done = resolve));
      try {
        if (this.#writers > 0) await new Promise<void>((resolve) => (this.#writersDone = resolve));
        const have = (await nodefs.fstatNow(fd)).size;
        if (have >= want) return;
        if (this.#preallocation === 'extend' || options?.synced === false) {
          await nodefs.ftruncate(fd, want);
          return;
        }
        try {
          await zeroFill(fd, have, want);
        } catch (err) {
          // Give back what was reserved so far (a full disk stays as full as it was before the call).
          await nodefs.ftruncate(fd, have).catch(noop);
          throw err;
        }
      } finally {
        this.#writersDone = undefined;
        this.#allocating = undefined;
        done();
      }
    });
  }

  /** fdatasync(2). */
  datasync(): Promise<void> {
    if (this.#io === 'sync') return this.#syncNow('fdatasync', this.#blocking.fdatasync);
    return this.#run('fdatasync', false, (fd) => (this.#io === 'sync' ? nodefs.fdatasyncNow(fd) : nodefs.fdatasync(fd)));
  }

  /** fsync(2). */
  sync(): Promise<void> {
    if (this.#io === 'sync') return this.#syncNow('fsync', this.#blocking.fsync);
    return this.#run('fsync', false, (fd) => (this.#io === 'sync' ? nodefs.fsyncNow(fd) : nodefs.fsync(fd)));
  }

  async tryLock(): Promise<void> {
    this.#checkLockable('tryLock');
    let taken: boolean;
    try {
      taken = tryLockFd(this.#fd);
    } catch (err) {
      throw toFileSystemError(err, 'tryLock', this.path);
    }
    if (!taken) throw toFileSystemError({ code: 'EAGAIN' }, 'tryLock', this.path);
  }

  /**
   * Takes the lock, waiting while another holder has it. The wait runs on a native thread and
   * cannot be cancelled: if the handle is closed meanwhile, this call rejects with `EBADF` at
   * once, but the descriptor stays open (so its number cannot be reused under the waiting thread)
   * until the wait ends, and is closed then, which releases the lock it was just granted. A wait
   * still pending keeps the process alive.
   */
  async lock(): Promise<void> {
    this.#checkLockable('lock');
    try {
      if (tryLockFd(this.#fd)) return;
    } catch (err) {
      throw toFileSystemError(err, 'lock', this.path);
    }
    const native = waitForLockFd(this.#fd);
    let reject!: (err: unknown) => void;
    const outcome = new Promise<void>((res, rej) => {
      reject = rej;
      native.then(res, (err: unknown) => rej(toFileSystemError(err, 'lock', this.path)));
    });
    const entry = { nativeDone: native.then(noop, noop), reject };
    this.#lockWaits.add(entry);
    try {
      await outcome;
    } finally {
      this.#lockWaits.delete(entry);
    }
    // Granted after close() gave up on it: the descriptor is being closed, the lock with it.
    if (this.#closed) throw fsError('EBADF', 'lock', this.path, 'file handle closed while waiting for the lock');
  }

  async unlock(): Promise<void> {
    this.#checkOpen('unlock');
    try {
      unlockFd(this.#fd);
    } catch (err) {
      throw toFileSystemError(err, 'unlock', this.path);
    }
  }

  /** Closes the descriptor (releasing its lock) once the operations already started have ended. */
  close(): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const waits = [...this.#lockWaits];
    for (const w of waits) w.reject(fsError('EBADF', 'lock', this.path, 'file handle closed while waiting for the lock'));
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    // Keep the number reserved until the native lock waits have returned (see lock()). close()
    // itself does not wait for them: they may wait for another process indefinitely.
    const release = async () => {
      await Promise.all(waits.map((w) => w.nativeDone));
      await nodefs.close(this.#fd);
    };
    if (waits.length === 0) {
      try {
        await release();
      } catch (err) {
        throw toFileSystemError(err, 'close', this.path);
      }
    } else {
      release().catch(noop);
    }
  }

  async #run<T>(syscall: string, needsWrite: boolean, op: (fd: number) => Promise<T>): Promise<T> {
    this.#checkOpen(syscall);
    if (needsWrite && !this.#writable) throw fsError('EBADF', syscall, this.path, 'file handle is open read-only');
    this.#inflight++;
    try {
      return await op(this.#fd);
    } catch (err) {
      throw toFileSystemError(err, syscall, this.path);
    } finally {
      if (--this.#inflight === 0 && this.#drained !== undefined) {
        const drained = this.#drained;
        this.#drained = undefined;
        drained();
      }
    }
  }

  /** The `io: 'sync'` fast path of datasync and sync, as write's: the call completes before this returns. */
  #syncNow(syscall: string, call: (fd: number) => void): Promise<void> {
    try {
      this.#checkOpen(syscall);
      call(this.#fd);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(toFileSystemError(err, syscall, this.path));
    }
  }

  #checkOpen(syscall: string): void {
    if (this.#closed) throw fsError('EBADF', syscall, this.path, 'file handle is closed');
  }

  #checkLockable(syscall: string): void {
    this.#checkOpen(syscall);
    // fcntl(F_OFD_SETLK, F_WRLCK) needs a descriptor open for writing; say so rather than
    // pass the kernel's bare EBADF through.
    if (!this.#writable) throw fsError('EBADF', syscall, this.path, 'an exclusive lock needs a handle open for writing');
  }
}

function noop(): void {}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Positional I/O only: node:fs treats a negative or null position as "the descriptor's current
 * offset", which would silently turn a bad argument into a write somewhere else. Refuse it.
 */
function checkRange(buffer: Uint8Array, offset: number, length: number, position: number, syscall: string, path: string): void {
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
      path,
      `invalid range: offset ${offset}, length ${length}, position ${position}, buffer of ${buffer?.byteLength} bytes`,
    );
  }
}

function checkSize(size: number, syscall: string, path: string): number {
  if (!Number.isSafeInteger(size) || size < 0) throw fsError('EINVAL', syscall, path, `invalid size ${size}`);
  return size;
}
