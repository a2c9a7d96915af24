/**
 * Where the archive is: `--bucket`, `--prefix`, `--endpoint`, `--region`, `--path-style`, falling back to
 * `S3_BUCKET`, `S3_ENDPOINT`, `S3_REGION`, `S3_FORCE_PATH_STYLE`; credentials from `S3_ACCESS_KEY_ID` /
 * `S3_SECRET_ACCESS_KEY` (and `S3_SESSION_TOKEN`), else the AWS SDK's default chain (`AWS_ACCESS_KEY_ID`,
 * profiles, instance roles). Secrets are never printed.
 */
import type { ObjectStore } from '@walnut/fs-s3-archive';
import type { ArchiveLocation } from './io.js';

/** The archive flags as commander parses them. */
export interface ArchiveFlags {
  readonly bucket?: string;
  readonly prefix?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly pathStyle?: boolean;
}

/** A command-line mistake found after parsing (exit code 2). */
export class UsageError extends Error {
  /** What to do about it. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** `1`, `true`, `yes`, `on` (any case) are true; anything else false. */
function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

/**
 * The archive location from the flags and the environment.
 * @throws {@link UsageError} when the bucket or the prefix is missing, or only one half of the S3 keys is set
 */
export function resolveArchiveLocation(flags: ArchiveFlags, env: Readonly<Record<string, string | undefined>>): ArchiveLocation {
  const bucket = nonEmpty(flags.bucket) ?? nonEmpty(env['S3_BUCKET']);
  if (bucket === undefined) throw new UsageError('no bucket: pass --bucket NAME or set S3_BUCKET');
  if (flags.prefix === undefined) {
    throw new UsageError(
      'no archive prefix: pass --prefix PREFIX, the key prefix of the archived WAL directory itself',
      "e.g. --prefix cluster-a/member-1/wal/ (an S3ArchiveFileSystem with prefix 'cluster-a/member-1/' and root '/var/lib/etcd/member' archives /var/lib/etcd/member/wal there); --prefix '' is the bucket root",
    );
  }
  const prefix = flags.prefix === '' || flags.prefix.endsWith('/') ? flags.prefix : `${flags.prefix}/`;
  const accessKeyId = nonEmpty(env['S3_ACCESS_KEY_ID']);
  const secretAccessKey = nonEmpty(env['S3_SECRET_ACCESS_KEY']);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new UsageError(
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (or neither, for the AWS default credential chain)',
    );
  }
  const sessionToken = nonEmpty(env['S3_SESSION_TOKEN']);
  return {
    bucket,
    prefix,
    endpoint: nonEmpty(flags.endpoint) ?? nonEmpty(env['S3_ENDPOINT']),
    region: nonEmpty(flags.region) ?? nonEmpty(env['S3_REGION']),
    forcePathStyle: flags.pathStyle === true || truthy(env['S3_FORCE_PATH_STYLE']),
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }
        : undefined,
  };
}

/** `s3://bucket/prefix` (never credentials), for messages. */
export function describeLocation(loc: ArchiveLocation): string {
  return `s3://${loc.bucket}/${loc.prefix}${loc.endpoint === undefined ? '' : ` at ${loc.endpoint}`}`;
}

/**
 * The default object store: an `S3ObjectStore` of @walnut/fs-s3-archive, loaded on first use so that the
 * commands that do not touch the archive never load the AWS SDK.
 */
export async function defaultObjectStore(loc: ArchiveLocation): Promise<ObjectStore> {
  const { S3ObjectStore } = await import('@walnut/fs-s3-archive');
  return new S3ObjectStore({
    bucket: loc.bucket,
    prefix: loc.prefix,
    forcePathStyle: loc.forcePathStyle,
    ...(loc.endpoint === undefined ? {} : { endpoint: loc.endpoint }),
    ...(loc.region === undefined ? {} : { region: loc.region }),
    ...(loc.credentials === undefined ? {} : { credentials: { ...loc.credentials } }),
  });
}
