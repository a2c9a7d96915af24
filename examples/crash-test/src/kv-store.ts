/**
 * The application under test: a small key-value store that persists every change through a walnut WAL
 * before acknowledging it. Replace it with your own; the crash test only needs "open", "write", "read the
 * state" and "close".
 */
import { EntryType, Wal, dirnamePath, isFileSystemError, isWalError, joinPath, type FileSystem, type WalOptions } from '@walnut/wal-core';

export type KvOptions = WalOptions;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KvStore {
  private constructor(
    private readonly wal: Wal,
    private lastIndex: bigint,
    private readonly data: Map<string, string>,
    /** Whether opening had to repair a torn tail (for tests and logs). */
    readonly repaired = false,
  ) {}

  /**
   * Opens the store in `dir` (created if missing) and rebuilds its state from the WAL. A crash in the middle
   * of a write can leave a torn tail: like etcd, the store repairs it once (cutting off the record that was
   * never acknowledged) and reads again. Anything else is an error the caller must see.
   */
  static async open(fs: FileSystem, dir: string, options: KvOptions = {}): Promise<KvStore> {
    await fs.mkdir(dir, { recursive: true });
    // A new name is durable only once its parent directory is synced: sync the directory and each parent,
    // or a power cut can take the store with it. (The crash test below found exactly this: the first version
    // synced only the direct parent, and a cut lost '/app', which mkdir had created too.)
    for (let d = dir; ; d = dirnamePath(d)) {
      await fs.syncDir(d);
      if (dirnamePath(d) === d) break;
    }
    const walDir = joinPath(dir, 'wal');
    if (!(await hasWal(fs, walDir))) {
      return new KvStore(await Wal.create(fs, walDir, undefined, options), 0n, new Map());
    }
    let wal = await Wal.open(fs, walDir, { index: 0n, term: 0n }, options);
    let entries;
    let repaired = false;
    try {
      ({ entries } = await wal.readAll());
    } catch (e) {
      await wal.close();
      if (!isWalError(e, 'WAL_UNEXPECTED_EOF') || !(await Wal.repair(fs, walDir, options))) throw e;
      repaired = true;
      wal = await Wal.open(fs, walDir, { index: 0n, term: 0n }, options);
      ({ entries } = await wal.readAll());
    }
    const data = new Map<string, string>();
    for (const e of entries) {
      const op = JSON.parse(decoder.decode(e.data)) as { key: string; value?: string };
      if (op.value === undefined) data.delete(op.key);
      else data.set(op.key, op.value);
    }
    return new KvStore(wal, entries.at(-1)?.index ?? 0n, data, repaired);
  }

  /** Sets `key`; resolves once the change survives a crash (the acknowledgement). */
  async set(key: string, value: string): Promise<void> {
    await this.append({ key, value });
    this.data.set(key, value);
  }

  /** Deletes `key`; resolves once the deletion survives a crash. */
  async delete(key: string): Promise<void> {
    await this.append({ key });
    this.data.delete(key);
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** The whole state (for checks). */
  snapshot(): Map<string, string> {
    return new Map(this.data);
  }

  async close(): Promise<void> {
    await this.wal.close();
  }

  private async append(op: { key: string; value?: string }): Promise<void> {
    const index = this.lastIndex + 1n;
    // A save with entries is synced before it resolves (unless the WAL was opened with noFsync).
    await this.wal.save({ term: 1n, vote: 0n, commit: index }, [
      { index, term: 1n, type: EntryType.Normal, data: encoder.encode(JSON.stringify(op)) },
    ]);
    this.lastIndex = index;
  }
}

async function hasWal(fs: FileSystem, walDir: string): Promise<boolean> {
  try {
    return (await fs.readdir(walDir)).some((n) => n.endsWith('.wal'));
  } catch (e) {
    if (isFileSystemError(e, 'ENOENT')) return false;
    throw e;
  }
}
