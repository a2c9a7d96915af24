/**
 * The simulation's view of a file system: a thin wrapper, directly over fs-memory (under the fault
 * injector and its latency scheduler, so it sees operations in the order they reach the disk), that counts
 * every operation (file system and handle), so that a power cut can strike at operation N — in the middle of create, a cut, a repair — and
 * that watches for what must never happen whatever the input: a read larger than the file (a corrupt
 * length turned into an allocation), a file grown far beyond anything the WAL needs, an operation storm
 * (livelock), handles left open.
 *
 * At operation N (`crashAt`) the wrapper takes the post-crash file system (`onCrash`, normally
 * `MemoryFileSystem.crash()`), then fails that operation and every later one with EIO: the WAL call in
 * flight ends with an error, as the process would have died there, and the simulation continues on the
 * post-crash file system.
 */
import { FileSystemError, type FileHandle, type FileStat, type FileSystem, type OpenFlags, type OpenOptions } from '@walnut/wal-core';

/** Something the wrapper saw that no input may cause. */
export class SimViolation extends Error {
  override readonly name = 'SimViolation';
}

export interface SimFsOptions {
  /** Called at the crash point (synchronously: nothing else may run between the count and the crash image). */
  readonly onCrash?: (op: number, what: string) => void;
  /** Called before a rename is performed (the model learns about cuts from it). */
  readonly onRename?: (from: string, to: string) => void;
  /** Called after each operation that succeeded, with its kind and path. */
  readonly observe?: (kind: string, path: string) => void;
  /** Operations allowed before the wrapper declares a livelock (default: unlimited). */
  readonly opBudget?: number;
  /** A planted bug (for the checker's own test): writes for which this returns true are silently dropped. */
  readonly dropWrite?: (path: string, position: number, length: number) => boolean;
  /** Largest size a file may be given by write/truncate/allocate (default 256 MiB). */
  readonly maxFileBytes?: number;
}

/** What the wrapper observed. */
export interface SimFsReport {
  readonly ops: number;
  readonly violations: readonly string[];
  readonly openHandles: number;
}

export class SimFileSystem implements FileSystem {
  /** Operations performed (or attempted) so far. */
  ops = 0;
  /** Operation number at which the power fails (1-based: the next op is `ops + 1`). */
  crashAt: number | undefined;
  /** Set once the crash struck: every further operation fails. */
  crashed: { readonly op: number; readonly what: string } | undefined;
  /** What the last operation was (for traces). */
  lastOp = '';
  readonly violations: string[] = [];
  readonly handles = new Set<SimFileHandle>();
  readonly dropWrite: SimFsOptions['dropWrite'];
  private readonly maxFileBytes: number;

  constructor(
    readonly inner: FileSystem,
    private readonly options: SimFsOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 256 * 1024 * 1024;
    this.dropWrite = options.dropWrite;
  }

  /**
   * Counts an operation; strikes the crash at `crashAt`; fails everything after it. Synchronous, and every
   * caller starts the wrapped operation right after it, in the same turn: fs-memory does its work in the
   * synchronous part of each call, so operation N is counted and done before anything else can run, and a
   * crash image taken at operation N holds exactly operations 1..N-1.
   */
  step(kind: string, path: string): void {
    this.ops++;
    this.lastOp = `${kind} ${path}`;
    if (this.crashed) throw new FileSystemError('EIO', kind, path, 'the simulated machine lost power');
    if (this.options.opBudget !== undefined && this.ops > this.options.opBudget) {
      const v = `operation budget of ${this.options.opBudget} exceeded (livelock?) at ${kind} ${path}`;
      this.violations.push(v);
      throw new SimViolation(v);
    }
    if (this.crashAt !== undefined && this.ops >= this.crashAt) {
      const what = `${kind} ${path}`;
      this.crashed = { op: this.ops, what };
      this.crashAt = undefined;
      this.options.onCrash?.(this.ops, what);
      throw new FileSystemError('EIO', kind, path, 'the simulated machine lost power');
    }
  }

  /** Runs the wrapped operation and reports it to `observe` if it succeeded. */
  async done<T>(kind: string, path: string, p: Promise<T>): Promise<T> {
    const v = await p;
    this.options.observe?.(kind, path);
    return v;
  }

  checkSize(path: string, size: number, what: string): void {
    if (size > this.maxFileBytes) {
      const v = `${what} would make ${path} ${size} bytes (limit ${this.maxFileBytes})`;
      this.violations.push(v);
      throw new SimViolation(v);
    }
  }

  /**
   * The process dies (kill -9): every further operation fails, and every handle it had open is closed,
   * releasing its locks. The disk (the wrapped file system) keeps everything, durable or not.
   */
  async kill(): Promise<void> {
    this.crashed ??= { op: this.ops, what: 'process killed' };
    this.crashAt = undefined;
    const open = [...this.handles];
    this.handles.clear();
    for (const h of open) await h.release();
  }

  report(): SimFsReport {
    return { ops: this.ops, violations: [...this.violations], openHandles: this.handles.size };
  }

  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    this.step(`open(${flags})`, path);
    const h = new SimFileHandle(this, await this.inner.open(path, flags, options));
    this.handles.add(h);
    return h;
  }

  async readdir(path: string): Promise<string[]> {
    this.step('readdir', path);
    return this.inner.readdir(path);
  }

  async stat(path: string): Promise<FileStat> {
    this.step('stat', path);
    return this.inner.stat(path);
  }

  async mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    this.step('mkdir', path);
    return this.inner.mkdir(path, options);
  }

  async remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    this.step('remove', path);
    return this.done('remove', path, this.inner.remove(path, options));
  }

  async rename(from: string, to: string): Promise<void> {
    this.step('rename', `${from} -> ${to}`);
    this.options.onRename?.(from, to);
    return this.inner.rename(from, to);
  }

  async syncDir(path: string): Promise<void> {
    this.step('syncDir', path);
    return this.done('syncDir', path, this.inner.syncDir(path));
  }
}

class SimFileHandle implements FileHandle {
  readonly path: string;

  constructor(
    private readonly fs: SimFileSystem,
    private readonly h: FileHandle,
  ) {
    this.path = h.path;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const size = this.fs.crashed ? 0 : await this.h.size();
    this.fs.step('read', this.path);
    // A reader may ask for a length word (8 bytes) past a short file; anything larger than the file is an
    // allocation sized by untrusted data.
    if (length > Math.max(size, 8) || buffer.byteLength > Math.max(size, 8, 1024 * 1024)) {
      const v = `read of ${length} bytes into a ${buffer.byteLength}-byte buffer from ${this.path} (${size} bytes) at ${position}`;
      this.fs.violations.push(v);
      throw new SimViolation(v);
    }
    return this.h.read(buffer, offset, length, position);
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.fs.step('write', `${this.path}@${position}+${length}`);
    this.fs.checkSize(this.path, position + length, 'write');
    if (this.fs.dropWrite?.(this.path, position, length)) return length;
    return this.fs.done('write', this.path, this.h.write(buffer, offset, length, position));
  }

  async size(): Promise<number> {
    this.fs.step('size', this.path);
    return this.h.size();
  }

  async truncate(size: number): Promise<void> {
    this.fs.step('truncate', `${this.path}@${size}`);
    this.fs.checkSize(this.path, size, 'truncate');
    return this.h.truncate(size);
  }

  async allocate(size: number): Promise<void> {
    this.fs.step('allocate', `${this.path}@${size}`);
    this.fs.checkSize(this.path, size, 'allocate');
    return this.h.allocate(size);
  }

  async datasync(): Promise<void> {
    this.fs.step('datasync', this.path);
    return this.fs.done('datasync', this.path, this.h.datasync());
  }

  async sync(): Promise<void> {
    this.fs.step('sync', this.path);
    return this.fs.done('sync', this.path, this.h.sync());
  }

  async tryLock(): Promise<void> {
    this.fs.step('tryLock', this.path);
    return this.h.tryLock();
  }

  async lock(): Promise<void> {
    this.fs.step('lock', this.path);
    return this.h.lock();
  }

  async unlock(): Promise<void> {
    this.fs.step('unlock', this.path);
    return this.h.unlock();
  }

  /** Closes the wrapped handle without counting (the process died). */
  async release(): Promise<void> {
    await this.h.close().catch(() => {});
  }

  async close(): Promise<void> {
    // If the crash strikes here the handle stays listed: kill() releases it (a dead process's descriptors close).
    this.fs.step('close', this.path);
    this.fs.handles.delete(this);
    return this.h.close();
  }
}
