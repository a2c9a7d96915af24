/**
 * The durability model: what a power cut would leave of the volume. memfs holds the live state (what
 * the running process sees); this module holds, beside it, what is on "disk".
 *
 * Files. Each file inode keeps its contents as last synced (`durable`) and the data operations since
 * (`pending`: writes as `{position, bytes}`, size changes as `{size}`). `datasync`/`sync` through any
 * handle of the inode applies `pending` to `durable` and clears it: the cost of a sync is the data
 * written since the previous one.
 *
 * Names. Each directory inode keeps its entries as last synced (`durable`: name → inode). Every
 * create, remove and rename is one {@link NamespaceOp}: the entries it changes, each from `before` to
 * `after`. An operation becomes durable when a directory it touches is synced (for a rename across
 * directories, syncing either one commits both sides, as a journaling file system commits the whole
 * rename). Committing an operation first commits the earlier operations it depends on: the previous
 * pending change of each entry it touches, and, when it removes a directory, every pending operation
 * inside that directory. So for every entry the durable changes are always a prefix of its history,
 * and the durable namespace is always a state the live one went through entry by entry.
 * A file's durable bytes belong to its inode and follow it through renames. A name created and never
 * made durable by a directory sync can vanish in a crash even if the file's data was synced (POSIX).
 *
 * A crash (see {@link crashNamespace}) starts from the durable entries and replays the pending
 * operations in order; each one whose `before` values all still hold is kept or reverted by the caller's
 * decision (a coin flip in random mode), the others are reverted. Reverting a rename over an existing
 * target therefore restores the old target; an operation that depended on a reverted one cannot be kept.
 */
import { SparseBytes } from './sparse-bytes.js';

/** A write or a size change not yet synced. `bytes` is a private copy. */
export type DataOp = { readonly position: number; readonly bytes: Uint8Array } | { readonly size: number };

/** How the live contents of a file can be read back (a memfs node, behind the volume). */
export interface LiveContents {
  read(buffer: Uint8Array, offset: number, length: number, position: number): number;
  getSize(): number;
}

/** A regular file's inode in the model. */
export class FileInode {
  readonly kind = 'file';
  /** Permission bits. */
  readonly mode: number;
  /** The contents as last synced. */
  durable: SparseBytes;
  /** Data operations since the last sync, in order. */
  pending: DataOp[] = [];
  /** The live contents are zeros from here on (bounds the copy of a keep-all crash). */
  liveDataLength: number;
  /** The live file (set by the volume). */
  live: LiveContents | undefined;

  constructor(mode: number, durable: SparseBytes = new SparseBytes()) {
    this.mode = mode;
    this.durable = durable;
    this.liveDataLength = durable.dataLength;
  }

  /** Records a write of `bytes` (copied) at `position`. */
  recordWrite(position: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending.push({ position, bytes: bytes.slice() });
    this.liveDataLength = Math.max(this.liveDataLength, position + bytes.length);
  }

  /** Records a size change. */
  recordSize(size: number): void {
    this.pending.push({ size });
    this.liveDataLength = Math.min(this.liveDataLength, size);
  }

  /** Set by {@link dropUnsynced}: the live contents hold bytes that no sync will persist. */
  #diverged = false;

  /**
   * datasync / sync: the live contents become durable. After a {@link dropUnsynced} only the pages
   * written since are persisted (whole, with whatever they hold, as the kernel writes back whole
   * dirty pages); the lost bytes in other pages stay lost.
   */
  sync(): void {
    const live = this.live;
    if (!this.#diverged || live === undefined) {
      for (const op of this.pending) applyDataOp(this.durable, op);
      this.pending = [];
      return;
    }
    const size = live.getSize();
    for (const op of this.pending) if ('size' in op) this.durable.setSize(op.size);
    for (const op of this.pending) {
      if ('size' in op) continue;
      const start = Math.floor(op.position / PAGE_BYTES) * PAGE_BYTES;
      const end = Math.min(size, Math.ceil((op.position + op.bytes.length) / PAGE_BYTES) * PAGE_BYTES);
      if (end <= start) continue;
      const page = new Uint8Array(end - start);
      live.read(page, 0, page.length, start);
      this.durable.write(start, page);
    }
    this.durable.setSize(size);
    this.pending = [];
  }

  /**
   * What a failed fsync leaves (Linux since 4.13): the unsynced data stays in the page cache, so the
   * process still reads it, but its pages are marked clean: it never reaches the disk unless its page
   * is written again, and a power cut loses it.
   */
  dropUnsynced(): void {
    this.pending = [];
    this.#diverged = true;
  }
}

/** A directory's inode in the model. */
export class DirInode {
  readonly kind = 'dir';
  /** Permission bits. */
  readonly mode: number;
  /** The entries as last synced. */
  readonly durable = new Map<string, Inode>();
  /** Pending (not yet durable) operations that change an entry of this directory. */
  readonly pending = new Set<NamespaceOp>();
  /** For each name, the pending operation that changed it last. */
  readonly lastChange = new Map<string, NamespaceOp>();

  constructor(mode: number) {
    this.mode = mode;
  }
}

export type Inode = FileInode | DirInode;

/** One entry of one directory changed by a namespace operation. */
export interface EntryChange {
  readonly dir: DirInode;
  readonly name: string;
  readonly before: Inode | undefined;
  readonly after: Inode | undefined;
}

/** A create, remove or rename: one or two entry changes that are kept or lost together. */
export interface NamespaceOp {
  readonly seq: number;
  readonly changes: readonly EntryChange[];
  /** A directory this operation removes (or replaces): it must be empty for the operation to apply. */
  readonly emptied: DirInode | undefined;
  /** Pending operations that must be durable before this one can be. */
  deps: NamespaceOp[];
  durable: boolean;
}

/** The namespace half of the model: the directory tree's durable entries and the pending operations. */
export class Namespace {
  readonly root: DirInode;
  #seq = 0;
  /** Every pending operation, in the order they happened. */
  readonly #pending = new Set<NamespaceOp>();

  constructor(root: DirInode) {
    this.root = root;
  }

  /** Number of namespace operations not yet durable. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Records an operation that just happened in the live namespace. */
  record(changes: readonly EntryChange[], emptied?: DirInode): void {
    const deps: NamespaceOp[] = [];
    for (const c of changes) {
      const prev = c.dir.lastChange.get(c.name);
      if (prev !== undefined) deps.push(prev);
    }
    if (emptied !== undefined) for (const op of emptied.pending) deps.push(op);
    const op: NamespaceOp = { seq: ++this.#seq, changes, emptied, deps, durable: false };
    for (const c of changes) {
      c.dir.pending.add(op);
      c.dir.lastChange.set(c.name, op);
    }
    this.#pending.add(op);
  }

  /** syncDir: every pending operation touching `dir` becomes durable, with what it depends on. */
  syncDir(dir: DirInode): void {
    if (dir.pending.size === 0) return;
    const closure: NamespaceOp[] = [];
    const seen = new Set<NamespaceOp>();
    const stack = [...dir.pending];
    while (stack.length > 0) {
      const op = stack.pop()!;
      if (op.durable || seen.has(op)) continue;
      seen.add(op);
      closure.push(op);
      for (const d of op.deps) stack.push(d);
    }
    closure.sort((a, b) => a.seq - b.seq);
    for (const op of closure) this.#commit(op);
  }

  #commit(op: NamespaceOp): void {
    op.durable = true;
    op.deps = [];
    this.#pending.delete(op);
    for (const c of op.changes) {
      if (c.after === undefined) c.dir.durable.delete(c.name);
      else c.dir.durable.set(c.name, c.after);
      c.dir.pending.delete(op);
      if (c.dir.lastChange.get(c.name) === op) c.dir.lastChange.delete(c.name);
    }
  }

  /**
   * The entries of every directory after a crash: the durable entries, then each pending operation in
   * order, applied if its `before` values hold (and a directory it removes is empty) and `keep(op)`
   * says so. Directories whose entries end up unchanged are absent from the map (read `durable`).
   */
  replay(keep: (op: NamespaceOp) => boolean): Map<DirInode, Map<string, Inode>> {
    const state = new Map<DirInode, Map<string, Inode>>();
    const view = (d: DirInode) => state.get(d) ?? d.durable;
    for (const op of this.#pending) {
      if (!op.changes.every((c) => view(c.dir).get(c.name) === c.before)) continue;
      if (op.emptied !== undefined && view(op.emptied).size > 0) continue;
      if (!keep(op)) continue;
      for (const c of op.changes) {
        let m = state.get(c.dir);
        if (m === undefined) {
          m = new Map(c.dir.durable);
          state.set(c.dir, m);
        }
        if (c.after === undefined) m.delete(c.name);
        else m.set(c.name, c.after);
      }
    }
    return state;
  }
}

/** Applies one data operation to a contents. */
export function applyDataOp(target: SparseBytes, op: DataOp): void {
  if ('size' in op) target.setSize(op.size);
  else target.write(op.position, op.bytes);
}

/** Sector size of the tearing model. */
export const SECTOR_BYTES = 512;
/** Page size of the page cache model (what a sync writes back after a failed one). */
export const PAGE_BYTES = 4096;

/** The choices a random crash makes about a file's unsynced data. */
export interface DataDecisions {
  /** Keep this size change? */
  keepSize(): boolean;
  /** 0: keep the whole write, 1: drop it, 2: tear it (then `keepSector` per sector). */
  writeFate(): 0 | 1 | 2;
  keepSector(): boolean;
}

/**
 * A file's contents after a power cut: the durable contents, then each unsynced operation in order,
 * a size change applied or not, a write kept whole, dropped, or torn: split at 512-byte-aligned sector
 * boundaries (of the file offset) and each piece kept or dropped on its own, so a later sector can
 * survive while an earlier one does not. Every byte is thus a byte that was durable or written.
 */
export function crashContents(file: FileInode, decide: DataDecisions): SparseBytes {
  const out = file.durable.clone();
  for (const op of file.pending) {
    if ('size' in op) {
      if (decide.keepSize()) out.setSize(op.size);
      continue;
    }
    const fate = decide.writeFate();
    if (fate === 0) out.write(op.position, op.bytes);
    else if (fate === 2) {
      const end = op.position + op.bytes.length;
      let start = op.position;
      while (start < end) {
        const stop = Math.min(end, (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES);
        if (decide.keepSector()) out.write(start, op.bytes.subarray(start - op.position, stop - op.position));
        start = stop;
      }
    }
  }
  return out;
}

/** The live contents of a file, read back from memfs (only its possibly non-zero part is copied). */
export function liveContents(file: FileInode): SparseBytes {
  const live = file.live;
  if (live === undefined) {
    // Unlinked: nothing live to read; what the process wrote is the durable contents plus every pending operation.
    const out = file.durable.clone();
    for (const op of file.pending) applyDataOp(out, op);
    return out;
  }
  const size = live.getSize();
  const n = Math.min(size, file.liveDataLength);
  const data = new Uint8Array(n);
  if (n > 0) live.read(data, 0, n, 0);
  return SparseBytes.of(data, size);
}
