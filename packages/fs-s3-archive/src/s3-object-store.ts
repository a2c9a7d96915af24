/**
 * {@link S3ObjectStore}: the {@link ObjectStore} contract on S3 (AWS or an S3-compatible server) with
 * @aws-sdk/client-s3.
 *
 * - Bodies up to `multipartThresholdBytes` go in one PutObject; larger ones in a multipart upload done
 *   here (Create / UploadPart / Complete), not with lib-storage's `Upload`: `Upload` copies its params into
 *   every UploadPart, so it cannot send the whole object's CRC-32C, and it rejects on abort before the
 *   multipart upload is aborted. Here every failure and every abort ends with AbortMultipartUpload (once
 *   the parts in flight have settled) before `put` rejects, so no upload is left behind unless the
 *   server itself is gone (then a bucket lifecycle rule `AbortIncompleteMultipartUpload` cleans up).
 * - The client is built with `requestChecksumCalculation` and `responseChecksumValidation` set to
 *   `WHEN_REQUIRED`: the SDK default (`WHEN_SUPPORTED`) streams `aws-chunked` bodies that some servers
 *   refuse (Ceph RGW 16: 411) or store with the framing in them (s3rver). The CRC-32C is still sent
 *   explicitly (`x-amz-checksum-crc32c`, per part and for the whole object with `ChecksumType:
 *   FULL_OBJECT`), so AWS verifies the upload; `serverVerifiedChecksum` is true only when the response
 *   returns our CRC-32C. Ceph RGW 16 ignores these headers and never returns one.
 * - Every failure is an {@link ArchiveError} subclass (the SDK error kept as `cause`); no message carries
 *   the access key id or the secret key. An aborted `put` rejects with `signal.reason`, as
 *   {@link MemoryObjectStore} does.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  DeleteObjectCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { InvalidArgumentError, crc32cUpdate } from '@walnut/wal-core';
import {
  ArchiveAccessDeniedError,
  ArchiveBucketNotFoundError,
  ArchiveError,
  ArchiveRequestError,
  ArchiveUnreachableError,
  ObjectExistsError,
  ObjectNotFoundError,
} from './archive-errors.js';
import type { ObjectInfo, ObjectStore, ObjectSummary, PutOptions, PutResult } from './object-store.js';

const MiB = 1024 * 1024;

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** The bucket. It must exist; a missing bucket makes every operation throw {@link ArchiveBucketNotFoundError}. */
  readonly bucket: string;
  /** Only for {@link S3ObjectStore.location} (`s3://bucket/prefix`); keys passed to the methods are full keys. */
  readonly prefix?: string;
  /**
   * A client to use as is (its checksum, retry and timeout settings are then the caller's). Without it the
   * store builds one from `endpoint`, `region`, `forcePathStyle`, `credentials` and `maxAttempts`.
   */
  readonly client?: S3Client;
  /** Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:17480`; AWS when omitted. */
  readonly endpoint?: string;
  /** Region (default `us-east-1`). */
  readonly region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  readonly forcePathStyle?: boolean;
  /** Credentials; the SDK's default provider chain (environment, profile, instance role) when omitted. */
  readonly credentials?: S3ClientConfig['credentials'];
  /** Attempts per request, with the SDK's standard retry and backoff (default 3). */
  readonly maxAttempts?: number;
  /** Bodies larger than this go in a multipart upload (default 16 MiB). */
  readonly multipartThresholdBytes?: number;
  /** Part size of multipart uploads (default 8 MiB; S3 needs at least 5 MiB for every part but the last). */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once (default 2). */
  readonly multipartConcurrency?: number;
  /** ListObjectsV2 page size (default 1000, the S3 maximum); small values are for tests of paging. */
  readonly listPageSize?: number;
  /** TCP connect timeout of the built client in ms (default 5000). */
  readonly connectionTimeoutMs?: number;
  /** Socket inactivity timeout of the built client in ms (default 30000). */
  readonly requestTimeoutMs?: number;
  /**
   * `auto` (default): send `x-amz-checksum-crc32c` and report the server's verification when it returns
   * the checksum. `off`: send no flexible-checksum headers, for servers that refuse them.
   */
  readonly checksumMode?: 'auto' | 'off';
}

/** The outcome of classifying a failure. */
type Failure = {
  readonly kind: 'unreachable' | 'denied' | 'no-bucket' | 'no-key' | 'exists' | 'other';
  readonly status?: number;
  readonly detail: string;
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'EHOSTDOWN',
  'ENETDOWN',
]);
const DENIED_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AccountProblem',
  'AllAccessDisabled',
  'InvalidSecurity',
  'CredentialsProviderError',
]);

/** Base64 of the 4 big-endian bytes of a CRC-32C, as S3 encodes `x-amz-checksum-crc32c`. */
function crc32cOf(bytes: Uint8Array): string {
  const crc = crc32cUpdate(0, bytes);
  return Buffer.from([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]).toString('base64');
}

/** The fields of an SDK or network error this module reads. */
interface RawError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  errors?: unknown;
}

function asRaw(e: unknown): RawError {
  return typeof e === 'object' && e !== null ? (e as RawError) : { message: String(e) };
}

/** An S3 {@link ObjectStore}. */
export class S3ObjectStore implements ObjectStore {
  /** `s3://bucket/prefix`. */
  readonly location: string;
  /** The SDK client (built from the options, or the one passed in). */
  readonly client: S3Client;
  readonly #bucket: string;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #pageSize: number;
  readonly #checksums: boolean;
  readonly #secrets: string[] = [];
  /** Set once an operation proved the bucket exists, so a 404 on HEAD means "no such key". */
  #bucketSeen = false;

  constructor(options: S3ObjectStoreOptions) {
    this.#bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+/, '');
    this.location = `s3://${options.bucket}${prefix ? `/${prefix}` : ''}`;
    this.#threshold = options.multipartThresholdBytes ?? 16 * MiB;
    this.#partSize = options.partSizeBytes ?? 8 * MiB;
    this.#concurrency = Math.max(1, options.multipartConcurrency ?? 2);
    this.#pageSize = options.listPageSize ?? 1000;
    this.#checksums = (options.checksumMode ?? 'auto') === 'auto';
    if (!(this.#partSize > 0) || !(this.#threshold >= 0))
      throw new InvalidArgumentError('S3ObjectStore: partSizeBytes must be > 0 and multipartThresholdBytes >= 0');
    const creds = options.credentials;
    if (creds && typeof creds === 'object' && 'secretAccessKey' in creds) {
      for (const s of [creds.secretAccessKey, creds.accessKeyId, creds.sessionToken]) if (s) this.#secrets.push(s);
    }
    this.client =
      options.client ??
      new S3Client({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        region: options.region ?? 'us-east-1',
        ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
        ...(creds !== undefined ? { credentials: creds } : {}),
        maxAttempts: options.maxAttempts ?? 3,
        retryMode: 'standard',
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { connectionTimeout: options.connectionTimeoutMs ?? 5000, requestTimeout: options.requestTimeoutMs ?? 30_000 },
      });
  }

  /** Stores `body` under `key`: one PutObject up to the multipart threshold, a multipart upload above it. */
  async put(key: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    options.signal?.throwIfAborted();
    if (body.length > this.#threshold) return this.#putMultipart(key, body, options);
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
          Metadata: { ...options.metadata },
          ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(this.#checksums ? { ChecksumAlgorithm: 'CRC32C' as const, ChecksumCRC32C: options.crc32cBase64 } : {}),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      this.#bucketSeen = true;
      return { serverVerifiedChecksum: this.#checksums && out.ChecksumCRC32C === options.crc32cBase64 };
    } catch (e) {
      throw this.#error(e, 'PutObject', key, options.signal);
    }
  }

  async #putMultipart(key: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    const signal = options.signal;
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: key,
          ContentType: 'application/octet-stream',
          Metadata: { ...options.metadata },
          ...(this.#checksums ? { ChecksumAlgorithm: 'CRC32C' as const, ChecksumType: 'FULL_OBJECT' as const } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      uploadId = created.UploadId;
      if (!uploadId) throw new ArchiveRequestError(this.location, `CreateMultipartUpload of '${key}'`, 'the response carries no UploadId');
      this.#bucketSeen = true;
    } catch (e) {
      throw this.#error(e, 'CreateMultipartUpload', key, signal);
    }

    // Parts go `concurrency` at a time; the first failure (or the caller's abort) cancels the others.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const count = Math.ceil(body.length / this.#partSize);
    const parts: CompletedPart[] = new Array(count);
    let next = 0;
    let failure: { error: unknown; op: string } | undefined;
    const worker = async () => {
      while (!failure && !stop.signal.aborted && next < count) {
        const i = next++;
        const data = body.subarray(i * this.#partSize, Math.min(body.length, (i + 1) * this.#partSize));
        const crc = this.#checksums ? crc32cOf(data) : undefined;
        try {
          const out = await this.client.send(
            new UploadPartCommand({
              Bucket: this.#bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: i + 1,
              Body: data,
              ContentLength: data.length,
              ...(crc ? { ChecksumAlgorithm: 'CRC32C' as const, ChecksumCRC32C: crc } : {}),
            }),
            { abortSignal: stop.signal },
          );
          if (!out.ETag) throw new ArchiveRequestError(this.location, `UploadPart ${i + 1} of '${key}'`, 'the response carries no ETag');
          parts[i] = { PartNumber: i + 1, ETag: out.ETag, ...(crc ? { ChecksumCRC32C: crc } : {}) };
        } catch (e) {
          failure ??= { error: e, op: `UploadPart ${i + 1}/${count}` };
          stop.abort(e);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, count) }, worker));
      if (!failure && signal?.aborted) failure = { error: signal.reason, op: 'UploadPart' };
      if (!failure) {
        try {
          const out = await this.client.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.#bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts },
              MpuObjectSize: body.length,
              ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
              ...(this.#checksums ? { ChecksumCRC32C: options.crc32cBase64, ChecksumType: 'FULL_OBJECT' as const } : {}),
            }),
            signal ? { abortSignal: signal } : {},
          );
          uploadId = undefined; // completed: nothing to abort
          return { serverVerifiedChecksum: this.#checksums && out.ChecksumCRC32C === options.crc32cBase64 };
        } catch (e) {
          failure = { error: e, op: 'CompleteMultipartUpload' };
        }
      }
      throw this.#error(failure.error, failure.op, key, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (uploadId !== undefined) {
        // Best effort, never with the caller's (possibly aborted) signal. If the server is gone the upload
        // stays until a lifecycle rule removes it; the original failure is what `put` reports.
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: key, UploadId: uploadId })).catch(() => {});
      }
    }
  }

  /** The whole object, or bytes `[start, end)` (clipped to the object's end, as {@link MemoryObjectStore} does). */
  async get(key: string, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array> {
    if (range) {
      if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0) {
        throw new InvalidArgumentError(`S3ObjectStore.get: invalid range [${range.start}, ${range.end})`);
      }
      if (range.end <= range.start) {
        if ((await this.head(key)) === undefined) throw new ObjectNotFoundError(this.location, key);
        return new Uint8Array(0);
      }
    }
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
      );
      this.#bucketSeen = true;
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      let expected = out.ContentLength;
      if (range) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(out.ContentRange ?? '');
        if (m) {
          if (Number(m[1]) !== range.start) {
            throw new ArchiveRequestError(
              this.location,
              `GetObject '${key}'`,
              `asked for bytes from ${range.start}, got Content-Range ${out.ContentRange}`,
            );
          }
          expected = Number(m[2]) - Number(m[1]) + 1;
        } else if (bytes.length === expected) {
          // The server ignored the Range header and sent the whole object: cut the range out here.
          return bytes.slice(range.start, Math.min(range.end, bytes.length));
        }
      }
      if (expected !== undefined && bytes.length !== expected) {
        throw new ArchiveRequestError(this.location, `GetObject '${key}'`, `short read: ${bytes.length} bytes of ${expected}`);
      }
      return bytes;
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      const raw = asRaw(e);
      // A range starting at or past the end of the object (the object exists; it is shorter).
      if (range && (raw.name === 'InvalidRange' || raw.$metadata?.httpStatusCode === 416)) return new Uint8Array(0);
      throw this.#error(e, 'GetObject', key, undefined, true);
    }
  }

  /** Size and user metadata (lower-case keys), or undefined when there is no such object. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      this.#bucketSeen = true;
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.Metadata ?? {})) metadata[k.toLowerCase()] = v;
      return { key, size: out.ContentLength ?? 0, metadata };
    } catch (e) {
      const raw = asRaw(e);
      if (raw.name === 'NotFound' || raw.name === 'NoSuchKey' || raw.$metadata?.httpStatusCode === 404) {
        // A HEAD response has no body, so a missing bucket is a 404 too: tell them apart once.
        if (!this.#bucketSeen) await this.#checkBucket();
        return undefined;
      }
      throw this.#error(e, 'HeadObject', key);
    }
  }

  async #checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
      this.#bucketSeen = true;
    } catch (e) {
      const raw = asRaw(e);
      if (raw.name === 'NotFound' || raw.name === 'NoSuchBucket' || raw.$metadata?.httpStatusCode === 404) {
        throw new ArchiveBucketNotFoundError(this.#bucket, { cause: e });
      }
      throw this.#error(e, 'HeadBucket', undefined);
    }
  }

  /** Every object whose key starts with `prefix`, in key order, following ListObjectsV2 continuation tokens. */
  async list(prefix: string): Promise<ObjectSummary[]> {
    const result: ObjectSummary[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: prefix,
            MaxKeys: this.#pageSize,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        this.#bucketSeen = true;
        for (const o of out.Contents ?? []) if (o.Key !== undefined) result.push({ key: o.Key, size: o.Size ?? 0 });
        if (out.IsTruncated && !out.NextContinuationToken) {
          throw new ArchiveRequestError(this.location, `ListObjectsV2 '${prefix}'`, 'a truncated page carries no continuation token');
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      throw this.#error(e, 'ListObjectsV2', prefix);
    }
    return result;
  }

  /** Deletes an object; a missing key is not an error (S3 answers 204 either way). */
  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
      this.#bucketSeen = true;
    } catch (e) {
      const raw = asRaw(e);
      if (raw.name === 'NoSuchKey') return;
      throw this.#error(e, 'DeleteObject', key);
    }
  }

  /** Maps any failure to an {@link ArchiveError}; an abort by the caller's signal surfaces as `signal.reason`. */
  #error(e: unknown, operation: string, key: string | undefined, signal?: AbortSignal, keyMissingIsNotFound = false): unknown {
    if (signal?.aborted) return signal.reason;
    if (e instanceof ArchiveError) return e;
    const f = this.#classify(e);
    const what = key !== undefined ? `${operation} '${key}'` : operation;
    switch (f.kind) {
      case 'unreachable':
        return new ArchiveUnreachableError(this.location, `${what}: ${f.detail}`, { cause: e });
      case 'denied':
        return new ArchiveAccessDeniedError(this.location, `${what}: ${f.detail}`, { cause: e });
      case 'no-bucket':
        return new ArchiveBucketNotFoundError(this.#bucket, { cause: e });
      case 'no-key':
        if (keyMissingIsNotFound && key !== undefined) return new ObjectNotFoundError(this.location, key, { cause: e });
        break;
      case 'exists':
        if (key !== undefined) return new ObjectExistsError(this.location, key, { cause: e });
        break;
    }
    return new ArchiveRequestError(this.location, what, f.detail, f.status, { cause: e });
  }

  #classify(e: unknown): Failure {
    const raw = asRaw(e);
    const name = typeof raw.name === 'string' ? raw.name : 'Error';
    const code = typeof raw.code === 'string' ? raw.code : undefined;
    const message = typeof raw.message === 'string' ? raw.message : '';
    const status = raw.$metadata?.httpStatusCode ?? raw.$response?.statusCode;
    const nested = Array.isArray(raw.errors) ? raw.errors.map((x) => asRaw(x).code).filter((c): c is string => typeof c === 'string') : [];
    const text = message && message !== 'UnknownError' && message !== name ? `${name}: ${message}` : name;
    const detail = this.#redact(`${code && !text.includes(code) ? `${code} ` : ''}${text}${status ? ` (HTTP ${status})` : ''}`).slice(
      0,
      400,
    );
    if (
      (code !== undefined && NETWORK_CODES.has(code)) ||
      nested.some((c) => NETWORK_CODES.has(c)) ||
      name === 'TimeoutError' ||
      /socket hang up|ECONNREFUSED|ECONNRESET|EPIPE|getaddrinfo/.test(message)
    ) {
      return { kind: 'unreachable', detail };
    }
    if (DENIED_CODES.has(name) || status === 403) return { kind: 'denied', status, detail };
    if (name === 'NoSuchBucket') return { kind: 'no-bucket', status, detail };
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return { kind: 'no-key', status, detail };
    if (name === 'PreconditionFailed' || status === 412) return { kind: 'exists', status, detail };
    return { kind: 'other', status, detail };
  }

  #redact(s: string): string {
    for (const secret of this.#secrets) s = s.split(secret).join('[redacted]');
    return s;
  }
}
