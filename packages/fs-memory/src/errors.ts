/**
 * Maps memfs failures onto walnut's {@link FileSystemError} codes, so that wal-core never sees a
 * memfs-specific error. Every error thrown by this package goes through here.
 */
import { FileSystemError, LockedError, type FileSystemErrorCode } from '@walnut/wal-core';

/** errno names memfs (and Node's argument validation) report, and the code each becomes. */
const CODE_MAP: Readonly<Record<string, FileSystemErrorCode>> = {
  ENOENT: 'ENOENT',
  EEXIST: 'EEXIST',
  ENOTEMPTY: 'ENOTEMPTY',
  ENOTDIR: 'ENOTDIR',
  EISDIR: 'EISDIR',
  ENOSPC: 'ENOSPC',
  EIO: 'EIO',
  EROFS: 'EROFS',
  EACCES: 'EACCES',
  EPERM: 'EPERM',
  EMFILE: 'EMFILE',
  ENFILE: 'EMFILE',
  EBADF: 'EBADF',
  EINVAL: 'EINVAL',
  EBUSY: 'EBUSY',
  EXDEV: 'EXDEV',
  EFBIG: 'EFBIG',
  ENAMETOOLONG: 'ENAMETOOLONG',
  // Node-style argument validation errors thrown by memfs for out-of-range offsets/lengths.
  ERR_OUT_OF_RANGE: 'EINVAL',
  ERR_INVALID_ARG_TYPE: 'EINVAL',
  ERR_INVALID_ARG_VALUE: 'EINVAL',
};

/**
 * Converts anything memfs throws into a {@link FileSystemError} naming `path` and `syscall`.
 * A {@link FileSystemError} passes through unchanged; an unknown code becomes `EUNKNOWN`
 * with the original error as `cause`.
 */
export function toFileSystemError(err: unknown, syscall: string, path: string): FileSystemError {
  if (err instanceof FileSystemError) return err;
  const raw = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const mapped = typeof raw === 'string' ? CODE_MAP[raw] : undefined;
  if (mapped !== undefined) return new FileSystemError(mapped, syscall, path, undefined, { cause: err });
  const text = err instanceof Error ? err.message : String(err);
  return new FileSystemError('EUNKNOWN', syscall, path, `unexpected memfs error: ${text}`, { cause: err });
}

/** Runs `fn`, converting whatever it throws with {@link toFileSystemError}. */
export function mapErrors<T>(syscall: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toFileSystemError(err, syscall, path);
  }
}

/** A new {@link FileSystemError} raised by this package's own POSIX checks. */
export function fsError(code: FileSystemErrorCode, syscall: string, path: string, detail?: string): FileSystemError {
  return new FileSystemError(code, syscall, path, detail);
}

/** The lock is held by another handle. */
export function lockedError(syscall: string, path: string): LockedError {
  return new LockedError(syscall, path);
}
