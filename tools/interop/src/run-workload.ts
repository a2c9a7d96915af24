/** Replays a generated workload through walnut's Wal. */
import type { FileSystem } from '@walnut/wal-core';
import { Wal } from '@walnut/wal-core';
import type { Workload } from './workload.js';

export interface RunOptions {
  /** Skip fdatasync (bytes on disk are the same; the suite is faster). */
  noFsync?: boolean;
}

/** Runs every op of `w` against a fresh WAL in `dir` (which must not hold a WAL yet). */
export async function runWorkload(fs: FileSystem, dir: string, w: Workload, options: RunOptions = {}): Promise<void> {
  let wal: Wal | undefined;
  const open = (): Wal => {
    if (!wal) throw new Error(`seed ${w.seed}: op before create`);
    return wal;
  };
  try {
    for (const op of w.ops) {
      switch (op.op) {
        case 'create':
          wal = await Wal.create(fs, dir, op.metadata, { segmentSizeBytes: w.segmentSizeBytes, noFsync: options.noFsync ?? false });
          break;
        case 'save':
          await open().save(op.hardState, [...op.entries]);
          break;
        case 'saveSnapshot':
          await open().saveSnapshot(op.snapshot);
          break;
        case 'releaseLockTo':
          await open().releaseLockTo(op.index);
          break;
        case 'sync':
          await open().sync();
          break;
        case 'close':
          await open().close();
          wal = undefined;
          break;
      }
    }
  } finally {
    // A failed op must not leave the lock held for the next seed's temp dir cleanup.
    if (wal) await wal.close().catch(() => undefined);
  }
}
