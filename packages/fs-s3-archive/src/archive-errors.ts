/**
 * Typed errors of the archive. Each is a walnut {@link WalError} (so `isWalError` and the CLI's error
 * reporting cover them) with a stable `code`. Messages name the bucket, key or segment and never carry
 * credentials.
 */
import { WalError } from '@walnut/wal-core';

/** Base class of every archive failure. */
export class ArchiveError extends WalError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, message, options);
  }
}

/** The object store could not be reached (connection refused, DNS, timeout) after the client's retries. */
export class ArchiveUnreachableError extends ArchiveError {
  constructor(location: string, detail: string, options?: { cause?: unknown }) {
    super('ARCHIVE_UNREACHABLE', `archive ${location} is unreachable: ${detail}`, options);
  }
}

/** The store refused the credentials (unknown access key, bad signature, access denied). */
export class ArchiveAccessDeniedError extends ArchiveError {
  constructor(location: string, detail: string, options?: { cause?: unknown }) {
    super('ARCHIVE_ACCESS_DENIED', `archive ${location}: access denied (${detail}); check the credentials and the bucket policy`, options);
  }
}

/** The bucket does not exist. */
export class ArchiveBucketNotFoundError extends ArchiveError {
  /** The bucket's name. */
  readonly bucket: string;
  constructor(bucket: string, options?: { cause?: unknown }) {
    super('ARCHIVE_NO_SUCH_BUCKET', `archive bucket '${bucket}' does not exist`, options);
    this.bucket = bucket;
  }
}

/** No object under this key. */
export class ObjectNotFoundError extends ArchiveError {
  /** The object key. */
  readonly key: string;
  constructor(location: string, key: string, options?: { cause?: unknown }) {
    super('ARCHIVE_NO_SUCH_OBJECT', `archive ${location}: no object '${key}'`, options);
    this.key = key;
  }
}

/** A conditional put found the key taken (If-None-Match: * refused with 412). */
export class ObjectExistsError extends ArchiveError {
  /** The object key. */
  readonly key: string;
  constructor(location: string, key: string, options?: { cause?: unknown }) {
    super('ARCHIVE_OBJECT_EXISTS', `archive ${location}: object '${key}' already exists and is never overwritten`, options);
    this.key = key;
  }
}

/** Any other failure of the store (5xx after retries, an unexpected response). */
export class ArchiveRequestError extends ArchiveError {
  /** The HTTP status, when the store answered with one. */
  readonly status: number | undefined;
  constructor(location: string, operation: string, detail: string, status?: number, options?: { cause?: unknown }) {
    super('ARCHIVE_REQUEST_FAILED', `archive ${location}: ${operation} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, options);
    this.status = status;
  }
}

/**
 * An archived object is not what walnut stored: its bytes do not match the CRC-32C and size in its
 * metadata, or its metadata is missing, malformed or not what was written. Raised on read, by
 * verification, and when an upload is found to differ from the segment. (A break of the CRC chain
 * between objects is {@link ArchiveChainBreakError}.)
 */
export class ArchiveCorruptionError extends ArchiveError {
  /** The object key. */
  readonly key: string;
  constructor(key: string, detail: string, options?: { cause?: unknown }) {
    super('ARCHIVE_CORRUPT', `archived segment '${key}' is corrupt: ${detail}`, options);
    this.key = key;
  }
}

/**
 * An object already archived under a segment's name holds different bytes than the local segment (a
 * different CRC-32C or size). The local segment is kept; an operator must decide.
 */
export class ArchiveConflictError extends ArchiveError {
  /** The object key. */
  readonly key: string;
  constructor(key: string, detail: string, options?: { cause?: unknown }) {
    super('ARCHIVE_CONFLICT', `archive already holds '${key}' with different contents (${detail}); the local segment is kept`, options);
    this.key = key;
  }
}

/** The archiver was stopped. */
export class ArchiverStoppedError extends ArchiveError {
  constructor() {
    super('ARCHIVER_STOPPED', 'archiver: stopped');
  }
}

/**
 * Archived segments of one WAL directory do not follow each other: a sequence number is missing between
 * two objects (or two objects claim the same one). Reported by `listArchive` / `verifyArchive`; thrown by
 * `restoreWal` when a segment it needs is missing.
 */
export class ArchiveSequenceGapError extends ArchiveError {
  /** The segment before the gap. */
  readonly previous: string;
  /** The segment after it. */
  readonly next: string;
  constructor(location: string, previous: string, next: string, detail?: string) {
    super(
      'ARCHIVE_SEQUENCE_GAP',
      `archive ${location}: ${detail ?? `segments are missing between '${previous}' and '${next}' (a sequence gap)`}`,
    );
    this.previous = previous;
    this.next = next;
  }
}

/**
 * The rolling CRC does not continue from one archived segment to the next (consecutive sequence numbers):
 * the object's `walnut-chain-start` (or its decoded head CRC record) differs from the previous segment's
 * chain end. The two objects do not belong to the same WAL history, or one of them was replaced.
 */
export class ArchiveChainBreakError extends ArchiveError {
  /** The object whose chain start does not match. */
  readonly key: string;
  /** The object before it. */
  readonly previousKey: string;
  /** The previous segment's chain end. */
  readonly expected: number;
  /** This segment's chain start. */
  readonly found: number;
  constructor(previousKey: string, key: string, expected: number, found: number) {
    const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
    super(
      'ARCHIVE_CHAIN_BREAK',
      `archived segment '${key}' does not continue the CRC chain: it starts at ${hex(found)}, '${previousKey}' ends at ${hex(expected)}`,
    );
    this.key = key;
    this.previousKey = previousKey;
    this.expected = expected;
    this.found = found;
  }
}

/**
 * The archive (and the live directory, if one was given) holds no segment a WAL could be opened from at
 * the requested snapshot: no segment's first index is at or below the snapshot index, or there are no
 * segments at all.
 */
export class ArchiveSnapshotNotCoveredError extends ArchiveError {
  /** The snapshot index asked for (undefined: a restore of everything). */
  readonly index: bigint | undefined;
  constructor(location: string, index: bigint | undefined, detail: string) {
    super(
      'ARCHIVE_SNAPSHOT_NOT_COVERED',
      `archive ${location}: ${index === undefined ? 'nothing to restore' : `cannot restore at snapshot index ${index}`}: ${detail}`,
    );
    this.index = index;
  }
}

/**
 * A restore found a file in the target directory it must not overwrite: a segment of the same name with
 * other contents, or a segment that is not part of the restore (the target holds another WAL).
 */
export class RestoreTargetConflictError extends ArchiveError {
  /** The file in the target directory. */
  readonly path: string;
  constructor(path: string, detail: string) {
    super('ARCHIVE_RESTORE_CONFLICT', `restore target '${path}' ${detail}; nothing in the target was overwritten`);
    this.path = path;
  }
}

/**
 * Pruning was refused: the archive is not consistent (gap, chain break, bad metadata) up to the segment
 * the oldest snapshot to keep restorable needs, so which objects hold only older entries cannot be proven.
 * Nothing was deleted.
 */
export class ArchivePruneRefusedError extends ArchiveError {
  /** What made the archive unsafe to prune. */
  readonly problems: readonly ArchiveError[];
  constructor(location: string, detail: string, problems: readonly ArchiveError[] = []) {
    super('ARCHIVE_PRUNE_REFUSED', `archive ${location}: prune refused: ${detail}; nothing was deleted`);
    this.problems = problems;
  }
}
