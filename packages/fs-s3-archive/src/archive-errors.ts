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
  readonly bucket: string;
  constructor(bucket: string, options?: { cause?: unknown }) {
    super('ARCHIVE_NO_SUCH_BUCKET', `archive bucket '${bucket}' does not exist`, options);
    this.bucket = bucket;
  }
}

/** No object under this key. */
export class ObjectNotFoundError extends ArchiveError {
  readonly key: string;
  constructor(location: string, key: string, options?: { cause?: unknown }) {
    super('ARCHIVE_NO_SUCH_OBJECT', `archive ${location}: no object '${key}'`, options);
    this.key = key;
  }
}

/** A conditional put found the key taken (If-None-Match: * refused with 412). */
export class ObjectExistsError extends ArchiveError {
  readonly key: string;
  constructor(location: string, key: string, options?: { cause?: unknown }) {
    super('ARCHIVE_OBJECT_EXISTS', `archive ${location}: object '${key}' already exists and is never overwritten`, options);
    this.key = key;
  }
}

/** Any other failure of the store (5xx after retries, an unexpected response). */
export class ArchiveRequestError extends ArchiveError {
  readonly status: number | undefined;
  constructor(location: string, operation: string, detail: string, status?: number, options?: { cause?: unknown }) {
    super('ARCHIVE_REQUEST_FAILED', `archive ${location}: ${operation} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, options);
    this.status = status;
  }
}

/**
 * An archived object is not what walnut stored: its bytes do not match the CRC-32C and size in its
 * metadata, its metadata is missing or malformed, or it does not continue the CRC chain of the segment
 * before it. Raised on read, by verification, and when an upload is found to differ from the segment.
 */
export class ArchiveCorruptionError extends ArchiveError {
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
