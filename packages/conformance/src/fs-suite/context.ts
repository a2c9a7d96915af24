/**
 * Per-test state and helpers shared by the FileSystem suite's sections.
 */
import { expect } from 'vitest';
import {
  FileSystemError,
  joinPath,
  readFully,
  writeFully,
  type FileHandle,
  type FileSystem,
  type FileSystemErrorCode,
  type OpenFlags,
  type OpenOptions,
} from '@walnut/wal-core';
import type { FileSystemSuiteFixture, LockHolderProcess } from '../file-system-suite.js';

/** A fixture plus bookkeeping: handles and helper processes to close after the test. */
export class SuiteContext {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly #fixture: FileSystemSuiteFixture;
  readonly #handles: FileHandle[] = [];
  readonly #processes: LockHolderProcess[] = [];

  constructor(fixture: FileSystemSuiteFixture) {
    this.#fixture = fixture;
    this.fs = fixture.fs;
    this.dir = fixture.dir;
  }

  /** A path below the scratch directory. */
  path(...names: string[]): string {
    return joinPath(this.dir, ...names);
  }

  /** Opens a file; the handle is closed after the test. */
  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    const h = await this.fs.open(path, flags, options);
    this.#handles.push(h);
    return h;
  }

  /** Creates (or replaces) a file with the given content. */
  async writeFile(path: string, content: Uint8Array | string): Promise<void> {
    const data = typeof content === 'string' ? bytes(content) : content;
    const h = await this.fs.open(path, 'createTruncate');
    try {
      await writeFully(h, data, 0, data.length, 0);
    } finally {
      await h.close();
    }
  }

  /** The whole content of a file. */
  async readFile(path: string): Promise<Uint8Array> {
    const h = await this.fs.open(path, 'read');
    try {
      const size = await h.size();
      const buf = new Uint8Array(size);
      const n = await readFully(h, buf, 0, size, 0);
      return buf.subarray(0, n);
    } finally {
      await h.close();
    }
  }

  /** Remembers a helper process so it is killed after the test. */
  track(process: LockHolderProcess): LockHolderProcess {
    this.#processes.push(process);
    return process;
  }

  /** Closes what the test left open, then runs the fixture's cleanup. */
  async dispose(): Promise<void> {
    for (const p of this.#processes.splice(0)) await p.kill().catch(() => undefined);
    for (const h of this.#handles.splice(0)) await h.close().catch(() => undefined);
    await this.#fixture.cleanup();
  }
}

/** UTF-8 bytes of a string. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A string from UTF-8 bytes. */
export function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** Deterministic, non-repeating-looking test data of `n` bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Asserts that `promise` rejects with a walnut {@link FileSystemError} carrying `code`, and (if
 * given) naming `path`. Resolves with the error for further checks.
 */
export async function expectFsError(promise: Promise<unknown>, code: FileSystemErrorCode, path?: string): Promise<FileSystemError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a FileSystemError ${code}, but the operation succeeded`).toBeDefined();
  expect(caught, `expected a FileSystemError ${code}, got ${String(caught)}`).toBeInstanceOf(FileSystemError);
  const e = caught as FileSystemError;
  expect(e.code, `wrong code (message: ${e.message})`).toBe(code);
  expect(typeof e.syscall === 'string' && e.syscall.length > 0, 'the error names its syscall').toBe(true);
  if (path !== undefined) expect(e.path).toBe(path);
  return e;
}

/** How a promise stands after waiting `ms` milliseconds of real time. */
export async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with `promise`'s value, or fails the test if it does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Time given to an operation that must stay blocked, before the suite concludes it is blocked. */
export const BLOCKED_MS = 60;
/** Upper bound for an operation that must complete once it is unblocked. */
export const SETTLE_MS = 5_000;
