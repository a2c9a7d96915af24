/**
 * The narrow object-store contract the archive is written against: what it needs of S3 and nothing more.
 * {@link S3ObjectStore} implements it with @aws-sdk/client-s3; {@link MemoryObjectStore} in memory, for
 * deterministic simulation (never instead of the real-server tests).
 *
 * Keys are full object keys (prefix included). Every method throws an {@link ArchiveError} subclass on
 * failure, never a raw SDK error, and no error message carries a credential.
 */

/** User metadata of an object: lower-case keys, ASCII values (S3 `x-amz-meta-*`). */
export type ObjectMetadata = Readonly<Record<string, string>>;

/** What a listing returns per object. */
export interface ObjectSummary {
  /** The full object key. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/** What `head` returns. */
export interface ObjectInfo {
  /** The full object key. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** The object's user metadata. */
  readonly metadata: ObjectMetadata;
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  /** User metadata stored with the object. */
  readonly metadata: ObjectMetadata;
  /**
   * CRC-32C of the body as S3 encodes it (base64 of the 4 big-endian bytes). Sent as
   * `x-amz-checksum-crc32c` where the store supports it, so the server can verify the upload.
   */
  readonly crc32cBase64: string;
  /**
   * Refuse to overwrite an existing object (`If-None-Match: *` on PutObject and on
   * CompleteMultipartUpload). Where the server honours it, an existing key makes `put` throw
   * {@link ObjectExistsError}. (Ceph RGW 16 honours it on PutObject only; the archiver also checks with a
   * HEAD before uploading, and one writer per prefix is the contract.)
   */
  readonly ifNoneMatch: boolean;
  /** Aborts an upload in flight (multipart uploads are aborted, never left behind). */
  readonly signal?: AbortSignal;
}

/** What `put` learned about the stored bytes. */
export interface PutResult {
  /**
   * True when the server computed the object's CRC-32C itself and returned it equal to ours for this
   * upload: the stored bytes are proven equal to the body without reading them back. False when the server
   * does not do flexible checksums (Ceph RGW 16 ignores them), so the caller must read the object back.
   */
  readonly serverVerifiedChecksum: boolean;
}

/** The object store the archive uses. */
export interface ObjectStore {
  /** A human-readable location for messages, e.g. `s3://bucket/prefix` (never credentials). */
  readonly location: string;
  /** Stores an object: one PutObject, or a multipart upload above the store's part threshold. */
  put(key: string, body: Uint8Array, options: PutOptions): Promise<PutResult>;
  /** Bytes `[start, end)` of an object (a ranged GET); the whole object without a range. Throws {@link ObjectNotFoundError}. */
  get(key: string, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array>;
  /** Size and metadata, or undefined if there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order (all pages). */
  list(prefix: string): Promise<ObjectSummary[]>;
  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}
