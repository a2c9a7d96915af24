/** Every typed error becomes one line `walnut: <message>` and one line `hint: <advice>`. */
import { describe, expect, it } from 'vitest';
import { CrcMismatchError, FileSystemError, UnexpectedEofError } from '@walnut/wal-core';
import type { FileSystemErrorCode } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { hintFor, reportWalError } from '../src/errors.js';

/** Every code wal-core and fs-s3-archive give their typed errors (src/errors.ts of each). */
const WAL_CODES = [
  'WAL_BAD_NAME',
  'WAL_CLOSED',
  'WAL_CRC_MISMATCH',
  'WAL_DECODER_NOT_FOUND',
  'WAL_EXISTS',
  'WAL_FAILED',
  'WAL_FILE_NOT_FOUND',
  'WAL_INVALID_ARGUMENT',
  'WAL_INVALID_SNAPSHOT',
  'WAL_MALFORMED_RECORD',
  'WAL_METADATA_CONFLICT',
  'WAL_NOT_WRITABLE',
  'WAL_SEQUENCE_GAP',
  'WAL_SLICE_OUT_OF_RANGE',
  'WAL_SNAPSHOT_INDEX_NOT_COVERED',
  'WAL_SNAPSHOT_MISMATCH',
  'WAL_SNAPSHOT_NOT_FOUND',
  'WAL_UNEXPECTED_EOF',
  'WAL_UNKNOWN_RECORD_TYPE',
];
const ARCHIVE_CODES = [
  'ARCHIVE_ACCESS_DENIED',
  'ARCHIVE_CHAIN_BREAK',
  'ARCHIVE_CONFLICT',
  'ARCHIVE_CORRUPT',
  'ARCHIVE_NO_SUCH_BUCKET',
  'ARCHIVE_NO_SUCH_OBJECT',
  'ARCHIVE_OBJECT_EXISTS',
  'ARCHIVE_PRUNE_REFUSED',
  'ARCHIVE_REQUEST_FAILED',
  'ARCHIVE_RESTORE_CONFLICT',
  'ARCHIVE_SEQUENCE_GAP',
  'ARCHIVE_SNAPSHOT_NOT_COVERED',
  'ARCHIVE_UNREACHABLE',
];
const FS_CODES: FileSystemErrorCode[] = [
  'ENOENT',
  'EEXIST',
  'ENOTEMPTY',
  'ENOTDIR',
  'EISDIR',
  'ENOSPC',
  'EIO',
  'EROFS',
  'EACCES',
  'EPERM',
  'EMFILE',
  'EBADF',
  'EINVAL',
  'EBUSY',
  'EXDEV',
  'EFBIG',
  'ENAMETOOLONG',
  'ELOCKED',
  'EUNKNOWN',
];

describe('hintFor', () => {
  const fs = new MemoryFileSystem();
  it.each([...WAL_CODES, ...ARCHIVE_CODES, ...FS_CODES])('%s has a one-line hint', async (code) => {
    const hint = await hintFor({ code, etcdMessage: '', name: 'WalError', message: '' }, fs, '/data/wal');
    expect(hint).toBeTruthy();
    expect(hint).not.toMatch(/\n/);
  });

  it('the specific hints stay specific (not the generic fallback)', async () => {
    for (const code of [...ARCHIVE_CODES, ...FS_CODES, 'WAL_CRC_MISMATCH', 'WAL_UNEXPECTED_EOF', 'WAL_SNAPSHOT_NOT_FOUND']) {
      const hint = await hintFor({ code, etcdMessage: '', name: 'WalError', message: '' }, fs, '/data/wal');
      expect(hint, code).not.toMatch(/^walnut reported /);
    }
  });
});

describe('reportWalError', () => {
  it.each([
    [
      'a CRC mismatch',
      new CrcMismatchError(1, 2, { file: 'a.wal', offset: 8 }, false),
      /^walnut: walpb: crc mismatch: .* in file 'a\.wal' at offset 8\nhint: a record is corrupt/,
    ],
    [
      'a torn tail',
      new UnexpectedEofError('torn-write', { file: 'a.wal', offset: 16 }, 'torn\nwrite'),
      /^walnut: unexpected EOF \(torn write\) .*\nhint: the last segment has a torn tail/,
    ],
    ['a full disk', new FileSystemError('ENOSPC', 'write', '/data/wal/a.wal'), /^walnut: ENOSPC: .*\nhint: the file system is full/],
  ])('%s: exactly two lines on stderr', async (_what, error, shape) => {
    let err = '';
    await reportWalError({ stdout: () => undefined, stderr: (s) => void (err += s) }, error, new MemoryFileSystem(), '/data/wal');
    expect(err).toMatch(shape);
    expect(err.split('\n')).toHaveLength(3);
  });
});
