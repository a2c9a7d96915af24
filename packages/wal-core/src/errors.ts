/**
 * Every failure walnut reports is a {@link WalError}: a class per condition, a stable `code`
 * for programs, a detailed `message` for operators (file, offset, expected vs computed CRC
 * where known) and `etcdMessage`, the text etcd 3.4 gives for the same condition, so tools
 * can print etcd-compatible output.
 */

import type { Entry, HardState } from './types.js';

/** Base class of every error walnut throws. */
export class WalError extends Error {
  /** Stable, documented identifier of the condition (e.g. `WAL_CRC_MISMATCH`, `ELOCKED`). */
  readonly code: string;
  /** The error text etcd 3.4 gives for the same condition. */
  readonly etcdMessage: string;

  constructor(code: string, message: string, etcdMessage: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.etcdMessage = etcdMessage;
  }
}

/** Codes a {@link FileSystem} backend maps its failures onto. */
export type FileSystemErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTEMPTY'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOSPC'
  | 'EIO'
  | 'EROFS'
  | 'EACCES'
  | 'EPERM'
  | 'EMFILE'
  | 'EBADF'
  | 'EINVAL'
  | 'EBUSY'
  | 'EXDEV'
  | 'EFBIG'
  | 'ENAMETOOLONG'
  | 'ELOCKED'
  | 'EUNKNOWN';

const fsEtcdMessages: Partial<Record<FileSystemErrorCode, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTEMPTY: 'directory not empty',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
  EXDEV: 'invalid cross-device link',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  ELOCKED: 'fileutil: file already locked',
};

/**
 * A storage operation failed. `code` is one of {@link FileSystemErrorCode}; `path` names the
 * file or directory; `syscall` the operation (e.g. `open`, `fdatasync`).
 */
export class FileSystemError extends WalError {
  declare readonly code: FileSystemErrorCode;
  /** The file or directory, as the caller named it. */
  readonly path: string;
  /** The operation that failed (`open`, `fdatasync`, `rename`, ...). */
  readonly syscall: string;

  constructor(code: FileSystemErrorCode, syscall: string, path: string, detail?: string, options?: { cause?: unknown }) {
    const text = fsEtcdMessages[code] ?? 'unknown error';
    super(code, `${code}: ${detail ?? text}, ${syscall} '${path}'`, text, options);
    this.path = path;
    this.syscall = syscall;
  }
}

/** True if `e` is a {@link FileSystemError} with the given code. */
export function isFileSystemError(e: unknown, code?: FileSystemErrorCode): e is FileSystemError {
  return e instanceof FileSystemError && (code === undefined || e.code === code);
}

/** A lock is held by another handle or process (`code` = `ELOCKED`). */
export class LockedError extends FileSystemError {
  constructor(syscall: string, path: string, options?: { cause?: unknown }) {
    super('ELOCKED', syscall, path, 'file already locked by another holder', options);
  }
}

/** Data etcd returns together with certain errors; walnut attaches it to the error. */
export interface PartialReadResult {
  /** The metadata record's bytes, `undefined` if none was read. */
  readonly metadata: Uint8Array | undefined;
  /** The last HardState read (the empty HardState if none). */
  readonly hardState: HardState;
  /** The entries read, in index order. */
  readonly entries: Entry[];
}

/** Where in the WAL a problem was found. */
export interface WalLocation {
  /** Segment file name (not the full path). */
  readonly file?: string;
  /** Byte offset of the frame within that file. */
  readonly offset?: number;
}

function where(loc: WalLocation | undefined): string {
  if (!loc || loc.file === undefined) return '';
  return loc.offset === undefined ? ` in file '${loc.file}'` : ` in file '${loc.file}' at offset ${loc.offset}`;
}

/** No valid segment file in the directory (etcd `ErrFileNotFound`). */
export class SegmentNotFoundError extends WalError {
  /** The WAL directory. */
  readonly dir: string;
  constructor(dir: string, message?: string, code = 'WAL_FILE_NOT_FOUND') {
    super(code, message ?? `wal: no segment files found in '${dir}'`, 'wal: file not found');
    this.dir = dir;
  }
}

/** No segment covers the requested snapshot index (etcd 3.4: `ErrFileNotFound`; 3.6: distinct text). */
export class SnapshotIndexNotCoveredError extends SegmentNotFoundError {
  /** The snapshot index no segment covers. */
  readonly index: bigint;
  constructor(dir: string, index: bigint) {
    super(
      dir,
      `wal: file not found which matches the snapshot index '${index}' in '${dir}' (the oldest segment starts after it; was it purged?)`,
      'WAL_SNAPSHOT_INDEX_NOT_COVERED',
    );
    this.index = index;
  }
}

/** Segment sequence numbers have a gap (etcd 3.4: `ErrFileNotFound`; 3.6: "do not increase continuously"). */
export class SegmentSequenceGapError extends SegmentNotFoundError {
  /** The segment before the gap. */
  readonly previous: string;
  /** The segment after the gap. */
  readonly next: string;
  constructor(dir: string, previous: string, next: string) {
    super(
      dir,
      `wal: file sequence numbers do not increase continuously in '${dir}': '${previous}' is followed by '${next}'`,
      'WAL_SEQUENCE_GAP',
    );
    this.previous = previous;
    this.next = next;
  }
}

/**
 * A record's CRC does not match its data, or a segment's CRC record does not continue the
 * chain. `etcdMessage` is `walpb: crc mismatch` for a data record and `wal: crc mismatch`
 * for a CRC record (etcd 3.4 uses two different error values).
 */
export class CrcMismatchError extends WalError {
  /** The segment file and offset of the record. */
  readonly location: WalLocation;
  /** The CRC the record (or the previous segment's chain) carries. */
  readonly expected: number;
  /** The CRC computed over the data. */
  readonly computed: number;
  /** True for a segment's CRC record that does not continue the chain, false for a data record. */
  readonly crcRecord: boolean;
  constructor(expected: number, computed: number, location: WalLocation, crcRecord: boolean) {
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    super(
      'WAL_CRC_MISMATCH',
      `${crcRecord ? 'wal' : 'walpb'}: crc mismatch: expected: ${hex(expected)} computed: ${hex(computed)}${where(location)}`,
      crcRecord ? 'wal: crc mismatch' : 'walpb: crc mismatch',
    );
    this.location = location;
    this.expected = expected;
    this.computed = computed;
    this.crcRecord = crcRecord;
  }
}

/**
 * The WAL ends in the middle of a record: a partial length word, a frame running past the end of
 * the file, a length larger than the file allows, or a torn write (a record with an all-zero
 * 512-byte sector). etcd's `io.ErrUnexpectedEOF`; repairable with `Wal.repair` when in the last segment.
 */
export class UnexpectedEofError extends WalError {
  /** The segment file and offset where the WAL ends. */
  readonly location: WalLocation;
  /** How the last record is incomplete. */
  readonly reason: 'partial-length' | 'short-frame' | 'length-exceeds-file' | 'torn-write';
  constructor(reason: UnexpectedEofError['reason'], location: WalLocation, detail?: string) {
    super('WAL_UNEXPECTED_EOF', `unexpected EOF (${detail ?? reason})${where(location)}`, 'unexpected EOF');
    this.location = location;
    this.reason = reason;
  }
}

/** A record (or its payload) is not valid protobuf, with a correct CRC or outside the last segment. */
export class MalformedRecordError extends WalError {
  /** The segment file and offset of the record. */
  readonly location: WalLocation;
  constructor(detail: string, location: WalLocation, etcdMessage = 'proto: illegal wireType') {
    super('WAL_MALFORMED_RECORD', `wal: malformed record: ${detail}${where(location)}`, etcdMessage);
    this.location = location;
  }
}

/** A record of an unknown type (etcd: "unexpected block type N"). */
export class UnknownRecordTypeError extends WalError {
  /** The record type read. */
  readonly recordType: bigint;
  /** The segment file and offset of the record. */
  readonly location: WalLocation;
  constructor(recordType: bigint, location: WalLocation) {
    super('WAL_UNKNOWN_RECORD_TYPE', `unexpected block type ${recordType}${where(location)}`, `unexpected block type ${recordType}`);
    this.recordType = recordType;
    this.location = location;
  }
}

/** Two metadata records differ (etcd `ErrMetadataConflict`). */
export class MetadataConflictError extends WalError {
  /** The segment file and offset of the second metadata record. */
  readonly location: WalLocation;
  constructor(location: WalLocation) {
    super('WAL_METADATA_CONFLICT', `wal: conflicting metadata found${where(location)}`, 'wal: conflicting metadata found');
    this.location = location;
  }
}

/** A snapshot record with the requested index has a different term (etcd `ErrSnapshotMismatch`). */
export class SnapshotMismatchError extends WalError {
  /** The segment file and offset of the snapshot record. */
  readonly location: WalLocation;
  constructor(index: bigint, expectedTerm: bigint, foundTerm: bigint, location: WalLocation) {
    super(
      'WAL_SNAPSHOT_MISMATCH',
      `wal: snapshot mismatch: snapshot at index ${index} has term ${foundTerm}, expected ${expectedTerm}${where(location)}`,
      'wal: snapshot mismatch',
    );
    this.location = location;
  }
}

/**
 * No snapshot record with the requested index exists in the selected segments (etcd
 * `ErrSnapshotNotFound`). etcd still returns what it read: it is in {@link SnapshotNotFoundError.partial}.
 */
export class SnapshotNotFoundError extends WalError {
  /** What was read before the error, as etcd returns it (`undefined` when nothing was). */
  readonly partial: PartialReadResult | undefined;
  constructor(index: bigint, term: bigint, partial?: PartialReadResult) {
    super(
      'WAL_SNAPSHOT_NOT_FOUND',
      `wal: snapshot not found: no snapshot record {index: ${index}, term: ${term}} in the selected segments`,
      'wal: snapshot not found',
    );
    this.partial = partial;
  }
}

/**
 * An entry's index would leave a gap after the entries read so far (etcd `ErrSliceOutOfRange`).
 * `partial` holds the contiguous entries read before it, as etcd 3.6+ returns them.
 */
export class SliceOutOfRangeError extends WalError {
  /** The contiguous entries read before the gap. */
  readonly partial: PartialReadResult;
  constructor(
    snapIndex: bigint,
    snapTerm: bigint,
    entryIndex: bigint,
    entryTerm: bigint,
    partial: PartialReadResult,
    location: WalLocation,
  ) {
    super(
      'WAL_SLICE_OUT_OF_RANGE',
      `wal: slice bounds out of range, snapshot[Index: ${snapIndex}, Term: ${snapTerm}], current entry[Index: ${entryIndex}, Term: ${entryTerm}], len(ents): ${partial.entries.length}${where(location)}`,
      'wal: slice bounds out of range',
    );
    this.partial = partial;
  }
}

/** `readAll` on a WAL that has no reader: made by `create`, or already read (etcd `ErrDecoderNotFound`). */
export class DecoderNotFoundError extends WalError {
  constructor() {
    super(
      'WAL_DECODER_NOT_FOUND',
      'wal: decoder not found: readAll can be called once, on a WAL from open or openForRead',
      'wal: decoder not found',
    );
  }
}

/** `Wal.create` on a directory that already holds `*.wal` files (etcd `os.ErrExist`). */
export class WalExistsError extends WalError {
  constructor(dir: string) {
    super('WAL_EXISTS', `wal: '${dir}' already contains a WAL (*.wal files)`, 'file already exists');
  }
}

/** A snapshot passed to `saveSnapshot` is invalid (etcd `ValidateSnapshotForWrite`). */
export class InvalidSnapshotError extends WalError {
  constructor(message: string) {
    super('WAL_INVALID_SNAPSHOT', message, message);
  }
}

/** An argument is out of range (e.g. a negative uint64, a segment size below the minimum). */
export class InvalidArgumentError extends WalError {
  constructor(message: string) {
    super('WAL_INVALID_ARGUMENT', message, message);
  }
}

/** A segment file name does not parse as `%016x-%016x.wal`. */
export class BadWalNameError extends WalError {
  constructor(name: string) {
    super('WAL_BAD_NAME', `wal: bad wal name '${name}'`, 'bad wal name');
  }
}

/** The operation needs a WAL opened for writing (from `create` or `open` + `readAll`). */
export class WalNotWritableError extends WalError {
  constructor(reason: string) {
    super('WAL_NOT_WRITABLE', `wal: not writable: ${reason}`, 'wal: not writable');
  }
}

/** The WAL has been closed. */
export class WalClosedError extends WalError {
  constructor() {
    super('WAL_CLOSED', 'wal: the WAL is closed', 'wal: closed');
  }
}

/**
 * A write or sync failed earlier; the WAL refuses further writes until it is reopened, because
 * data that was acknowledged to the OS may already be lost (a retried fsync can report success
 * after the kernel dropped the dirty pages).
 */
export class WalPoisonedError extends WalError {
  constructor(cause: unknown) {
    super(
      'WAL_FAILED',
      `wal: an earlier write or sync failed (${cause instanceof Error ? cause.message : String(cause)}); reopen the WAL to recover`,
      'wal: failed',
      { cause },
    );
  }
}
