import { describe, expect, it } from 'vitest';
import { FileSystemError, LockedError } from '@walnut/wal-core';
import { toFileSystemError } from '../src/errors.js';

/** An error shaped like the ones node:fs throws. */
function nodeError(code: string, message = `${code}: something, open '/x'`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'open', path: '/x' });
}

describe('toFileSystemError', () => {
  // Permission and read-only errors cannot be provoked portably (the tests run as root, and a
  // read-only mount needs privileges), so the mapping is checked directly.
  it.each([
    ['EACCES', 'EACCES'],
    ['EROFS', 'EROFS'],
    ['EPERM', 'EPERM'],
    ['ENOSPC', 'ENOSPC'],
    ['EDQUOT', 'ENOSPC'],
    ['EIO', 'EIO'],
    ['EMFILE', 'EMFILE'],
    ['ENFILE', 'EMFILE'],
    ['EBUSY', 'EBUSY'],
    ['ETXTBSY', 'EBUSY'],
    ['EXDEV', 'EXDEV'],
    ['EFBIG', 'EFBIG'],
    ['ENAMETOOLONG', 'ENAMETOOLONG'],
    ['ENOENT', 'ENOENT'],
    ['EEXIST', 'EEXIST'],
    ['ENOTEMPTY', 'ENOTEMPTY'],
    ['ENOTDIR', 'ENOTDIR'],
    ['EISDIR', 'EISDIR'],
    ['EBADF', 'EBADF'],
    ['EINVAL', 'EINVAL'],
    ['ERR_OUT_OF_RANGE', 'EINVAL'],
    ['ERR_INVALID_ARG_TYPE', 'EINVAL'],
    ['ERR_INVALID_ARG_VALUE', 'EINVAL'],
  ])('maps %s to %s with path, syscall and cause', (from, to) => {
    const original = nodeError(from);
    const e = toFileSystemError(original, 'fdatasync', '/wal/0.wal');
    expect(e).toBeInstanceOf(FileSystemError);
    expect(e.code).toBe(to);
    expect(e.path).toBe('/wal/0.wal');
    expect(e.syscall).toBe('fdatasync');
    expect(e.cause).toBe(original);
    expect(e.message).toContain('/wal/0.wal');
  });

  it('maps EAGAIN/EWOULDBLOCK of a lock call to a LockedError, and of anything else to EUNKNOWN', () => {
    expect(toFileSystemError(nodeError('EAGAIN'), 'tryLock', '/LOCK')).toBeInstanceOf(LockedError);
    expect(toFileSystemError(nodeError('EWOULDBLOCK'), 'lock', '/LOCK').code).toBe('ELOCKED');
    expect(toFileSystemError(nodeError('EAGAIN'), 'read', '/f').code).toBe('EUNKNOWN');
  });

  it('maps an unknown code to EUNKNOWN, keeping the original as cause and its code in the message', () => {
    const original = nodeError('ELOOP', 'ELOOP: too many symbolic links');
    const e = toFileSystemError(original, 'open', '/a');
    expect(e.code).toBe('EUNKNOWN');
    expect(e.cause).toBe(original);
    expect(e.message).toContain('ELOOP');
    expect(toFileSystemError('a string', 'open', '/a').code).toBe('EUNKNOWN');
    expect(toFileSystemError(undefined, 'open', '/a').code).toBe('EUNKNOWN');
  });

  it('passes a FileSystemError through unchanged', () => {
    const e = new FileSystemError('ENOSPC', 'write', '/a');
    expect(toFileSystemError(e, 'fsync', '/b')).toBe(e);
  });

  it('adds context (such as the other path of a rename) to the message', () => {
    const e = toFileSystemError(nodeError('ENOENT'), 'rename', '/a', "renaming to '/b'");
    expect(e.code).toBe('ENOENT');
    expect(e.message).toBe("ENOENT: no such file or directory (renaming to '/b'), rename '/a'");
  });
});
