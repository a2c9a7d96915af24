/**
 * Whole-file exclusive locks from fs-native-extensions (prebuilt N-API addon, no install script).
 *
 * On Linux it takes open-file-description locks: `fcntl(fd, F_OFD_SETLK / F_OFD_SETLKW)` with
 * `F_WRLCK` over the whole file (start 0, length 0), verified in its `src/linux.c` (v1.5.1).
 * That is the lock etcd takes (`fileutil.TryLockFile` / `LockFile` on Linux), so walnut and etcd
 * exclude each other on the same WAL. OFD locks belong to the open file description, not to the
 * process: two descriptors opened separately in one process conflict, closing the last
 * descriptor of a description releases its lock, and a process's death releases all of them.
 * A write lock needs a descriptor open for writing (`EBADF` otherwise). macOS and the BSDs get
 * `flock(2)` (also per open file description); Windows gets `LockFileEx`.
 *
 * The library is CommonJS without type declarations; it is loaded with `createRequire` and
 * typed by the small interface below (only what walnut uses).
 */
import { createRequire } from 'node:module';

interface FsNativeExtensions {
  /** true if taken, false if another description holds a conflicting lock (EAGAIN); throws otherwise. */
  tryLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): boolean;
  /** Waits on a thread of its own (not the libuv pool) until the lock is granted. */
  waitForLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): Promise<void>;
  unlock(fd: number, offset?: number, length?: number): void;
}

const native = createRequire(import.meta.url)('fs-native-extensions') as FsNativeExtensions;

/** Takes the exclusive lock on the whole file if free; false if another holder has it. */
export function tryLockFd(fd: number): boolean {
  return native.tryLock(fd, 0, 0, { shared: false });
}

/**
 * Waits for the exclusive lock on the whole file. The wait cannot be cancelled: it ends only
 * when the lock is granted (or the call fails).
 */
export function waitForLockFd(fd: number): Promise<void> {
  return native.waitForLock(fd, 0, 0, { shared: false });
}

/** Releases the lock this descriptor's open file description holds (no-op if none). */
export function unlockFd(fd: number): void {
  native.unlock(fd, 0, 0);
}
