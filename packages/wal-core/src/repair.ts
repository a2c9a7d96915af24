/**
 * etcd Repair: only the last segment is ever repaired, and only a torn tail (unexpected EOF). The whole
 * file is first copied to `<segment>.broken`, then truncated to the start of the bad frame and synced.
 * A CRC mismatch or any other damage is not repairable.
 */
import { UnexpectedEofError, WalError } from './errors.js';
import { RecordType } from './codec/messages.js';
import type { FileHandle, FileSystem } from './fs/file-system.js';
import { readFully, writeFully } from './fs/io.js';
import { dirnamePath, joinPath } from './fs/path.js';
import { RecordDecoder } from './record-decoder.js';
import { readSegmentNames } from './segment-files.js';
import type { WalClock, WalLogger, WalMetrics, WalRepairOutcome } from './options.js';

const COPY_CHUNK = 4 * 1024 * 1024;

export interface RepairContext {
  readonly strict: boolean;
  readonly logger: WalLogger;
  readonly metrics: WalMetrics | undefined;
  readonly clock: WalClock;
}

/** Repairs the WAL in `dir`; true if it is now readable to the end (or already was). Reports the outcome to `ctx.metrics.repair`. */
export async function repairWal(fs: FileSystem, dir: string, ctx: RepairContext): Promise<boolean> {
  const outcome = await repairOutcome(fs, dir, ctx);
  ctx.metrics?.repair?.(outcome);
  return outcome === 'repaired' || outcome === 'clean';
}

async function repairOutcome(fs: FileSystem, dir: string, ctx: RepairContext): Promise<WalRepairOutcome> {
  let file: FileHandle | undefined;
  try {
    const names = await readSegmentNames(fs, dir, ctx.strict, ctx.logger);
    const last = names[names.length - 1]!;
    const path = joinPath(dir, last.name);
    file = await fs.open(path, 'readWrite');
    // etcd waits for the lock; walnut does not, so a WAL still open elsewhere (a running etcd, a handle
    // not closed) makes repair report false with a logged ELOCKED instead of hanging.
    await file.tryLock();
    const size = await file.size();
    const dec = new RecordDecoder([{ name: last.name, file, size }]);
    for (;;) {
      const lastOffset = dec.lastOffset;
      let rec;
      try {
        rec = await dec.next();
      } catch (e) {
        if (!(e instanceof UnexpectedEofError)) {
          ctx.logger.warn({ path, error: (e as Error).message }, 'wal: repair failed: the damage is not a torn tail');
          return 'refused';
        }
        ctx.logger.info({ path, offset: lastOffset, reason: e.message }, 'wal: repairing');
        await backupAndTruncate(fs, file, path, size, lastOffset, ctx);
        return 'repaired';
      }
      if (!rec) return 'clean';
      if (rec.type === RecordType.Crc) dec.acceptCrcRecord(rec);
    }
  } catch (e) {
    ctx.logger.warn(
      { dir, error: e instanceof Error ? e.message : String(e), code: e instanceof WalError ? e.code : undefined },
      'wal: repair failed',
    );
    return 'failed';
  } finally {
    await file?.close().catch(() => {});
  }
}

async function backupAndTruncate(
  fs: FileSystem,
  file: FileHandle,
  path: string,
  size: number,
  offset: number,
  ctx: RepairContext,
): Promise<void> {
  const backup = await fs.open(`${path}.broken`, 'createTruncate', { mode: 0o600 });
  try {
    const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(size, 1)));
    for (let pos = 0; pos < size;) {
      const n = await readFully(file, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      await writeFully(backup, buf, 0, n, pos);
      pos += n;
    }
    // The copy must be durable before the original loses anything.
    await backup.sync();
  } finally {
    await backup.close();
  }
  await fs.syncDir(dirnamePath(path));
  await file.truncate(offset);
  const start = ctx.clock.now();
  await file.sync();
  ctx.metrics?.syncDuration?.((ctx.clock.now() - start) / 1000);
}
