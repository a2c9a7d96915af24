/**
 * Maps Node's errors (errno-style `code` strings from node:fs and fs-native-extensions, and
 * Node's own argument-validation codes) onto walnut's {@link FileSystemError} codes.
 */
import { FileSystemError, LockedError, type FileSystemErrorCode } from '@walnut/wal-core';

const CODE_MAP: Readonly<Record<string, FileSystemErrorCode>> = {
  ENOENT: 'ENOENT',
  EEXIST: 'EEXIST',
  ENOTEMPTY: 'ENOTEMPTY',
  ENOTDIR: 'ENOTDIR',
  EISDIR: 'EISDIR',
  ENOSPC: 'ENOSPC',
  // A full quota is, to the WAL, a full disk.
  EDQUOT: 'ENOSPC',
  EIO: 'EIO',
  EROFS: 'EROFS',
  EACCES: 'EACCES',
  EPERM: 'EPERM',
  EMFILE: 'EMFILE',
  // The system-wide table is full rather than the process's: same remedy, fewer open files.
  ENFILE: 'EMFILE',
  EBADF: 'EBADF',
  EINVAL: 'EINVAL',
  EBUSY: 'EBUSY',
  ETXTBSY: 'EBUSY',
  EXDEV: 'EXDEV',
  EFBIG: 'EFBIG',
  ENAMETOOLONG: 'ENAMETOOLONG',
  // Node validates arguments before any syscall (negative offsets, ranges outside the buffer,
  // NUL bytes in paths): those are invalid arguments.
  ERR_OUT_OF_RANGE: 'EINVAL',
  ERR_INVALID_ARG_TYPE: 'EINVAL',
  ERR_INVALID_ARG_VALUE: 'EINVAL',
};

/** Syscalls whose EAGAIN/EWOULDBLOCK means "the lock is held by someone else". */
const LOCK_SYSCALLS = new Set(['tryLock', 'lock']);

/**
 * Converts anything node:fs or fs-native-extensions throws into a {@link FileSystemError}
 * naming `path` and `syscall` (and `context`, e.g. the other path of a rename, in the message).
 * A {@link FileSystemError} passes through unchanged. An unknown
 * code becomes `EUNKNOWN`, with the original error as `cause` (and its code in the message).
 *
 * @internal exported for the package's tests, not from the package index
 */
export function toFileSystemError(err: unknown, syscall: string, path: string, context?: string): FileSystemError {
  if (err instanceof FileSystemError) return err;
  const raw = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const code = typeof raw === 'string' ? raw : undefined;
  if (code !== undefined && LOCK_SYSCALLS.has(syscall) && (code === 'EAGAIN' || code === 'EWOULDBLOCK')) {
    return new LockedError(syscall, path, { cause: err });
  }
  const mapped = code === undefined ? undefined : CODE_MAP[code];
  if (mapped !== undefined) {
    const detail = context === undefined ? undefined : `${new FileSystemError(mapped, syscall, path).etcdMessage} (${context})`;
    return new FileSystemError(mapped, syscall, path, detail, { cause: err });
  }
  const text = err instanceof Error ? err.message : String(err);
  return new FileSystemError('EUNKNOWN', syscall, path, `unexpected error${code ? ` ${code}` : ''}: ${text}`, { cause: err });
}

/** A new {@link FileSystemError} raised by this package's own checks. */
export function fsError(code: FileSystemErrorCode, syscall: string, path: string, detail?: string): FileSystemError {
  return new FileSystemError(code, syscall, path, detail);
}
