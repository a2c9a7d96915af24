/**
 * Path rules of the in-memory volume: paths are absolute POSIX paths within the volume.
 * Normalisation is lexical (`/a/../b` is `/b`): the volume has no symbolic links, so the
 * lexical and the physical meaning of `..` agree except under a path component that is a file.
 */
import { posix } from 'node:path';
import { fsError } from './errors.js';

/**
 * Validates and normalises a caller's path: must be a non-empty absolute string without NUL
 * bytes (otherwise `EINVAL`). Trailing separators are dropped; `/` stays `/`.
 */
export function normalizePath(path: string, syscall: string): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw fsError('EINVAL', syscall, String(path), 'path must be a non-empty string');
  }
  if (path.includes('\0')) throw fsError('EINVAL', syscall, path, 'path contains a NUL byte');
  if (!path.startsWith('/')) {
    throw fsError('EINVAL', syscall, path, 'MemoryFileSystem paths are absolute within its volume (start with "/")');
  }
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** True if `inner` lies strictly below directory `outer` (both normalised). */
export function isStrictlyInside(inner: string, outer: string): boolean {
  if (outer === '/') return inner !== '/';
  return inner.startsWith(outer + '/');
}

/** The parent directory of a normalised path (`/` for `/` itself). */
export function parentOf(path: string): string {
  return posix.dirname(path);
}
