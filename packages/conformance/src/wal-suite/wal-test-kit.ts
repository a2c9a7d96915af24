/**
 * Helpers for the etcd test ports and the round trips (etcd-tests.ts, round-trips.ts): a FileSystem
 * wrapper with hooks (fault injection, event log), a frame builder that follows etcd-wal-format.md §1.4
 * independently of wal-core's encoder, record listings through the public RecordDecoder, fast seeded bytes
 * and typed-error assertions. Only the public API of `@walnut/wal-core` is used, and only the FileSystem
 * interface touches WAL files, so every helper works on every backend.
 */
import { expect } from 'vitest';
import {
  FileSystemError,
  RecordDecoder,
  WalError,
  basenamePath,
  dirnamePath,
  crc32cUpdate,
  joinPath,
  readFully,
  writeFully,
  type AllocateOptions,
  type DecodedRecord,
  type FileHandle,
  type FileStat,
  type FileSystem,
  type FileSystemErrorCode,
  type OpenFlags,
  type OpenOptions,
} from '@walnut/wal-core';
import type { FileSystemSuiteFixture } from '../file-system-suite.js';
import { readFile, writeFile, type WalSuiteFactory } from './support.js';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/** Runs `body` with a fresh fixture, cleaning up afterwards. */
export function withFixture(factory: WalSuiteFactory, body: (fx: FileSystemSuiteFixture) => Promise<void>): () => Promise<void> {
  return async () => {
    const fx = await factory.create();
    try {
      await body(fx);
    } finally {
      await fx.cleanup();
    }
  };
}

// ---------------------------------------------------------------------------------------------
// A FileSystem wrapper with hooks
// ---------------------------------------------------------------------------------------------

/** Operations the hooks see. `syncDir` and the directory operations have no handle. */
export type HookedOp =
  | 'open'
  | 'readdir'
  | 'stat'
  | 'mkdir'
  | 'remove'
  | 'rename'
  | 'syncDir'
  | 'read'
  | 'write'
  | 'size'
  | 'truncate'
  | 'allocate'
  | 'datasync'
  | 'sync'
  | 'tryLock'
  | 'lock'
  | 'unlock'
  | 'close';

/** One event of the wrapper's log. */
export interface HookEvent {
  /** Position in the log (0, 1, 2, ...): the order in which things happened. */
  readonly seq: number;
  readonly op: HookedOp | 'mark';
  readonly phase: 'start' | 'end' | 'error' | 'mark';
  readonly path: string;
  /** write: file position and length. */
  readonly position?: number;
  readonly length?: number;
  /** write: a copy of the bytes written (when `captureWrites`). */
  readonly data?: Uint8Array;
  /** mark: the caller's label. */
  readonly label?: string;
}

/** Hooks of a {@link HookedFileSystem}. */
export interface FsHooks {
  /**
   * Called before every operation; may throw (fault injection) or wait (slow medium). `path` is the
   * handle's path for file operations, the source for `rename`.
   */
  before?(op: HookedOp, path: string, extra: { to?: string; size?: number }): void | Promise<void>;
}

/**
 * A FileSystem that delegates to another one, calling hooks before each operation and keeping an ordered
 * event log (start and end of every write, datasync, sync, ...). Handles it opens are wrapped too, so the
 * WAL's own file operations pass through it.
 */
export class HookedFileSystem implements FileSystem {
  readonly events: HookEvent[] = [];
  /** Record the written bytes in `write` events. */
  captureWrites = false;
  /** Which operations are logged (default: write, datasync, sync, truncate, allocate, rename, syncDir). */
  logged: ReadonlySet<HookedOp> = new Set<HookedOp>(['write', 'datasync', 'sync', 'truncate', 'allocate', 'rename', 'syncDir']);

  constructor(
    readonly inner: FileSystem,
    public hooks: FsHooks = {},
  ) {}

  /** Appends a caller's event to the log (e.g. "save 3 resolved"). */
  mark(label: string): number {
    const seq = this.events.length;
    this.events.push({ seq, op: 'mark', phase: 'mark', path: '', label });
    return seq;
  }

  /** Runs `fn` as operation `op` on `path`: hook, log start/end/error. */
  async run<T>(
    op: HookedOp,
    path: string,
    extra: { to?: string; size?: number; position?: number; length?: number; data?: Uint8Array },
    fn: () => Promise<T>,
  ): Promise<T> {
    await this.hooks.before?.(op, path, extra);
    const log = this.logged.has(op);
    if (log) this.push(op, 'start', path, extra);
    try {
      const r = await fn();
      if (log) this.push(op, 'end', path, extra);
      return r;
    } catch (e) {
      if (log) this.push(op, 'error', path, extra);
      throw e;
    }
  }

  private push(
    op: HookedOp,
    phase: HookEvent['phase'],
    path: string,
    extra: { position?: number; length?: number; data?: Uint8Array },
  ): void {
    const ev: HookEvent = { seq: this.events.length, op, phase, path };
    if (extra.position !== undefined) Object.assign(ev, { position: extra.position, length: extra.length });
    if (extra.data !== undefined && phase === 'end') Object.assign(ev, { data: extra.data });
    this.events.push(ev);
  }

  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    const h = await this.run('open', path, {}, () => this.inner.open(path, flags, options));
    return new HookedFileHandle(this, h);
  }
  readdir(path: string): Promise<string[]> {
    return this.run('readdir', path, {}, () => this.inner.readdir(path));
  }
  stat(path: string): Promise<FileStat> {
    return this.run('stat', path, {}, () => this.inner.stat(path));
  }
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    return this.run('mkdir', path, {}, () => this.inner.mkdir(path, options));
  }
  remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    return this.run('remove', path, {}, () => this.inner.remove(path, options));
  }
  rename(from: string, to: string): Promise<void> {
    return this.run('rename', from, { to }, () => this.inner.rename(from, to));
  }
  syncDir(path: string): Promise<void> {
    return this.run('syncDir', path, {}, () => this.inner.syncDir(path));
  }
}

class HookedFileHandle implements FileHandle {
  constructor(
    private readonly fs: HookedFileSystem,
    private readonly h: FileHandle,
  ) {}
  get path(): string {
    return this.h.path;
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.fs.run('read', this.h.path, { position, length }, () => this.h.read(buffer, offset, length, position));
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    // The caller may reuse its buffer after the write: copy what was written before it returns.
    const data = this.fs.captureWrites ? buffer.slice(offset, offset + length) : undefined;
    return this.fs.run('write', this.h.path, { position, length, ...(data ? { data } : {}) }, () =>
      this.h.write(buffer, offset, length, position),
    );
  }
  size(): Promise<number> {
    return this.fs.run('size', this.h.path, {}, () => this.h.size());
  }
  truncate(size: number): Promise<void> {
    return this.fs.run('truncate', this.h.path, { size }, () => this.h.truncate(size));
  }
  allocate(size: number, options?: AllocateOptions): Promise<void> {
    return this.fs.run('allocate', this.h.path, { size }, () => this.h.allocate(size, options));
  }
  datasync(): Promise<void> {
    return this.fs.run('datasync', this.h.path, {}, () => this.h.datasync());
  }
  sync(): Promise<void> {
    return this.fs.run('sync', this.h.path, {}, () => this.h.sync());
  }
  tryLock(): Promise<void> {
    return this.fs.run('tryLock', this.h.path, {}, () => this.h.tryLock());
  }
  lock(): Promise<void> {
    return this.fs.run('lock', this.h.path, {}, () => this.h.lock());
  }
  unlock(): Promise<void> {
    return this.fs.run('unlock', this.h.path, {}, () => this.h.unlock());
  }
  close(): Promise<void> {
    return this.fs.run('close', this.h.path, {}, () => this.h.close());
  }
}

/** A FileSystemError as a backend would throw it. */
export function fsFailure(code: FileSystemErrorCode, syscall: string, path: string): FileSystemError {
  return new FileSystemError(code, syscall, path, `injected ${code}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Frames, built from the format document (§1.3, §1.4, §1.6), not from wal-core's encoder
// ---------------------------------------------------------------------------------------------

export const REC = { Metadata: 1, Entry: 2, State: 3, Crc: 4, Snapshot: 5 } as const;

/** Protobuf varint of a uint64. */
export function varint(v: bigint | number): number[] {
  let x = BigInt(v);
  if (x < 0n) x += 1n << 64n; // int64 two's complement
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** A walpb.Record as gogo writes it: type and crc always, data when present. */
export function recordBytes(type: number | bigint, crc: number, data: Uint8Array | undefined): Uint8Array {
  const head = [0x08, ...varint(type), 0x10, ...varint(crc >>> 0)];
  if (data !== undefined) head.push(0x1a, ...varint(data.length));
  const out = new Uint8Array(head.length + (data?.length ?? 0));
  out.set(head, 0);
  if (data) out.set(data, head.length);
  return out;
}

/** One frame: the length word (with the padding flag unless `legacy`), the record, the zero padding. */
export function frame(record: Uint8Array, legacy = false): Uint8Array {
  const n = record.length;
  const pad = legacy ? 0 : (8 - (n % 8)) % 8;
  const out = new Uint8Array(8 + n + pad);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 0x100000000, true);
  view.setUint32(4, Math.floor(n / 0x100000000), true);
  if (pad) out[7] = 0x80 | pad;
  out.set(record, 8);
  return out;
}

/** Builds a run of frames with the rolling CRC of §1.6 (CRC records carry the running value). */
export class FrameBuilder {
  crc = 0;
  private readonly parts: Uint8Array[] = [];

  add(type: number | bigint, data: Uint8Array | undefined): this {
    if (Number(type) !== REC.Crc && data !== undefined) this.crc = crc32cUpdate(this.crc, data);
    this.parts.push(frame(recordBytes(type, this.crc, Number(type) === REC.Crc ? undefined : data)));
    return this;
  }

  /** The frames so far, concatenated. */
  bytes(): Uint8Array {
    return concat(this.parts);
  }

  /** Byte offset at which each frame starts. */
  offsets(): number[] {
    const out: number[] = [];
    let at = 0;
    for (const p of this.parts) {
      out.push(at);
      at += p.length;
    }
    return out;
  }
}

/** raftpb.Entry as gogo writes it (Type, Term, Index always; Data when present). */
export function entryBytes(index: bigint, term: bigint, type: number, data?: Uint8Array): Uint8Array {
  const head = [0x08, ...varint(type), 0x10, ...varint(term), 0x18, ...varint(index)];
  if (data !== undefined) head.push(0x22, ...varint(data.length));
  return concat([Uint8Array.from(head), data ?? new Uint8Array(0)]);
}

/** walpb.Snapshot {index, term} without a ConfState. */
export function snapshotBytes(index: bigint, term: bigint): Uint8Array {
  return Uint8Array.from([0x08, ...varint(index), 0x10, ...varint(term)]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const ascii = (s: string) => new TextEncoder().encode(s);
export const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex'));
export const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// ---------------------------------------------------------------------------------------------
// Reading segments through the public decoder
// ---------------------------------------------------------------------------------------------

/** Every record of the given segments of `dir`, in order, with the decoder's verdict at the end. */
export async function scanSegments(
  fs: FileSystem,
  dir: string,
  names: readonly string[],
): Promise<{ records: DecodedRecord[]; end: unknown; lastOffset: number }> {
  const files: { name: string; file: FileHandle; size: number }[] = [];
  try {
    for (const name of names) {
      const file = await fs.open(joinPath(dir, name), 'read');
      files.push({ name, file, size: await file.size() });
    }
    const dec = new RecordDecoder(files);
    const records: DecodedRecord[] = [];
    let end: unknown = null;
    for (;;) {
      let rec: DecodedRecord | null;
      try {
        rec = await dec.next();
      } catch (e) {
        end = e;
        break;
      }
      if (!rec) break;
      // Copy the data: the decoder's buffers are views that may be reused.
      records.push({ ...rec, data: rec.data ? rec.data.slice() : undefined });
      if (rec.type === REC.Crc) dec.updateCrc(rec.crc);
    }
    return { records, end, lastOffset: dec.lastOffset };
  } finally {
    for (const f of files) await f.file.close().catch(() => {});
  }
}

/** The segment names of `dir`, sorted. */
export async function segmentNames(fs: FileSystem, dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(n)).sort();
}

/** Offset just after the last good record of a segment (where the zero tail starts). */
export async function recordsEnd(fs: FileSystem, path: string): Promise<number> {
  const dir = dirnamePath(path);
  const r = await scanSegments(fs, dir, [basenamePath(path)]);
  if (r.end) throw r.end;
  return r.lastOffset;
}

/** Truncates (or extends with zeros) a file through the FileSystem. */
export async function truncateFile(fs: FileSystem, path: string, size: number): Promise<void> {
  const f = await fs.open(path, 'readWrite');
  try {
    await f.truncate(size);
  } finally {
    await f.close();
  }
}

/** Overwrites bytes of a file at `position`. */
export async function patchFile(fs: FileSystem, path: string, position: number, data: Uint8Array): Promise<void> {
  const f = await fs.open(path, 'readWrite');
  try {
    await writeFully(f, data, 0, data.length, position);
  } finally {
    await f.close();
  }
}

/** Reads `length` bytes at `position`. */
export async function readRange(fs: FileSystem, path: string, position: number, length: number): Promise<Uint8Array> {
  const f = await fs.open(path, 'read');
  try {
    const buf = new Uint8Array(length);
    const n = await readFully(f, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    await f.close();
  }
}

export { readFile, writeFile };

// ---------------------------------------------------------------------------------------------
// Data and assertions
// ---------------------------------------------------------------------------------------------

/**
 * Fast deterministic bytes (xorshift128, 32-bit words): support.ts's splitmix `fill` is exact but too slow
 * for tens of MiB. Seed it from a SeededRandom.
 */
export function fastBytes(seed: bigint | number, n: number): Uint8Array {
  const s = BigInt.asUintN(64, BigInt(seed));
  let x = Number(s & 0xffffffffn) | 1;
  let y = Number(s >> 32n) ^ 0x9e3779b9;
  let z = 0x2545f491 ^ n;
  let w = 0x6c078965;
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
  return new Uint8Array(words.buffer, 0, n);
}

/** Asserts that `promise` rejects with a WalError of `code` (and `etcdMessage`, if given); returns it. */
export async function expectWalError<E extends WalError = WalError>(
  promise: Promise<unknown>,
  code: string,
  etcdMessage?: string | RegExp,
): Promise<E> {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a rejection with code ${code}`).toBeDefined();
  expect(err, `expected a WalError, got ${String(err)}`).toBeInstanceOf(WalError);
  const we = err as WalError;
  expect(we.code, we.message).toBe(code);
  if (typeof etcdMessage === 'string') expect(we.etcdMessage).toBe(etcdMessage);
  else if (etcdMessage) expect(we.etcdMessage).toMatch(etcdMessage);
  return we as E;
}

/** The state of a promise after `ms` milliseconds. */
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

/** Whether a second handle can take the lock of `path` right now (it is released again at once). */
export async function lockIsFree(fs: FileSystem, path: string): Promise<boolean> {
  const h = await fs.open(path, 'readWrite');
  try {
    await h.tryLock();
    return true;
  } catch (e) {
    if (e instanceof FileSystemError && e.code === 'ELOCKED') return false;
    throw e;
  } finally {
    await h.close();
  }
}
