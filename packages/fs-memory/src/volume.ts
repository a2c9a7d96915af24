/**
 * The single gateway between {@link MemoryFileSystem} and memfs.
 *
 * Every byte written, every size change, every name created, renamed or removed and every
 * sync passes through one method of {@link MemoryVolume}. Nothing else in this package touches
 * memfs. That is where the durability model (durability.ts) is kept up to date: memfs holds the live
 * state the process sees; the model holds, per file inode, the contents as last synced plus the
 * unsynced data operations, and per directory inode, the entries as last synced plus the unsynced
 * namespace operations. A crash image ({@link MemoryVolume.crashImage}) is computed from the model,
 * and a new volume is built from an image ({@link MemoryVolume.fromImage}).
 *
 * Methods are synchronous (memfs's sync API): the volume never reads the clock and never
 * schedules work, so the order of effects is exactly the order of calls.
 */
import { Buffer } from 'node:buffer';
import { Volume } from 'memfs';
import type { FileStat, OpenFlags } from '@walnut/wal-core';
import { DirInode, FileInode, Namespace, crashContents, liveContents, type Inode, type LiveContents } from './durability.js';
import { fsError, mapErrors } from './errors.js';
import { parentOf } from './path.js';
import type { SplitMix64 } from './prng.js';
import { SparseBytes } from './sparse-bytes.js';

/**
 * Identity of a file's inode: stable across renames, distinct for a new file created under a
 * removed file's name (memfs reuses inode numbers, so the number alone is not enough).
 */
export type InodeIdentity = object;

/** An open memfs descriptor, the inode it refers to, and that inode in the durability model. */
export interface OpenedFile {
  readonly fd: number;
  readonly inode: InodeIdentity;
  readonly model: FileInode;
}

/**
 * What a crash keeps ({@link MemoryFileSystem.crash}): `random`, the durable state plus a seeded choice of
 * the unsynced writes (kept, dropped or torn per 512-byte sector) and namespace operations; `durable-only`,
 * the durable state alone; `keep-all`, everything the process did (a process crash, not a power cut).
 */
export type CrashMode = 'random' | 'durable-only' | 'keep-all';

/** A file in a crash image. */
export interface ImageFile {
  readonly kind: 'file';
  readonly mode: number;
  readonly contents: SparseBytes;
}

/** A directory in a crash image. */
export interface ImageDir {
  readonly kind: 'dir';
  readonly mode: number;
  readonly entries: Map<string, ImageFile | ImageDir>;
}

/** What is durable, by path (see {@link MemoryVolume.durableState}). */
export interface DurableState {
  readonly files: Map<string, Uint8Array>;
  readonly dirs: Map<string, string[]>;
}

// POSIX open(2) flags as Linux numbers them; memfs interprets these numerically.
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;

const OPEN_FLAGS: Readonly<Record<OpenFlags, number>> = {
  read: O_RDONLY,
  readWrite: O_RDWR,
  create: O_RDWR | O_CREAT,
  createExclusive: O_RDWR | O_CREAT | O_EXCL,
  createTruncate: O_RDWR | O_CREAT | O_TRUNC,
};

/** The memfs node API the volume uses (memfs's `Node`). */
type MemfsNode = LiveContents & { readonly mode: number };

/**
 * Gives a new, empty memfs file the contents `c`. memfs extends a file by filling fresh memory with
 * zeros, which touches every page of a preallocated 64 MB segment; a zeroed `Buffer.alloc` is
 * untouched memory until written, so a crash image costs the data, not the file size. `_setBuf` is
 * memfs's own (internal) way to adopt a buffer; without it, the public path is taken.
 */
function fillNode(vol: Volume, fd: number, node: MemfsNode, c: SparseBytes): void {
  const data = c.data();
  const adopt = (node as { _setBuf?: unknown })._setBuf;
  if (c.size > 0 && typeof adopt === 'function') {
    const buf = Buffer.alloc(c.size);
    buf.set(data);
    adopt.call(node, buf);
    return;
  }
  if (data.length > 0) vol.writeSync(fd, data, 0, data.length, 0);
  if (c.size > data.length) vol.ftruncateSync(fd, c.size);
}

/** One name about to be removed. */
interface Removal {
  readonly dir: DirInode;
  readonly name: string;
  readonly inode: Inode | undefined;
}

/** The last component of a normalised path. */
function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** See the module comment. */
export class MemoryVolume {
  readonly #vol = new Volume();
  /** memfs node → its inode in the durability model. */
  readonly #inodes = new WeakMap<object, Inode>();
  readonly #ns: Namespace;

  constructor() {
    const rootNode = this.#node('/')!;
    const root = new DirInode(rootNode.mode & 0o777);
    this.#inodes.set(rootNode, root);
    this.#ns = new Namespace(root);
  }

  // ---- files ----------------------------------------------------------------------------------

  /** Opens (maybe creates) a regular file. A directory fails with `EISDIR` for every flag. */
  openFile(path: string, flags: OpenFlags, mode: number, displayPath: string): OpenedFile {
    return mapErrors('open', displayPath, () => {
      const flagBits = OPEN_FLAGS[flags];
      if (flagBits === undefined) throw fsError('EINVAL', 'open', displayPath, `unknown open flags '${String(flags)}'`);
      // memfs opens a directory read-only without complaint; POSIX open(2) would too, but a
      // directory is never a valid file for this interface, so refuse it before opening
      // (after O_EXCL, which open(2) checks first).
      const existing = this.#lookup(path);
      if (existing !== undefined && flags === 'createExclusive') throw fsError('EEXIST', 'open', displayPath);
      if (existing?.isDirectory()) throw fsError('EISDIR', 'open', displayPath);
      if (existing === undefined && flags !== 'read' && flags !== 'readWrite') {
        // open(2) grants the creating call its access mode whatever the new file's permission
        // bits; memfs checks the bits, so create owner-writable, then set the requested mode.
        const fd = this.#vol.openSync(path, flagBits, mode | 0o600);
        if ((mode | 0o600) !== mode) this.#vol.fchmodSync(fd, mode);
        const node = this.#vol._core.getFileByFd(fd).node as unknown as MemfsNode;
        const model = new FileInode(mode & 0o777);
        model.live = node;
        this.#inodes.set(node, model);
        const dir = this.#dirInode(parentOf(path));
        this.#ns.record([{ dir, name: baseName(path), before: undefined, after: model }]);
        return { fd, inode: node, model };
      }
      const fd = this.#vol.openSync(path, flagBits, mode);
      const node = this.#vol._core.getFileByFd(fd).node;
      const model = this.#fileInode(node);
      if (flags === 'createTruncate') model.recordSize(0);
      return { fd, inode: node, model };
    });
  }

  /** Positional read; 0 at or past end of file. */
  read(file: OpenedFile, buffer: Uint8Array, offset: number, length: number, position: number, displayPath: string): number {
    return mapErrors('read', displayPath, () => this.#vol.readSync(file.fd, buffer, offset, length, position));
  }

  /** Positional write, zero-filling any gap. Every data write of the volume happens here. */
  write(file: OpenedFile, buffer: Uint8Array, offset: number, length: number, position: number, displayPath: string): number {
    const n = mapErrors('write', displayPath, () => this.#vol.writeSync(file.fd, buffer, offset, length, position));
    file.model.recordWrite(position, buffer.subarray(offset, offset + n));
    return n;
  }

  /** Sets the file's size; new bytes read as zeros. Every size change happens here. */
  setSize(file: OpenedFile, size: number, displayPath: string): void {
    mapErrors('ftruncate', displayPath, () => this.#vol.ftruncateSync(file.fd, size));
    file.model.recordSize(size);
  }

  /** The file's size in bytes. */
  size(file: OpenedFile, displayPath: string): number {
    return mapErrors('fstat', displayPath, () => this.#vol.fstatSync(file.fd).size);
  }

  /** Makes the file's data (`datasync`) or data and metadata (`sync`) durable: the same here. */
  syncFile(file: OpenedFile, kind: 'datasync' | 'sync', displayPath: string): void {
    if (kind === 'datasync') mapErrors('fdatasync', displayPath, () => this.#vol.fdatasyncSync(file.fd));
    else mapErrors('fsync', displayPath, () => this.#vol.fsyncSync(file.fd));
    file.model.sync();
  }

  /** The file's unsynced data will never become durable (a failed fsync); the process still reads it. */
  dropUnsynced(file: OpenedFile): void {
    file.model.dropUnsynced();
  }

  /** Releases the descriptor. */
  closeFile(file: OpenedFile, displayPath: string): void {
    mapErrors('close', displayPath, () => this.#vol.closeSync(file.fd));
  }

  // ---- namespace ------------------------------------------------------------------------------

  /** Kind, size and permission bits, or `undefined` if nothing is at `path`. */
  tryStat(path: string, displayPath: string): FileStat | undefined {
    const node = mapErrors('stat', displayPath, () => this.#lookup(path));
    if (node === undefined) return undefined;
    const st = mapErrors('stat', displayPath, () => this.#vol.statSync(path));
    return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory(), mode: st.mode & 0o777 };
  }

  /** Names in a directory. */
  readdir(path: string, displayPath: string): string[] {
    return mapErrors('scandir', displayPath, () => (this.#vol.readdirSync(path) as unknown[]).map((n) => String(n)));
  }

  /** Creates one directory; its parent must exist. */
  makeDir(path: string, mode: number, displayPath: string): void {
    mapErrors('mkdir', displayPath, () => this.#vol.mkdirSync(path, { mode }));
    const model = new DirInode(mode & 0o777);
    this.#inodes.set(this.#node(path)!, model);
    this.#ns.record([{ dir: this.#dirInode(parentOf(path)), name: baseName(path), before: undefined, after: model }]);
  }

  /** Removes a name that is not a directory. */
  removeFile(path: string, displayPath: string): void {
    const removal = this.#removal(path);
    mapErrors('unlink', displayPath, () => this.#vol.unlinkSync(path));
    this.#recordRemove(removal);
  }

  /** Removes an empty directory (`ENOTEMPTY` otherwise). */
  removeDir(path: string, displayPath: string): void {
    const removal = this.#removal(path);
    mapErrors('rmdir', displayPath, () => this.#vol.rmdirSync(path));
    this.#recordRemove(removal);
  }

  /** Removes a directory and everything below it. */
  removeTree(path: string, displayPath: string): void {
    // rm -r unlinks the children first, then the directory: record it that way (post-order), so a
    // crash can keep some of the removals and never a removed directory with a surviving child.
    const removals: Removal[] = [];
    const walk = (p: string) => {
      const r = this.#removal(p);
      if (r.inode?.kind === 'dir') for (const name of this.readdir(p, displayPath)) walk(p === '/' ? `/${name}` : `${p}/${name}`);
      removals.push(r);
    };
    mapErrors('rm', displayPath, () => walk(path));
    mapErrors('rm', displayPath, () => this.#vol.rmSync(path, { recursive: true }));
    for (const r of removals) this.#recordRemove(r);
  }

  /**
   * Moves `from` to `to` in one step. The caller has checked the POSIX rules; with
   * `replaceEmptyDir` the (empty) directory at `to` is removed first, as rename(2) replaces it.
   */
  rename(from: string, to: string, replaceEmptyDir: boolean, displayPath: string): void {
    const moved = this.#inodeAt(from);
    const replaced = this.#inodeAt(to);
    const fromDir = this.#dirInode(parentOf(from));
    const toDir = this.#dirInode(parentOf(to));
    mapErrors('rename', displayPath, () => {
      if (replaceEmptyDir) this.#vol.rmdirSync(to);
      this.#vol.renameSync(from, to);
    });
    if (moved === undefined) return;
    if (replaced !== undefined) this.#unlinked(replaced);
    this.#ns.record(
      [
        { dir: fromDir, name: baseName(from), before: moved, after: undefined },
        { dir: toDir, name: baseName(to), before: replaced, after: moved },
      ],
      replaced?.kind === 'dir' ? replaced : undefined,
    );
  }

  /** Makes a directory's entries durable. The caller has checked that `path` is a directory. */
  syncDir(path: string): void {
    this.#ns.syncDir(this.#dirInode(path));
  }

  /** The file at `path` loses its unsynced data (see {@link FileInode.dropUnsynced}). */
  dropUnsyncedAt(path: string, displayPath: string): void {
    const inode = this.#inodeAt(path);
    if (inode === undefined) throw fsError('ENOENT', 'fdatasync', displayPath);
    if (inode.kind !== 'file') throw fsError('EISDIR', 'fdatasync', displayPath);
    inode.dropUnsynced();
  }

  // ---- crash ----------------------------------------------------------------------------------

  /**
   * What a crash leaves, as an image to build a new volume from (this volume is not changed):
   * - `durable-only`: the durable namespace and the durable contents, nothing else;
   * - `keep-all`: everything the process did (its live state; a process crash, not a power cut);
   * - `random`: the durable state plus, decided by `rng`, each pending namespace operation kept or
   *   reverted (durability.ts, {@link Namespace.replay}) and each file's unsynced data kept, dropped or
   *   torn per 512-byte sector ({@link crashContents}).
   * Only what is reachable from the root survives: a directory whose own name was lost takes its
   * whole subtree with it.
   */
  crashImage(mode: CrashMode, rng: SplitMix64): ImageDir {
    const state =
      mode === 'durable-only'
        ? new Map<DirInode, Map<string, Inode>>()
        : this.#ns.replay(mode === 'keep-all' ? () => true : () => rng.bool());
    const decisions = {
      keepSize: () => rng.bool(),
      writeFate: () => rng.int(3) as 0 | 1 | 2,
      keepSector: () => rng.bool(),
    };
    const contents = (f: FileInode): SparseBytes =>
      mode === 'durable-only' ? f.durable.clone() : mode === 'keep-all' ? liveContents(f) : crashContents(f, decisions);
    const seen = new Set<Inode>();
    const build = (dir: DirInode): ImageDir => {
      const entries = new Map<string, ImageFile | ImageDir>();
      for (const [name, inode] of state.get(dir) ?? dir.durable) {
        // Each inode has at most one name in any state the replay produces; guard anyway.
        if (seen.has(inode)) continue;
        seen.add(inode);
        entries.set(name, inode.kind === 'dir' ? build(inode) : { kind: 'file', mode: inode.mode, contents: contents(inode) });
      }
      return { kind: 'dir', mode: dir.mode, entries };
    };
    return build(this.#ns.root);
  }

  /** A new volume holding exactly `image`, all of it durable. Directory modes are set last. */
  static fromImage(image: ImageDir): MemoryVolume {
    const v = new MemoryVolume();
    const vol = v.#vol;
    const fill = (path: string, dir: ImageDir, model: DirInode) => {
      const chmods: Array<() => void> = [];
      for (const [name, entry] of dir.entries) {
        const p = path === '/' ? `/${name}` : `${path}/${name}`;
        if (entry.kind === 'dir') {
          vol.mkdirSync(p, { mode: 0o700 });
          const child = new DirInode(entry.mode);
          v.#inodes.set(v.#node(p)!, child);
          model.durable.set(name, child);
          fill(p, entry, child);
          chmods.push(() => vol.chmodSync(p, entry.mode));
        } else {
          const fd = vol.openSync(p, O_RDWR | O_CREAT | O_EXCL, 0o600);
          const node = vol._core.getFileByFd(fd).node as unknown as MemfsNode;
          fillNode(vol, fd, node, entry.contents);
          vol.fchmodSync(fd, entry.mode);
          vol.closeSync(fd);
          const child = new FileInode(entry.mode, entry.contents);
          child.live = node;
          v.#inodes.set(node, child);
          model.durable.set(name, child);
        }
      }
      for (const chmod of chmods) chmod();
    };
    fill('/', image, v.#ns.root);
    return v;
  }

  /** What is durable now: every file reachable through durable names, every such directory's names. */
  durableState(): DurableState {
    const files = new Map<string, Uint8Array>();
    const dirs = new Map<string, string[]>();
    const walk = (path: string, dir: DirInode) => {
      dirs.set(path, [...dir.durable.keys()].sort());
      for (const [name, inode] of dir.durable) {
        const p = path === '/' ? `/${name}` : `${path}/${name}`;
        if (inode.kind === 'dir') walk(p, inode);
        else files.set(p, inode.durable.toBytes());
      }
    };
    walk('/', this.#ns.root);
    return { files, dirs };
  }

  /** Number of namespace operations not yet durable (for tests and diagnostics). */
  get pendingNamespaceOps(): number {
    return this.#ns.pendingCount;
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * An inode lost its only name in the live namespace (there are no hard links, so for good). Only a
   * crash that reverts the removal can show it again, with contents from the model, never the live
   * ones: let memfs free its buffer once the last handle closes (a removed preallocated segment would
   * otherwise stay in memory until the directory's next sync).
   */
  #unlinked(inode: Inode): void {
    if (inode.kind === 'file') inode.live = undefined;
  }

  /** What removing `path` changes, resolved before memfs removes anything. */
  #removal(path: string): Removal {
    return { dir: this.#dirInode(parentOf(path)), name: baseName(path), inode: this.#inodeAt(path) };
  }

  #recordRemove(r: Removal): void {
    if (r.inode === undefined) return;
    this.#unlinked(r.inode);
    this.#ns.record([{ dir: r.dir, name: r.name, before: r.inode, after: undefined }], r.inode.kind === 'dir' ? r.inode : undefined);
  }

  /** The memfs node at `path`, if any. */
  #node(path: string): MemfsNode | undefined {
    return (this.#vol._core.getResolvedLink(path)?.getNode() as unknown as MemfsNode | undefined) ?? undefined;
  }

  /** The model's inode at `path`, if any. */
  #inodeAt(path: string): Inode | undefined {
    const node = this.#node(path);
    return node === undefined ? undefined : this.#inodes.get(node);
  }

  #dirInode(path: string): DirInode {
    const inode = this.#inodeAt(path);
    if (inode?.kind !== 'dir') throw new Error(`MemoryVolume: no directory inode at '${path}' (internal error)`);
    return inode;
  }

  #fileInode(node: object): FileInode {
    const inode = this.#inodes.get(node);
    if (inode?.kind !== 'file') throw new Error('MemoryVolume: open file without a file inode (internal error)');
    return inode;
  }

  /** The memfs node at `path` (following nothing: the volume has no symlinks), if any. */
  #lookup(path: string): { isDirectory(): boolean } | undefined {
    try {
      return this.#vol.lstatSync(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
