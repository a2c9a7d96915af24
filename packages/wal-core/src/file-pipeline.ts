/**
 * etcd's file pipeline: a background task keeps the next segment ready — created as `0.tmp` / `1.tmp`
 * (alternating, so a name is never reused while the previous rename may be pending), locked and
 * preallocated to the segment size — so a cut never waits for allocation.
 *
 * Unlike etcd, a stale `N.tmp` left by a crash in the middle of a cut is truncated before reuse (see below).
 */
import type { FileHandle, FileSystem } from './fs/file-system.js';
import { joinPath } from './fs/path.js';
import type { WalScheduler } from './options.js';

/** A prepared segment file: locked, preallocated. */
export interface PreparedFile {
  readonly file: FileHandle;
  readonly path: string;
  readonly name: string;
}

export class FilePipeline {
  private count = 0;
  private pending: Promise<PreparedFile> | undefined;
  private stopped = false;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly size: number,
    /** Whether appends into the prepared files will be datasynced (false with noFsync: see FileHandle.allocate). */
    private readonly synced: boolean,
    private readonly scheduler: WalScheduler,
    /** Told when a background preparation fails (the WAL logs it: the failure would otherwise surface only at the next cut). */
    private readonly onError?: (e: unknown) => void,
  ) {
    this.prepareNext();
  }

  private prepareNext(): void {
    const name = `${this.count % 2}.tmp`;
    this.count++;
    const path = joinPath(this.dir, name);
    this.pending = new Promise<PreparedFile>((resolve, reject) => {
      this.scheduler(async () => {
        let file: FileHandle | undefined;
        try {
          file = await this.fs.open(path, 'create', { mode: 0o600 });
          await file.lock();
          // Deviation from etcd (which reuses a stale N.tmp as is): a temp file left by a crash in the middle
          // of a cut may hold a longer head (e.g. a State record the new head lacks); its leftover frames
          // would follow the new head and fail their CRC on the next open. Start from empty.
          await file.truncate(0);
          await file.allocate(this.size, { synced: this.synced });
          resolve({ file, path, name });
        } catch (e) {
          if (file) await file.close().catch(() => {});
          reject(e);
        }
      });
    });
    // A failure is reported to the next open() (and onError, now); never as an unhandled rejection.
    this.pending.catch((e: unknown) => this.onError?.(e));
  }

  /**
   * The next prepared file (waits until it is ready); starts preparing the one after. If the background
   * preparation failed (e.g. ENOSPC), it is tried once more now, so space freed in the meantime is used;
   * a second failure is thrown.
   */
  async open(): Promise<PreparedFile> {
    if (this.stopped || !this.pending) throw new Error('file pipeline is stopped');
    let f: PreparedFile;
    try {
      f = await this.pending;
    } catch {
      this.count--; // reuse the same name
      this.prepareNext();
      f = await this.pending;
    }
    this.prepareNext();
    return f;
  }

  /** Stops the pipeline and deletes the prepared file it holds, if any. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    try {
      const f = await p;
      await f.file.close();
      await this.fs.remove(f.path, { force: true });
    } catch {
      // Preparation failed: nothing to delete beyond what it cleaned up itself.
    }
  }
}
