/**
 * The FileSystem contract suite (DESIGN §5): one function that registers vitest tests for every
 * operation and every portably provokable error code of `FileSystem`/`FileHandle`, run by each
 * backend's own test target with a factory for that backend.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { FileSystem } from '@walnut/wal-core';
import { SuiteContext } from './fs-suite/context.js';
import { crashTests, type CrashCapability } from './fs-suite/crash.js';
import { crossProcessTests } from './fs-suite/cross-process.js';
import { directoryTests } from './fs-suite/directories.js';
import { ioTests } from './fs-suite/io.js';
import { lockTests } from './fs-suite/locks.js';
import { openTests } from './fs-suite/open.js';
import { renameTests } from './fs-suite/rename.js';
import { sizeTests } from './fs-suite/size.js';
import { syncTests } from './fs-suite/sync.js';

export type { CrashCapability, CrashMode, CrashRequest } from './fs-suite/crash.js';

/** What {@link FileSystemSuiteFactory.create} returns for one test. */
export interface FileSystemSuiteFixture {
  /** The file system under test (may be shared between tests, or fresh each time). */
  readonly fs: FileSystem;
  /** An existing, empty directory of `fs` that this test owns; every path the suite uses is below it. */
  readonly dir: string;
  /** Removes whatever the test left behind. Called after every test, after the suite closed its handles. */
  cleanup(): Promise<void>;
}

/** Another process holding a lock, started by {@link CrossProcessLocking.holdLock}. */
export interface LockHolderProcess {
  /**
   * Ends the process abruptly (SIGKILL: no unlock, no close) and resolves once it has exited,
   * i.e. once the operating system has released everything it held.
   */
  kill(): Promise<void>;
}

/** How the suite can make another process take a lock, for backends whose locks cross processes. */
export interface CrossProcessLocking {
  /**
   * Starts another process that opens the existing file `path` (a path of the fixture's `fs`)
   * for writing and takes its exclusive lock without waiting. Resolves once that process holds
   * the lock; rejects with a `FileSystemError` whose code is `ELOCKED` if the lock is already
   * held (the process has then exited).
   */
  holdLock(path: string): Promise<LockHolderProcess>;
}

/** A backend under test. */
export interface FileSystemSuiteFactory {
  /** Names the backend in test titles (e.g. `"node"`, `"memory"`). */
  readonly name: string;
  /** A file system and a fresh empty scratch directory for one test. */
  create(): Promise<FileSystemSuiteFixture>;
  /**
   * Present when the backend's locks exclude other processes (fs-node). Without it the
   * cross-process tests are registered as skipped, with the reason in their title.
   */
  readonly crossProcess?: CrossProcessLocking;
  /** Present when the backend can simulate a crash (fs-memory): the crash-semantics tests run. Without it they are skipped. */
  readonly crash?: CrashCapability;
}

/**
 * Registers the FileSystem contract tests (vitest `describe`/`it`) for one backend. Call it at
 * the top level of a test file:
 *
 * ```ts
 * fileSystemSuite({
 *   name: 'memory',
 *   async create() {
 *     const fs = new MemoryFileSystem();
 *     await fs.mkdir('/t');
 *     return { fs, dir: '/t', cleanup: async () => {} };
 *   },
 * });
 * ```
 *
 * Every handle a test opens through the suite is closed after the test, before `cleanup`.
 */
export function fileSystemSuite(factory: FileSystemSuiteFactory): void {
  describe(`FileSystem conformance: ${factory.name}`, () => {
    let current: SuiteContext | undefined;

    beforeEach(async () => {
      current = new SuiteContext(await factory.create());
    });

    afterEach(async () => {
      const ctx = current;
      current = undefined;
      if (ctx !== undefined) await ctx.dispose();
    });

    const ctx = (): SuiteContext => {
      if (current === undefined) throw new Error('fileSystemSuite: no fixture (called outside a test?)');
      return current;
    };

    openTests(ctx);
    ioTests(ctx);
    sizeTests(ctx);
    syncTests(ctx);
    directoryTests(ctx);
    renameTests(ctx);
    lockTests(ctx);
    crossProcessTests(ctx, factory.crossProcess);
    crashTests(ctx, factory.crash);
  });
}
