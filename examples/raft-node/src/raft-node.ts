/**
 * A raft-style node's storage, kept the way etcd keeps it: a WAL (walnut) holding the HardState and the log,
 * and snapshot files holding the applied state. It is not raft — there is no network and no election — but
 * every call it makes to the WAL is one a raft node makes, in the order etcd makes it:
 *
 * - entries are saved with the HardState before they are acknowledged (`wal.save` resolves when durable);
 * - a commit advances the HardState; it needs no sync of its own (raft's MustSync), because a lost commit
 *   index is learned again from the leader;
 * - a new leader's entries overwrite the uncommitted suffix: the node saves them at their index and the WAL
 *   keeps the latest entry for each index (raft's overwrite rule, applied by `readAll`);
 * - a snapshot writes the state file first, then `wal.saveSnapshot`, then `wal.releaseLockTo`, and only then
 *   may old segments be purged;
 * - at start-up: the WAL's valid snapshots, the newest of them with a state file, `Wal.open` there,
 *   `readAll`; a torn tail (a crash in the middle of a write) is repaired once.
 */
import { NodeFileSystem } from '@walnut/fs-node';
import {
  EntryType,
  Wal,
  dirnamePath,
  isFileSystemError,
  isWalError,
  joinPath,
  purgeSegments,
  readFully,
  writeFully,
  type Entry,
  type FileSystem,
  type HardState,
  type Snapshot,
  type WalOptions,
} from '@walnut/wal-core';

export interface RaftNodeOptions {
  /** The node's data directory: `<dir>/wal` and `<dir>/snap`. */
  readonly dir: string;
  /** This node's raft id (stored as the WAL's metadata and checked at every start). */
  readonly id: bigint;
  /** Segment size; the default is etcd's 64 MB, the demo uses small segments so cuts and purges happen. */
  readonly segmentSizeBytes?: number;
  /** Segments kept after a snapshot (etcd's --max-wals). */
  readonly keepSegments?: number;
  /** The file system: local disk unless given (a test can pass `@walnut/fs-memory`). */
  readonly fs?: FileSystem;
}

/** A command of the replicated state machine: set `key` to `value`. */
export interface Command {
  readonly key: string;
  readonly value: string;
}

/** How a start went: what the WAL gave back. */
export interface Recovery {
  readonly fresh: boolean;
  /** The snapshot the WAL was opened at ({0, 0} when there is none). */
  readonly snapshot: { readonly index: bigint; readonly term: bigint };
  /** Entries read after the snapshot, committed or not. */
  readonly entries: number;
  /** True when the last segment had a torn tail and `Wal.repair` cut it off. */
  readonly repaired: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RaftNode {
  /** The replicated state: every committed command applied, in log order. */
  readonly state = new Map<string, string>();
  /** The last index reflected in `state`. */
  private applied = 0n;

  private constructor(
    private readonly fs: FileSystem,
    private readonly options: RaftNodeOptions,
    private readonly wal: Wal,
    private hard: HardState,
    /** The last snapshot: the log starts after it. */
    private snap: { index: bigint; term: bigint },
    /** Entries after the snapshot, committed or not. */
    private log: Entry[],
    readonly recovery: Recovery,
  ) {}

  /** Starts the node: creates its storage, or recovers it from the newest snapshot and the WAL. */
  static async start(options: RaftNodeOptions): Promise<RaftNode> {
    const fs = options.fs ?? new NodeFileSystem();
    const walDir = joinPath(options.dir, 'wal');
    const snapDir = joinPath(options.dir, 'snap');
    const walOptions = RaftNode.walOptions(options);
    await fs.mkdir(snapDir, { recursive: true });
    // Make the directories themselves durable: a new name is only durable once its parent directory is synced
    // (mkdir may have created several levels). Without this a power cut can lose the whole data directory
    // with the WAL inside it, as this example's crash test on fs-memory showed.
    for (let d = snapDir; ; d = dirnamePath(d)) {
      await fs.syncDir(d);
      if (dirnamePath(d) === d) break;
    }

    if (!(await hasWal(fs, walDir))) {
      // Wal.create builds the WAL in `<dir>.tmp`, syncs it and renames it into place: a crash leaves either no
      // WAL or a complete empty one.
      const wal = await Wal.create(fs, walDir, encoder.encode(options.id.toString()), walOptions);
      return new RaftNode(fs, options, wal, { term: 0n, vote: 0n, commit: 0n }, { index: 0n, term: 0n }, [], {
        fresh: true,
        snapshot: { index: 0n, term: 0n },
        entries: 0,
        repaired: false,
      });
    }

    // The snapshots the WAL recorded and may be opened at (never one above the committed index)...
    const walSnapshots = await Wal.validSnapshotEntries(fs, walDir, walOptions);
    // ...and the newest of them whose state file was written (etcd: snapshotter.LoadNewestAvailable). A state
    // file without its WAL record (a crash between the two) is ignored.
    let snap = { index: 0n, term: 0n };
    let saved: SavedState | undefined;
    for (const s of [...walSnapshots].reverse()) {
      saved = await readStateFile(fs, snapPath(snapDir, s));
      if (saved !== undefined) {
        snap = { index: s.index, term: s.term };
        break;
      }
    }

    let repaired = false;
    let wal = await Wal.open(fs, walDir, snap, walOptions);
    let read;
    try {
      read = await wal.readAll();
    } catch (e) {
      await wal.close();
      // A torn tail: the process died in the middle of a write that was never acknowledged. Cut it off once
      // and read again; anything else (a CRC mismatch in the middle, a missing segment) is not ours to fix.
      if (!isWalError(e, 'WAL_UNEXPECTED_EOF') || !(await Wal.repair(fs, walDir, walOptions))) throw e;
      repaired = true;
      wal = await Wal.open(fs, walDir, snap, walOptions);
      read = await wal.readAll();
    }
    const id = read.metadata === undefined ? '' : decoder.decode(read.metadata);
    if (id !== options.id.toString()) {
      await wal.close();
      throw new Error(`${walDir} belongs to node ${id}, not ${options.id}`);
    }

    const node = new RaftNode(fs, options, wal, read.hardState, snap, read.entries, {
      fresh: false,
      snapshot: snap,
      entries: read.entries.length,
      repaired,
    });
    for (const [k, v] of saved?.state ?? []) node.state.set(k, v);
    node.applyCommitted(snap.index);
    return node;
  }

  get hardState(): HardState {
    return this.hard;
  }

  get lastIndex(): bigint {
    return this.log.at(-1)?.index ?? this.snap.index;
  }

  /** The entries after the last snapshot (what a leader would still send to a slow follower). */
  get entries(): readonly Entry[] {
    return this.log;
  }

  get snapshot(): { readonly index: bigint; readonly term: bigint } {
    return this.snap;
  }

  /**
   * Becomes leader of the next term (pretending to win the election): votes for itself and appends raft's
   * empty entry of the new term, then commits it (a single node is its own majority).
   */
  async campaign(): Promise<void> {
    this.hard = { term: this.hard.term + 1n, vote: this.options.id, commit: this.hard.commit };
    await this.append([{ index: this.lastIndex + 1n, term: this.hard.term, type: EntryType.Normal }]);
    await this.commitTo(this.lastIndex);
  }

  /**
   * The leader's path for a client's command: append it to the log (durable before anything else happens),
   * then, unless `commit` is false, commit it (here at once; in a cluster once a majority has it).
   */
  async propose(command: Command, { commit = true } = {}): Promise<bigint> {
    const index = this.lastIndex + 1n;
    await this.append([{ index, term: this.hard.term, type: EntryType.Normal, data: encoder.encode(JSON.stringify(command)) }]);
    if (commit) await this.commitTo(index);
    return index;
  }

  /**
   * What a follower does with an AppendEntries from the leader of `term`: adopt the term (and vote for the
   * leader), keep the entries it already has with the same term, and from the first conflicting index on
   * replace its own entries with the leader's (raft's log matching rule); then commit up to `leaderCommit`.
   * `from` is the index of the first entry sent. Only uncommitted entries can conflict: a leader always holds
   * every committed entry.
   */
  async acceptLeader(
    term: bigint,
    leader: bigint,
    entries: readonly { term: bigint; command?: Command }[],
    leaderCommit: bigint,
    from: bigint,
  ): Promise<void> {
    if (term < this.hard.term) throw new Error(`stale term ${term} < ${this.hard.term}`);
    if (from > this.lastIndex + 1n) throw new Error(`gap: log ends at ${this.lastIndex}, leader sends from ${from}`);
    this.hard = { term, vote: leader, commit: this.hard.commit };
    const incoming: Entry[] = entries.map((e, k) => ({
      index: from + BigInt(k),
      term: e.term,
      type: EntryType.Normal,
      ...(e.command === undefined ? {} : { data: encoder.encode(JSON.stringify(e.command)) }),
    }));
    const conflict = incoming.findIndex((e) => this.log.find((x) => x.index === e.index)?.term !== e.term);
    const toSave = conflict < 0 ? [] : incoming.slice(conflict);
    if (toSave[0] !== undefined && toSave[0].index <= this.hard.commit) throw new Error(`entry ${toSave[0].index} is committed`);
    // The WAL needs nothing special for an overwrite: entries saved at an index it already has replace that
    // entry and everything after it when the log is read back.
    if (toSave[0] !== undefined) this.log = this.log.filter((e) => e.index < toSave[0]!.index);
    await this.append(toSave);
    const last = incoming.at(-1)?.index ?? this.lastIndex;
    await this.commitTo(leaderCommit < last ? leaderCommit : last);
  }

  /**
   * Snapshots the applied state at the commit index, then lets the WAL forget what came before: the state
   * file first (so a WAL snapshot record never lacks its file), then the WAL record, then the locks on older
   * segments are released and those segments purged (keeping `keepSegments`). Returns the purged names.
   */
  async takeSnapshot(): Promise<string[]> {
    const index = this.hard.commit;
    const term = this.termAt(index);
    const snap: Snapshot = {
      index,
      term,
      confState: { voters: [this.options.id], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    };
    await writeStateFile(this.fs, joinPath(this.options.dir, 'snap'), snap, this.state);
    await this.wal.saveSnapshot(snap);
    await this.wal.releaseLockTo(index);
    const { removed } = await purgeSegments(this.fs, joinPath(this.options.dir, 'wal'), { max: this.options.keepSegments ?? 5 });
    this.log = this.log.filter((e) => e.index > index);
    this.snap = { index, term };
    return removed;
  }

  /** Closes the WAL: everything saved is synced and the locks are released. */
  async close(): Promise<void> {
    await this.wal.close();
  }

  /** The segment files of the WAL, oldest first. */
  async segments(): Promise<string[]> {
    return (await this.fs.readdir(joinPath(this.options.dir, 'wal'))).filter((n) => n.endsWith('.wal')).sort();
  }

  private async append(entries: Entry[]): Promise<void> {
    // One call saves the entries and the HardState together; with entries in it the save syncs, so when it
    // resolves the entries survive a power cut and the node may acknowledge them (to a leader, to a client).
    await this.wal.save(this.hard, entries);
    this.log.push(...entries);
  }

  private async commitTo(index: bigint): Promise<void> {
    if (index <= this.hard.commit) return;
    this.hard = { ...this.hard, commit: index };
    // A commit-only HardState change is written but not synced on its own (raft's MustSync is false): after a
    // power cut the commit index may come back lower, and the leader sends it again.
    await this.wal.save(this.hard, []);
    this.applyCommitted(this.snap.index);
  }

  /** Applies committed entries not yet in `state` (`from`: the index already reflected in it). */
  private applyCommitted(from: bigint): void {
    if (this.applied < from) this.applied = from;
    for (const e of this.log) {
      if (e.index <= this.applied || e.index > this.hard.commit) continue;
      if (e.data !== undefined && e.data.length > 0) {
        const c = JSON.parse(decoder.decode(e.data)) as Command;
        this.state.set(c.key, c.value);
      }
      this.applied = e.index;
    }
  }

  private termAt(index: bigint): bigint {
    if (index === this.snap.index) return this.snap.term;
    const e = this.log.find((x) => x.index === index);
    if (e === undefined) throw new Error(`no entry ${index}`);
    return e.term;
  }

  private static walOptions(options: RaftNodeOptions): WalOptions {
    return options.segmentSizeBytes === undefined ? {} : { segmentSizeBytes: options.segmentSizeBytes };
  }
}

interface SavedState {
  readonly state: [string, string][];
}

async function hasWal(fs: FileSystem, walDir: string): Promise<boolean> {
  try {
    return (await fs.readdir(walDir)).some((n) => n.endsWith('.wal'));
  } catch (e) {
    if (isFileSystemError(e, 'ENOENT')) return false;
    throw e;
  }
}

/** etcd's snapshot file name: `<term>-<index>.snap`, each 16 hex digits. */
function snapPath(snapDir: string, s: { index: bigint; term: bigint }): string {
  const hex = (n: bigint) => n.toString(16).padStart(16, '0');
  return joinPath(snapDir, `${hex(s.term)}-${hex(s.index)}.snap`);
}

/** Writes the state file atomically and durably: temp file, fsync, rename, directory fsync. */
async function writeStateFile(fs: FileSystem, snapDir: string, snap: Snapshot, state: Map<string, string>): Promise<void> {
  const path = snapPath(snapDir, snap);
  const bytes = encoder.encode(JSON.stringify({ index: String(snap.index), term: String(snap.term), state: [...state] }));
  const tmp = `${path}.tmp`;
  const file = await fs.open(tmp, 'createTruncate');
  try {
    await writeFully(file, bytes, 0, bytes.length, 0);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, path);
  await fs.syncDir(snapDir);
}

async function readStateFile(fs: FileSystem, path: string): Promise<SavedState | undefined> {
  let file;
  try {
    file = await fs.open(path, 'read');
  } catch (e) {
    if (isFileSystemError(e, 'ENOENT')) return undefined;
    throw e;
  }
  try {
    const bytes = new Uint8Array(await file.size());
    await readFully(file, bytes, 0, bytes.length, 0);
    return JSON.parse(decoder.decode(bytes)) as SavedState;
  } finally {
    await file.close();
  }
}
