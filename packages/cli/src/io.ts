/**
 * What every command gets: where to write, and which file system to use.
 */
import type { FileSystem } from '@walnut/wal-core';
import type { ObjectStore } from '@walnut/fs-s3-archive';

/** Output sinks of the CLI: `bin.ts` passes the process streams, tests pass string collectors. */
export interface CliIo {
  /** Receives the command's result (JSON or text). */
  readonly stdout: (text: string) => void;
  /** Receives diagnostics: error messages, hints, usage errors. */
  readonly stderr: (text: string) => void;
  /**
   * Whether stderr is a terminal: progress bars (`archive verify --deep`, `restore`) are drawn only then.
   * Default false.
   */
  readonly stderrIsTTY?: boolean;
  /**
   * Whether the user can be asked a question: stdin and stderr are terminals. `repair` asks for
   * confirmation only then (through {@link CliIo.prompt}); otherwise it needs `--yes`. Default false.
   */
  readonly interactive?: boolean;
  /** Asks `question` (on stderr) and resolves with the answer line. Used only when `interactive` is true. */
  readonly prompt?: (question: string) => Promise<string>;
}

/**
 * Exit codes of `walnut`, documented in the package README. Scripts may rely on them.
 */
export const ExitCode = {
  /** The command succeeded and found no error. */
  Ok: 0,
  /** The WAL (or the storage under it) reported an error: corruption, torn tail, wrong snapshot, missing files, lock held, ... */
  WalError: 1,
  /** The command line is wrong: unknown command or option, missing argument, malformed `--snap`. */
  Usage: 2,
  /** An unexpected internal error (a bug in walnut): the stack trace goes to stderr. */
  Internal: 3,
  /**
   * Not confirmed: the command would modify files (`repair`) and was not confirmed, because the answer was
   * no or because there was no terminal to ask on and `--yes` was not given. Nothing was changed.
   */
  NotConfirmed: 4,
} as const;
/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Options of {@link runCli} beyond the command line. */
export interface CliOptions {
  /**
   * The file system to run on. Default: a `NodeFileSystem` (ordinary OS paths).
   * Tests and embedders may pass another backend, e.g. a `MemoryFileSystem`.
   */
  readonly fs?: FileSystem;
  /**
   * Makes the object store of the `archive` commands and `restore` from the resolved location. Default:
   * an `S3ObjectStore` of @walnut/fs-s3-archive. Tests pass a `MemoryObjectStore`.
   */
  readonly objectStore?: (location: ArchiveLocation) => ObjectStore | Promise<ObjectStore>;
  /** The environment the archive location falls back to (`S3_BUCKET`, ...). Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Where an archived WAL directory is, from the command line (`--bucket`, `--prefix`, `--endpoint`,
 * `--region`, `--path-style`) and the environment (`S3_BUCKET`, `S3_ENDPOINT`, `S3_REGION`,
 * `S3_FORCE_PATH_STYLE`, `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`).
 */
export interface ArchiveLocation {
  /** The bucket (`--bucket`, `S3_BUCKET`). */
  readonly bucket: string;
  /** The key prefix of the WAL directory itself (ends with `/` unless empty, the bucket root). */
  readonly prefix: string;
  /** An S3-compatible server's URL; AWS when undefined. */
  readonly endpoint: string | undefined;
  /** The region; undefined lets the store choose (us-east-1). */
  readonly region: string | undefined;
  /** Path-style addressing (most S3-compatible servers need it). */
  readonly forcePathStyle: boolean;
  /** Explicit credentials (`S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`); undefined: the AWS SDK's default chain. */
  readonly credentials:
    | {
        /** The access key id (`S3_ACCESS_KEY_ID`). */
        readonly accessKeyId: string;
        /** The secret access key (`S3_SECRET_ACCESS_KEY`). */
        readonly secretAccessKey: string;
        /** A session token, for temporary credentials (`S3_SESSION_TOKEN`). */
        readonly sessionToken?: string;
      }
    | undefined;
}

/** The context a command runs in. */
export interface CommandContext {
  readonly io: CliIo;
  readonly fs: FileSystem;
  /** Makes the archive's object store (see {@link CliOptions.objectStore}). */
  readonly objectStore: (location: ArchiveLocation) => Promise<ObjectStore>;
  /** The environment (see {@link CliOptions.env}). */
  readonly env: Readonly<Record<string, string | undefined>>;
}
