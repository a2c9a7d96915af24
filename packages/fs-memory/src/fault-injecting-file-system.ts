/**
 * {@link FaultInjectingFileSystem}: a wrapper around any {@link FileSystem} (fs-memory, fs-node, ...)
 * that fails chosen operations with `EIO` or `ENOSPC`, shortens writes, flips bits in what reads
 * return, and lets a seeded scheduler decide latency and completion order. Every decision comes from
 * the seed and the order of operations, so a failing run replays exactly.
 */
import {
  FileSystemError,
  type AllocateOptions,
  type FileHandle,
  type FileStat,
  type FileSystem,
  type NamedFileSystem,
  type OpenFlags,
  type OpenOptions,
} from '@walnut/wal-core';
import { SplitMix64, toSeed } from './prng.js';

/** Every operation the wrapper counts, by name. Handle operations carry the path the handle was opened with. */
export type OperationKind =
  | 'open'
  | 'read'
  | 'write'
  | 'size'
  | 'truncate'
  | 'allocate'
  | 'datasync'
  | 'sync'
  | 'lock'
  | 'tryLock'
  | 'unlock'
  | 'close'
  | 'readdir'
  | 'stat'
  | 'mkdir'
  | 'remove'
  | 'rename'
  | 'syncDir';

/**
 * Which operations fail, and how. Without `nth` and `every`, the first matching operation fails;
 * with `nth`, the n-th matching one (1-based, counted from when the rule was added); with `every`,
 * every matching one (from the `nth` on, if given).
 */
export interface FaultRule {
  /** Operation kinds that match (default: all). */
  readonly kind?: OperationKind | readonly OperationKind[];
  /** Path that matches: equal to the path the caller gave (for `rename`, either path), or a RegExp tested on it. */
  readonly path?: string | RegExp;
  /** Fail the n-th matching operation (1-based; default 1). */
  readonly nth?: number;
  /** Fail every matching operation from the `nth` on. */
  readonly every?: boolean;
  /** The error code to fail with. */
  readonly error: 'EIO' | 'ENOSPC';
}

/** One operation, as the wrapper counted it. */
export interface OperationInfo {
  /** 1-based position among every operation of this wrapper ({@link FaultInjectingFileSystem.operationCount}). */
  readonly index: number;
  /** Which operation. */
  readonly kind: OperationKind;
  /** The path the caller gave (for handle operations, the path the handle was opened with; for `rename`, the source). */
  readonly path: string;
}

/** A fault the wrapper injected, for traces and replay reports. */
export interface InjectedFault extends OperationInfo {
  /** What was injected: an error (`EIO`, `ENOSPC`), a short write, or a flipped bit in the data read. */
  readonly fault: 'EIO' | 'ENOSPC' | 'shortWrite' | 'bitFlip';
  /** What exactly happened (e.g. `wrote 17 of 4096 bytes`, `bit 3 of byte 120 of the read`). */
  readonly detail?: string;
}

/**
 * Decides when each operation may run: latency, and therefore the completion order of operations in
 * flight at the same time. Called before every counted operation, after the fault decisions.
 */
export interface OperationScheduler {
  /** Resolves when `op` may run; the wrapper awaits it before running the operation. */
  admit(op: OperationInfo): Promise<void>;
}

/** Options of {@link FaultInjectingFileSystem}. */
export interface FaultInjectingOptions {
  /** Seed of short writes and bit flips (the rules themselves are deterministic). */
  readonly seed: number | bigint;
  /** Initial rules (see {@link FaultInjectingFileSystem.addFault}). */
  readonly faults?: readonly FaultRule[];
  /**
   * Probability (0..1) that a write is cut short: a random non-empty prefix of it is written and the
   * shorter count returned. The cut falls at a file offset that is a multiple of `shortWriteAlignment`;
   * a write that does not cross such an offset is never shortened.
   */
  readonly shortWrites?: number;
  /**
   * Where a short write may end, in file offsets (default 512). Linux cuts a write to a regular file short
   * (a fatal signal, ENOSPC, EDQUOT) only between pages (`generic_perform_write` copies page by page, and a
   * single page's copy is atomic with respect to writeback), so a crash can never leave a record cut
   * inside a 512-byte sector — the torn-write model etcd's format is built on. `1` models a file system
   * that can stop at any byte: stronger than any Linux file system, and beyond what etcd's (and walnut's)
   * torn-tail detection recognizes — such a tail reads as a CRC mismatch, a typed error, not a torn tail.
   */
  readonly shortWriteAlignment?: number;
  /** Probability (0..1) that a read returning data has one bit of it flipped. */
  readonly bitFlipsOnRead?: number;
  /** Decides latency and completion order (e.g. {@link SeededScheduler}); default: none, operations run at once. */
  readonly scheduler?: OperationScheduler;
  /**
   * Called synchronously for every operation before it runs (and before any fault): e.g. to take a
   * `MemoryFileSystem.crash()` exactly before the n-th operation.
   */
  readonly onOperation?: (op: OperationInfo) => void;
}

interface ActiveRule {
  readonly rule: FaultRule;
  readonly kinds: ReadonlySet<OperationKind> | undefined;
  matched: number;
}

/** The optional hook of a handle (fs-memory's) that loses its unsynced data after a failed datasync. */
interface DroppableHandle {
  dropUnsynced?(): void;
}

/** The optional hook of a file system (fs-memory's) that loses a file's unsynced data. */
interface DroppableFileSystem {
  dropUnsynced?(path: string): void;
}

/**
 * Wraps any {@link FileSystem} and injects faults (see the module comment). Errors are walnut
 * {@link FileSystemError}s with the rule's code, the operation's syscall and path, and the detail
 * `injected fault`.
 *
 * A failed `datasync` or `sync` does not reach the wrapped file system, and the file's unsynced data
 * counts as lost, as on Linux after a failed fsync: the wrapper calls the wrapped handle's
 * `dropUnsynced()` (or the file system's `dropUnsynced(path)`) where there is one (fs-memory).
 *
 * ```ts
 * const mem = new MemoryFileSystem({ seed: 1 });
 * const fs = new FaultInjectingFileSystem(mem, { seed: 1, faults: [{ kind: 'datasync', nth: 3, error: 'EIO' }] });
 * ```
 */
export class FaultInjectingFileSystem implements FileSystem, NamedFileSystem {
  /** `faulty <kind of the inner file system>`, or `faulty`. */
  readonly kind: string;
  readonly #inner: FileSystem;
  readonly #rng: SplitMix64;
  readonly #rules: ActiveRule[] = [];
  readonly #shortWrites: number;
  readonly #shortWriteAlignment: number;
  readonly #bitFlips: number;
  readonly #scheduler: OperationScheduler | undefined;
  readonly #onOperation: ((op: OperationInfo) => void) | undefined;
  readonly #injected: InjectedFault[] = [];
  #count = 0;

  constructor(inner: FileSystem, options: FaultInjectingOptions) {
    this.#inner = inner;
    this.#rng = new SplitMix64(toSeed(options.seed, 'FaultInjectingFileSystem: seed'));
    this.#shortWrites = probability(options.shortWrites, 'shortWrites');
    const alignment = options.shortWriteAlignment ?? 512;
    if (!Number.isSafeInteger(alignment) || alignment < 1) {
      throw new RangeError(`FaultInjectingFileSystem: shortWriteAlignment must be a positive integer, got ${alignment}`);
    }
    this.#shortWriteAlignment = alignment;
    this.#bitFlips = probability(options.bitFlipsOnRead, 'bitFlipsOnRead');
    this.#scheduler = options.scheduler;
    this.#onOperation = options.onOperation;
    const innerKind = (inner as Partial<NamedFileSystem>).kind;
    this.kind = typeof innerKind === 'string' ? `faulty ${innerKind}` : 'faulty';
    for (const rule of options.faults ?? []) this.addFault(rule);
  }

  /** The wrapped file system. */
  get inner(): FileSystem {
    return this.#inner;
  }

  /** Number of operations so far (each is numbered, 1-based, in the order it was called). */
  get operationCount(): number {
    return this.#count;
  }

  /** What was injected so far, in order. */
  get injected(): readonly InjectedFault[] {
    return this.#injected;
  }

  /** Adds a rule; its `nth` counts the matching operations from now on. */
  addFault(rule: FaultRule): void {
    if (rule.error !== 'EIO' && rule.error !== 'ENOSPC')
      throw new RangeError(`FaultRule: error must be 'EIO' or 'ENOSPC', got ${String(rule.error)}`);
    if (rule.nth !== undefined && (!Number.isSafeInteger(rule.nth) || rule.nth < 1))
      throw new RangeError(`FaultRule: nth must be a positive integer, got ${rule.nth}`);
    const kinds = rule.kind === undefined ? undefined : new Set<OperationKind>(typeof rule.kind === 'string' ? [rule.kind] : rule.kind);
    this.#rules.push({ rule, kinds, matched: 0 });
  }

  /** Removes every rule (short writes and bit flips stay as configured). */
  clearFaults(): void {
    this.#rules.length = 0;
  }

  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    await this.#begin('open', 'open', path);
    return new FaultInjectingFileHandle(this.#hooks, await this.#inner.open(path, flags, options));
  }

  async readdir(path: string): Promise<string[]> {
    await this.#begin('readdir', 'scandir', path);
    return this.#inner.readdir(path);
  }

  async stat(path: string): Promise<FileStat> {
    await this.#begin('stat', 'stat', path);
    return this.#inner.stat(path);
  }

  async mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    await this.#begin('mkdir', 'mkdir', path);
    return this.#inner.mkdir(path, options);
  }

  async remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    await this.#begin('remove', 'rm', path);
    return this.#inner.remove(path, options);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#begin('rename', 'rename', from, to);
    return this.#inner.rename(from, to);
  }

  async syncDir(path: string): Promise<void> {
    await this.#begin('syncDir', 'fsync', path);
    return this.#inner.syncDir(path);
  }

  /** Forwards to the wrapped file system's `dropUnsynced(path)`, if it has one. */
  dropUnsynced(path: string): void {
    (this.#inner as DroppableFileSystem).dropUnsynced?.(path);
  }

  // ---- used by the handles ------------------------------------------------------------------

  /** What the handles use (kept off the public surface). */
  readonly #hooks: HandleHooks = {
    begin: (kind, syscall, path, onFault) => this.#begin(kind, syscall, path, undefined, onFault),
    shortWrite: (op, length, position) => this.#shortWrite(op, length, position),
    flipBits: (op, buffer, offset, n) => this.#flipBits(op, buffer, offset, n),
    dropUnsyncedOf: (handle) => this.#dropUnsyncedOf(handle),
  };

  #shortWrite(op: OperationInfo, length: number, position: number): number {
    // The possible cut points: offsets k·alignment with position < k·alignment < position + length.
    const a = this.#shortWriteAlignment;
    const first = Math.floor(position / a) + 1;
    const last = Math.ceil((position + length) / a) - 1;
    if (last < first || !this.#rng.chance(this.#shortWrites)) return length;
    const n = (first + this.#rng.int(last - first + 1)) * a - position;
    this.#injected.push({ ...op, fault: 'shortWrite', detail: `wrote ${n} of ${length} bytes` });
    return n;
  }

  #flipBits(op: OperationInfo, buffer: Uint8Array, offset: number, n: number): void {
    if (n <= 0 || !this.#rng.chance(this.#bitFlips)) return;
    const bit = this.#rng.int(n * 8);
    buffer[offset + Math.floor(bit / 8)]! ^= 1 << (bit % 8);
    this.#injected.push({ ...op, fault: 'bitFlip', detail: `bit ${bit % 8} of byte ${Math.floor(bit / 8)} of the read` });
  }

  #dropUnsyncedOf(handle: FileHandle): void {
    const h = handle as FileHandle & DroppableHandle;
    if (typeof h.dropUnsynced === 'function') h.dropUnsynced();
    else (this.#inner as DroppableFileSystem).dropUnsynced?.(handle.path);
  }

  /**
   * Counts an operation, decides its fault, waits for the scheduler, then throws the fault if any.
   * `onFault` runs (synchronously) just before the error is thrown.
   */
  async #begin(kind: OperationKind, syscall: string, path: string, otherPath?: string, onFault?: () => void): Promise<OperationInfo> {
    const index = ++this.#count;
    const info: OperationInfo = { index, kind, path };
    this.#onOperation?.(info);
    let fired: ActiveRule | undefined;
    for (const active of this.#rules) {
      if (!matches(active, kind, path, otherPath)) continue;
      const n = ++active.matched;
      const nth = active.rule.nth ?? 1;
      if (fired === undefined && (n === nth || (active.rule.every === true && n > nth))) fired = active;
    }
    if (fired !== undefined) this.#injected.push({ ...info, fault: fired.rule.error });
    if (this.#scheduler !== undefined) await this.#scheduler.admit(info);
    if (fired !== undefined) {
      onFault?.();
      throw new FileSystemError(fired.rule.error, syscall, path, 'injected fault');
    }
    return info;
  }
}

/** How a handle reaches its file system's rules and generator. */
interface HandleHooks {
  begin(kind: OperationKind, syscall: string, path: string, onFault?: () => void): Promise<OperationInfo>;
  shortWrite(op: OperationInfo, length: number, position: number): number;
  flipBits(op: OperationInfo, buffer: Uint8Array, offset: number, n: number): void;
  dropUnsyncedOf(handle: FileHandle): void;
}

/** A handle of {@link FaultInjectingFileSystem}: every operation goes through the wrapper's rules. */
class FaultInjectingFileHandle implements FileHandle {
  readonly #fs: HandleHooks;
  readonly #inner: FileHandle;

  constructor(fs: HandleHooks, inner: FileHandle) {
    this.#fs = fs;
    this.#inner = inner;
  }

  get path(): string {
    return this.#inner.path;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const op = await this.#fs.begin('read', 'read', this.path);
    const n = await this.#inner.read(buffer, offset, length, position);
    this.#fs.flipBits(op, buffer, offset, n);
    return n;
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const op = await this.#fs.begin('write', 'write', this.path);
    return this.#inner.write(buffer, offset, this.#fs.shortWrite(op, length, position), position);
  }

  async size(): Promise<number> {
    await this.#fs.begin('size', 'fstat', this.path);
    return this.#inner.size();
  }

  async truncate(size: number): Promise<void> {
    await this.#fs.begin('truncate', 'ftruncate', this.path);
    return this.#inner.truncate(size);
  }

  async allocate(size: number, options?: AllocateOptions): Promise<void> {
    await this.#fs.begin('allocate', 'fallocate', this.path);
    return this.#inner.allocate(size, options);
  }

  async datasync(): Promise<void> {
    await this.#fs.begin('datasync', 'fdatasync', this.path, () => this.#fs.dropUnsyncedOf(this.#inner));
    return this.#inner.datasync();
  }

  async sync(): Promise<void> {
    await this.#fs.begin('sync', 'fsync', this.path, () => this.#fs.dropUnsyncedOf(this.#inner));
    return this.#inner.sync();
  }

  async tryLock(): Promise<void> {
    await this.#fs.begin('tryLock', 'tryLock', this.path);
    return this.#inner.tryLock();
  }

  async lock(): Promise<void> {
    await this.#fs.begin('lock', 'lock', this.path);
    return this.#inner.lock();
  }

  async unlock(): Promise<void> {
    await this.#fs.begin('unlock', 'unlock', this.path);
    return this.#inner.unlock();
  }

  async close(): Promise<void> {
    // As close(2): the descriptor is released even when close reports an error.
    await this.#fs.begin('close', 'close', this.path, () => void this.#inner.close().catch(() => {}));
    return this.#inner.close();
  }
}

function matches(active: ActiveRule, kind: OperationKind, path: string, otherPath: string | undefined): boolean {
  if (active.kinds !== undefined && !active.kinds.has(kind)) return false;
  const p = active.rule.path;
  if (p === undefined) return true;
  const test = (s: string) => {
    if (typeof p === 'string') return s === p;
    p.lastIndex = 0; // a /g or /y RegExp keeps state between test() calls
    return p.test(s);
  };
  return test(path) || (otherPath !== undefined && test(otherPath));
}

function probability(p: number | undefined, name: string): number {
  if (p === undefined) return 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new RangeError(`FaultInjectingFileSystem: ${name} must be a probability in [0, 1], got ${p}`);
  return p;
}
