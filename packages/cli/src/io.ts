/**
 * What every command gets: where to write, and which file system to use.
 */
import type { FileSystem } from '@walnut/wal-core';

/** Output sinks of the CLI: `bin.ts` passes the process streams, tests pass string collectors. */
export interface CliIo {
  /** Receives the command's result (JSON or text). */
  readonly stdout: (text: string) => void;
  /** Receives diagnostics: error messages, hints, usage errors. */
  readonly stderr: (text: string) => void;
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
}

/** The context a command runs in. */
export interface CommandContext {
  readonly io: CliIo;
  readonly fs: FileSystem;
}
