/**
 * Turning a typed WAL error into one line for the operator, plus a hint on what to do next.
 */
import { WalError, joinPath } from '@walnut/wal-core';
import type { FileSystem } from '@walnut/wal-core';
import type { CliIo } from './io.js';

/** The fields of a WalError the CLI relies on (checked structurally, so two copies of wal-core still work). */
export interface WalErrorLike extends Error {
  readonly code: string;
  readonly etcdMessage: string;
}

/** True for a {@link WalError} (or anything shaped like one). */
export function isWalError(e: unknown): e is WalErrorLike {
  if (e instanceof WalError) return true;
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { etcdMessage?: unknown }).etcdMessage === 'string'
  );
}

/** Shell-quotes a path for a suggested command line when it needs it. */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function locationFile(e: unknown): string | undefined {
  const loc = (e as { location?: { file?: unknown } }).location;
  return loc && typeof loc.file === 'string' ? loc.file : undefined;
}

/** The name of the last `*.wal` segment of `dir`, or undefined if it cannot be listed. */
async function lastSegment(fs: FileSystem, dir: string): Promise<string | undefined> {
  try {
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
    return names[names.length - 1];
  } catch {
    return undefined;
  }
}

/** `dir/member/wal` or `dir/wal` when it holds segments (the user passed a data directory). */
async function nestedWalDir(fs: FileSystem, dir: string): Promise<string | undefined> {
  for (const sub of [joinPath(dir, 'member', 'wal'), joinPath(dir, 'wal')]) {
    try {
      if ((await fs.readdir(sub)).some((n) => n.endsWith('.wal'))) return sub;
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * A hint for the operator: what the error usually means and which command helps.
 * @param e - the error
 * @param fs - the file system (used to tell a torn tail of the last segment from a cut in an earlier one)
 * @param dir - the WAL directory the command was given
 * @returns one line of advice (every code gets one: a generic pointer to `walnut verify` for the rare ones)
 */
export async function hintFor(e: WalErrorLike, fs: FileSystem, dir: string): Promise<string | undefined> {
  const d = shellQuote(dir);
  switch (e.code) {
    case 'WAL_UNEXPECTED_EOF': {
      const file = locationFile(e);
      const last = file === undefined ? undefined : await lastSegment(fs, dir);
      if (file !== undefined && last !== undefined && file !== last) {
        return `segment '${file}' is cut short but it is not the last one: repair cannot fix this; restore the member from a snapshot or a peer`;
      }
      return `the last segment has a torn tail: run \`walnut repair ${d}\` (it keeps the original as <segment>.wal.broken)`;
    }
    case 'WAL_CRC_MISMATCH':
      return 'a record is corrupt (bit rot or a bad write); `walnut repair` only fixes torn tails: restore the member from a snapshot or a peer';
    case 'WAL_MALFORMED_RECORD':
    case 'WAL_UNKNOWN_RECORD_TYPE':
    case 'WAL_METADATA_CONFLICT':
      return 'the WAL is corrupt: restore the member from a snapshot or a peer';
    case 'WAL_SNAPSHOT_NOT_FOUND':
      return `the WAL holds no snapshot record at that position: list the valid ones with \`walnut snapshots ${d}\` and pass one with --snap INDEX:TERM`;
    case 'WAL_SNAPSHOT_MISMATCH':
      return `the WAL has a snapshot at that index with another term: check --snap (see \`walnut snapshots ${d}\`)`;
    case 'WAL_SNAPSHOT_INDEX_NOT_COVERED':
      return `the segments holding that index were purged: open at a later snapshot (see \`walnut snapshots ${d}\`)`;
    case 'WAL_SEQUENCE_GAP':
      return 'a segment file is missing from the middle of the WAL: restore it, or restore the member from a snapshot or a peer';
    case 'WAL_FILE_NOT_FOUND': {
      const guess = await nestedWalDir(fs, dir);
      if (guess !== undefined) return `did you mean ${shellQuote(guess)}? (the WAL directory is the one holding the *.wal segments)`;
      return 'check the path: it should be the directory holding the *.wal segments (a member keeps its WAL in <data-dir>/member/wal)';
    }
    case 'WAL_SLICE_OUT_OF_RANGE':
      return `entries are missing between the snapshot and the entries read: open at a later snapshot (see \`walnut snapshots ${d}\`)`;
    case 'ELOCKED':
      return 'another process holds the WAL open for writing: stop it, or read without --write';
    case 'ENOENT':
      return 'check the path: it should be a WAL directory holding *.wal segments';
    case 'ENOTDIR':
      return 'the path should be a directory holding *.wal segments';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return '--write and repair need write access to the directory and its segments';
    case 'ARCHIVE_UNREACHABLE':
      return 'check --endpoint (or S3_ENDPOINT) and that the server is up; local segments are never removed while the archive is unreachable';
    case 'ARCHIVE_ACCESS_DENIED':
      return 'check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (or the AWS credential chain) and the bucket policy';
    case 'ARCHIVE_NO_SUCH_BUCKET':
      return 'check --bucket (or S3_BUCKET), --endpoint and --region';
    case 'ARCHIVE_REQUEST_FAILED':
      return 'the object store failed the request after retries: try again; check the server';
    case 'ARCHIVE_CORRUPT':
      return 'an archived object is not what walnut stored: `walnut archive verify --deep` lists every such object; restore from a copy of the archive or a peer';
    case 'ARCHIVE_CONFLICT':
      return 'the archive already holds that segment name with other bytes (another WAL under the same prefix?); the local segment was kept: check --prefix';
    case 'ARCHIVE_SEQUENCE_GAP':
      return 'archived segments are missing: `walnut archive ls` shows the gap; a restore at a snapshot after it does not need them';
    case 'ARCHIVE_CHAIN_BREAK':
      return 'two archived segments do not belong to one WAL history (replaced, or two WALs under one prefix): `walnut archive verify --deep` shows which side is wrong';
    case 'ARCHIVE_SNAPSHOT_NOT_COVERED':
      return 'the archive starts after that index (pruned?) or the prefix is wrong: `walnut archive ls` shows what is there';
    case 'ARCHIVE_RESTORE_CONFLICT':
      return 'restore into an empty directory (or one an earlier run of the same restore left), never into a live WAL';
    case 'ARCHIVE_PRUNE_REFUSED':
      return 'run `walnut archive verify` to see what is inconsistent, or prune with a --before that stays below the problem';
    case 'ARCHIVE_NO_SUCH_OBJECT':
      return 'an archived segment disappeared while walnut read it (a prune or a lifecycle rule?): run `walnut archive ls` and try again';
    case 'ARCHIVE_OBJECT_EXISTS':
      return 'another writer created the object first (two archivers on one prefix?): check --prefix; nothing was overwritten';
    case 'WAL_BAD_NAME':
    case 'WAL_INVALID_SNAPSHOT':
    case 'WAL_INVALID_ARGUMENT':
      return `check the arguments (see \`walnut --help\`); segment names are <16 hex seq>-<16 hex index>.wal`;
    case 'ENOSPC':
    case 'EFBIG':
      return 'the file system is full (or the file too large): --write, repair and restore need room; free space or work on a copy elsewhere';
    case 'EIO':
      return 'the disk reported an I/O error: check the device (dmesg, SMART), copy the directory off it and work on the copy';
    case 'EMFILE':
      return 'too many open files: raise the limit (ulimit -n) and try again';
    case 'EISDIR':
      return 'a directory is where a segment file was expected: check the path and the directory contents';
    case 'EBUSY':
    case 'EUNKNOWN':
    case 'EINVAL':
    case 'EBADF':
    case 'EXDEV':
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'ENAMETOOLONG':
      return `the storage refused the operation (${e.code}): check the path, the mount and the permissions, then try again`;
    default:
      // Conditions a command of this tool does not produce (a closed or poisoned WAL, ...): still say where to look.
      return `walnut reported ${e.code}; \`walnut verify ${d}\` reports on the whole directory`;
  }
}

/**
 * Writes `walnut: <message>` and, when there is one, `hint: <advice>` to stderr.
 * The message is walnut's detailed text (file, offset, CRCs), folded onto one line.
 */
export async function reportWalError(io: CliIo, e: WalErrorLike, fs: FileSystem, dir: string): Promise<void> {
  io.stderr(`walnut: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
  const hint = await hintFor(e, fs, dir);
  if (hint !== undefined) io.stderr(`hint: ${hint}\n`);
}
