/**
 * A tiny in-memory FileSystem over a Map, for wal-core's own tests (wal-core cannot depend on
 * @walnut/fs-memory: that package depends on wal-core).
 *
 * Semantics: POSIX-like paths ('/'-separated, absolute), inodes shared by every handle of a file (a
 * rename or a remove does not affect open handles), OFD-like exclusive locks per handle, `allocate`
 * never shrinks, a shrinking `truncate` really drops the bytes (a later growth reads zeros).
 *
 * Test hooks:
 * - `onRead(info)` sees every read request with the file's current size (the fuzz test fails any read
 *   larger than the file: a corrupt length must never make the WAL allocate more than the file holds);
 * - `opBudget`: every operation decrements it; at 0 every operation throws {@link OpBudgetExceeded}
 *   (a livelock detector: an operation that loops forever over the file system ends);
 * - every operation yields a macrotask first (`setImmediate`), so timers — the per-case timeouts — fire
 *   even while the code under test is busy in an async loop over the file system.
 */
import { FileSystemError, LockedError } from '../../src/errors.js';
import type { FileHandle, FileStat, FileSystem, OpenFlags, OpenOptions } from '../../src/fs/file-system.js';

/** Thrown by every operation once {@link MapFileSystem.opBudget} is used up. Not a WalError on purpose. */
export class OpBudgetExceeded extends Error {
  constructor() {
    super('map-file-system: operation budget exceeded (livelock?)');
  }
}

/** What {@link MapFileSystem.onRead} receives. */
export interface ReadInfo {
  readonly path: string;
  readonly bufferLength: number;
  readonly length: number;
  readonly position: number;
  readonly fileSize: number;
}

class Inode {
  buf: Uint8Array;
  size: number;
  mode: number;
  lockHolder: MapFileHandle | undefined;
  lockWaiters: Array<{ handle: MapFileHandle; grant: () => void }> = [];
  constructor(data: Uint8Array = new Uint8Array(0), mode = 0o600) {
    this.buf = new Uint8Array(Math.max(64, data.length));
    this.buf.set(data);
    this.size = data.length;
    this.mode = mode;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }
  setSize(n: number): void {
    if (n > this.buf.length) {
      const next = new Uint8Array(Math.max(n, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.size));
      this.buf = next;
    } else if (n < this.size) {
      this.buf.fill(0, n, this.size);
    }
    this.size = n;
  }
  release(h: MapFileHandle): void {
    if (this.lockHolder !== h) return;
    this.lockHolder = undefined;
    const next = this.lockWaiters.shift();
    if (next) {
      this.lockHolder = next.handle;
      next.grant();
    }
  }
}

type Node = { kind: 'dir'; mode: number } | { kind: 'file'; inode: Inode };

const tick = () => new Promise<void>((r) => setImmediate(r));

function norm(path: string): string {
  if (!path.startsWith('/')) path = '/' + path;
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return '/' + parts.join('/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

class MapFileHandle implements FileHandle {
  closed = false;
  constructor(
    private readonly fs: MapFileSystem,
    readonly path: string,
    private readonly inode: Inode,
    private readonly writable: boolean,
  ) {}

  private async enter(syscall: string, write = false): Promise<void> {
    await this.fs.step();
    if (this.closed) throw new FileSystemError('EBADF', syscall, this.path);
    if (write && !this.writable) throw new FileSystemError('EBADF', syscall, this.path);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    await this.enter('read');
    this.fs.onRead?.({ path: this.path, bufferLength: buffer.length, length, position, fileSize: this.inode.size });
    if (offset < 0 || length < 0 || offset + length > buffer.length || position < 0) throw new FileSystemError('EINVAL', 'read', this.path);
    const n = Math.max(0, Math.min(length, this.inode.size - position));
    buffer.set(this.inode.buf.subarray(position, position + n), offset);
    return n;
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    await this.enter('write', true);
    if (offset < 0 || length < 0 || offset + length > buffer.length || position < 0)
      throw new FileSystemError('EINVAL', 'write', this.path);
    // Short writes on request, to exercise the callers' loops.
    const n = this.fs.maxWriteBytes === undefined ? length : Math.min(length, this.fs.maxWriteBytes);
    if (position + n > this.inode.size) this.inode.setSize(position + n);
    this.inode.buf.set(buffer.subarray(offset, offset + n), position);
    return n;
  }

  async size(): Promise<number> {
    await this.enter('fstat');
    return this.inode.size;
  }

  async truncate(size: number): Promise<void> {
    await this.enter('ftruncate', true);
    if (!Number.isSafeInteger(size) || size < 0) throw new FileSystemError('EINVAL', 'ftruncate', this.path);
    this.inode.setSize(size);
  }

  async allocate(size: number): Promise<void> {
    await this.enter('fallocate', true);
    if (!Number.isSafeInteger(size) || size < 0) throw new FileSystemError('EINVAL', 'fallocate', this.path);
    if (size > this.fs.maxFileBytes) throw new FileSystemError('ENOSPC', 'fallocate', this.path);
    if (size > this.inode.size) this.inode.setSize(size);
  }

  async datasync(): Promise<void> {
    await this.enter('fdatasync');
    this.fs.syncs++;
  }

  async sync(): Promise<void> {
    await this.enter('fsync');
    this.fs.syncs++;
  }

  async tryLock(): Promise<void> {
    await this.enter('flock');
    const h = this.inode.lockHolder;
    if (h && h !== this) throw new LockedError('flock', this.path);
    this.inode.lockHolder = this;
  }

  async lock(): Promise<void> {
    await this.enter('flock');
    const h = this.inode.lockHolder;
    if (!h || h === this) {
      this.inode.lockHolder = this;
      return;
    }
    await new Promise<void>((grant) => this.inode.lockWaiters.push({ handle: this, grant }));
  }

  async unlock(): Promise<void> {
    await this.enter('flock');
    this.inode.release(this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inode.lockWaiters = this.inode.lockWaiters.filter((w) => w.handle !== this);
    this.inode.release(this);
    this.fs.openHandles.delete(this);
  }
}

/** See the module comment. */
export class MapFileSystem implements FileSystem {
  private readonly nodes = new Map<string, Node>([['/', { kind: 'dir', mode: 0o755 }]]);
  /** See the module comment. */
  onRead: ((info: ReadInfo) => void) | undefined;
  /** Operations left before every operation throws {@link OpBudgetExceeded}. */
  opBudget = Number.POSITIVE_INFINITY;
  /** `allocate` beyond this fails with ENOSPC. */
  maxFileBytes = 1 << 30;
  /** When set, every write is cut to at most this many bytes (a short write). */
  maxWriteBytes: number | undefined;
  /** Number of datasync/sync calls. */
  syncs = 0;
  readonly openHandles = new Set<MapFileHandle>();

  /** @internal */
  async step(): Promise<void> {
    await tick();
    if (this.opBudget <= 0) throw new OpBudgetExceeded();
    this.opBudget--;
  }

  private node(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  private requireDir(path: string, syscall: string): void {
    const n = this.node(path);
    if (!n) throw new FileSystemError('ENOENT', syscall, path);
    if (n.kind !== 'dir') throw new FileSystemError('ENOTDIR', syscall, path);
  }

  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    await this.step();
    const p = norm(path);
    let n = this.node(p);
    if (n?.kind === 'dir') throw new FileSystemError('EISDIR', 'open', p);
    if (flags === 'createExclusive' && n) throw new FileSystemError('EEXIST', 'open', p);
    if (!n) {
      if (flags === 'read' || flags === 'readWrite') throw new FileSystemError('ENOENT', 'open', p);
      this.requireDir(parentOf(p), 'open');
      n = { kind: 'file', inode: new Inode(undefined, options?.mode ?? 0o600) };
      this.nodes.set(p, n);
    } else if (flags === 'createTruncate') {
      n.inode.setSize(0);
    }
    const h = new MapFileHandle(this, p, n.inode, flags !== 'read');
    this.openHandles.add(h);
    return h;
  }

  async readdir(path: string): Promise<string[]> {
    await this.step();
    const p = norm(path);
    this.requireDir(p, 'scandir');
    const prefix = p === '/' ? '/' : p + '/';
    const out: string[] = [];
    for (const k of this.nodes.keys()) {
      if (k !== p && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')) out.push(k.slice(prefix.length));
    }
    return out;
  }

  async stat(path: string): Promise<FileStat> {
    await this.step();
    const p = norm(path);
    const n = this.node(p);
    if (!n) throw new FileSystemError('ENOENT', 'stat', p);
    return n.kind === 'dir'
      ? { size: 0, isFile: false, isDirectory: true, mode: n.mode }
      : { size: n.inode.size, isFile: true, isDirectory: false, mode: n.inode.mode };
  }

  async mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    await this.step();
    const p = norm(path);
    const n = this.node(p);
    if (n) {
      if (options?.recursive && n.kind === 'dir') return;
      throw new FileSystemError('EEXIST', 'mkdir', p);
    }
    const parent = parentOf(p);
    if (!this.node(parent)) {
      if (!options?.recursive) throw new FileSystemError('ENOENT', 'mkdir', p);
      await this.mkdir(parent, options);
    }
    this.requireDir(parent, 'mkdir');
    this.nodes.set(p, { kind: 'dir', mode: options?.mode ?? 0o700 });
  }

  async remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    await this.step();
    const p = norm(path);
    const n = this.node(p);
    if (!n) {
      if (options?.force) return;
      throw new FileSystemError('ENOENT', 'remove', p);
    }
    if (p === '/') throw new FileSystemError('EBUSY', 'remove', p);
    if (n.kind === 'dir') {
      const children = [...this.nodes.keys()].filter((k) => k.startsWith(p + '/'));
      if (children.length > 0 && !options?.recursive) throw new FileSystemError('ENOTEMPTY', 'remove', p);
      for (const k of children) this.nodes.delete(k);
    }
    this.nodes.delete(p);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.step();
    const f = norm(from);
    const t = norm(to);
    const n = this.node(f);
    if (!n) throw new FileSystemError('ENOENT', 'rename', f);
    if (f === t) return;
    this.requireDir(parentOf(t), 'rename');
    const target = this.node(t);
    if (n.kind === 'file') {
      if (target?.kind === 'dir') throw new FileSystemError('EISDIR', 'rename', t);
      this.nodes.set(t, n);
      this.nodes.delete(f);
      return;
    }
    if (t.startsWith(f + '/')) throw new FileSystemError('EINVAL', 'rename', t);
    if (target) {
      if (target.kind !== 'dir') throw new FileSystemError('ENOTDIR', 'rename', t);
      if ([...this.nodes.keys()].some((k) => k.startsWith(t + '/'))) throw new FileSystemError('ENOTEMPTY', 'rename', t);
    }
    const moved = [...this.nodes.entries()].filter(([k]) => k === f || k.startsWith(f + '/'));
    for (const [k] of moved) this.nodes.delete(k);
    for (const [k, v] of moved) this.nodes.set(t + k.slice(f.length), v);
  }

  async syncDir(path: string): Promise<void> {
    await this.step();
    this.requireDir(norm(path), 'fsync');
    this.syncs++;
  }

  // ---------------------------------------------------------------------------------------------
  // Synchronous helpers for tests (no budget, no yield)
  // ---------------------------------------------------------------------------------------------

  /** Creates or replaces a file with these bytes (the parent directories are created). */
  putFile(path: string, data: Uint8Array): void {
    const p = norm(path);
    this.ensureDir(parentOf(p));
    const n = this.node(p);
    if (n?.kind === 'file') {
      n.inode.setSize(0);
      n.inode.setSize(data.length);
      n.inode.buf.set(data);
    } else {
      this.nodes.set(p, { kind: 'file', inode: new Inode(data) });
    }
  }

  /** Creates a directory and its parents. */
  ensureDir(path: string): void {
    const p = norm(path);
    if (p !== '/') this.ensureDir(parentOf(p));
    const n = this.node(p);
    if (!n) this.nodes.set(p, { kind: 'dir', mode: 0o700 });
    else if (n.kind !== 'dir') throw new Error(`${p} is a file`);
  }

  /** A copy of a file's bytes, or undefined. */
  getFile(path: string): Uint8Array | undefined {
    const n = this.node(norm(path));
    return n?.kind === 'file' ? n.inode.bytes().slice() : undefined;
  }

  /** Deletes a file or directory tree (no error if missing). */
  deletePath(path: string): void {
    const p = norm(path);
    for (const k of [...this.nodes.keys()]) if (k === p || k.startsWith(p + '/')) this.nodes.delete(k);
  }

  /** Renames a file synchronously (test setup). */
  renameFile(from: string, to: string): void {
    const n = this.node(norm(from));
    if (!n) throw new Error(`${from} does not exist`);
    this.nodes.delete(norm(from));
    this.nodes.set(norm(to), n);
  }

  /** Names in a directory, sorted. */
  list(dir: string): string[] {
    const p = norm(dir);
    const prefix = p === '/' ? '/' : p + '/';
    return [...this.nodes.keys()]
      .filter((k) => k !== p && k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
      .map((k) => k.slice(prefix.length))
      .sort();
  }

  /** A deep copy (files copied, no handles or locks). */
  clone(): MapFileSystem {
    const c = new MapFileSystem();
    for (const [k, v] of this.nodes) {
      c.nodes.set(k, v.kind === 'dir' ? { ...v } : { kind: 'file', inode: new Inode(v.inode.bytes(), v.inode.mode) });
    }
    c.maxFileBytes = this.maxFileBytes;
    return c;
  }

  /** Every file with its bytes (hex), for comparing whole trees. */
  dump(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of [...this.nodes.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[k] = v.kind === 'dir' ? '<dir>' : Buffer.from(v.inode.bytes()).toString('hex');
    }
    return out;
  }
}
