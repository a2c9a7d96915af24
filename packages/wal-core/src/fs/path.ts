/**
 * POSIX path helpers for FileSystem paths. wal-core cannot use node:path (it runs against any
 * FileSystem, and paths there are always '/'-separated).
 */

/** Joins path segments with '/', collapsing duplicate separators. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p.length > 0).join('/');
  return joined.replace(/\/{2,}/g, '/');
}

/** The path with trailing separators removed ('/' stays '/'). */
export function cleanPath(path: string): string {
  if (path.length > 1) {
    const trimmed = path.replace(/\/+$/, '');
    return trimmed.length === 0 ? '/' : trimmed;
  }
  return path;
}

/** The parent directory of a path ('.' for a bare name, '/' for a top-level absolute path). */
export function dirnamePath(path: string): string {
  const p = cleanPath(path);
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return p.slice(0, i);
}

/** The last component of a path. */
export function basenamePath(path: string): string {
  const p = cleanPath(path);
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}
