/**
 * What `Wal.repair` would do to a WAL directory, worked out read-only with the same scan it makes
 * (wal-core's repair.ts, after etcd's `Repair`): only the last segment is looked at, from a fresh
 * decoder; an unexpected EOF there is a torn tail, cut at the end of the last good record after the
 * whole file is copied to `<segment>.broken`; any other error is corruption and is refused.
 */
import { RecordDecoder, RecordType, isWalError, joinPath } from '@walnut/wal-core';
import type { FileHandle, FileSystem } from '@walnut/wal-core';
import type { WalErrorLike } from './errors.js';
import type { JsonValue } from './json.js';
import type { SegmentInfo } from './scan.js';

/** The repair plan. */
export type RepairPlan =
  | {
      /** The last segment reads to its end: repair changes nothing. */
      readonly action: 'none';
      readonly file: string;
      readonly size: number;
    }
  | {
      /** A torn tail: truncate `file` from `currentSize` to `newSize` bytes, keeping `brokenName`. */
      readonly action: 'truncate';
      readonly file: string;
      readonly currentSize: number;
      readonly newSize: number;
      readonly droppedBytes: number;
      /** Frames from the cut to the end of the file (the torn one included; zeros after the last are not counted). */
      readonly droppedRecords: number;
      readonly brokenName: string;
      readonly error: WalErrorLike;
    }
  | {
      /** The damage is not a torn tail: repair reports failure and changes nothing. */
      readonly action: 'refuse';
      readonly file: string;
      readonly offset: number;
      readonly error: WalErrorLike;
    };

/** Counts the frames from `offset` to the end of `size` bytes by their length words (stops at a zero word). */
async function countFrames(file: FileHandle, offset: number, size: number): Promise<number> {
  const word = new Uint8Array(8);
  const view = new DataView(word.buffer);
  let n = 0;
  for (let pos = offset; pos < size;) {
    const got = await file.read(word, 0, Math.min(8, size - pos), pos);
    if (got < 8) return n + (word.subarray(0, got).some((b) => b !== 0) ? 1 : 0);
    const lo = view.getUint32(0, true);
    const hi = view.getUint32(4, true);
    if (lo === 0 && hi === 0) return n;
    const len = lo + (hi & 0xffffff) * 2 ** 32;
    const pad = hi & 0x80000000 ? (hi >>> 24) & 0x7 : 0;
    n++;
    pos += 8 + len + pad;
  }
  return n;
}

/**
 * Works out what `walnut repair` would do, without writing (and without taking the lock).
 * @param segments - the directory's segments in sequence order (see `listSegmentInfo`); must not be empty
 */
export async function planRepair(fs: FileSystem, dir: string, segments: readonly SegmentInfo[]): Promise<RepairPlan> {
  const last = segments[segments.length - 1];
  if (!last) throw new Error('planRepair: no segments');
  const file = await fs.open(joinPath(dir, last.name), 'read');
  try {
    const size = await file.size();
    const dec = new RecordDecoder([{ name: last.name, file, size }]);
    for (;;) {
      const lastOffset = dec.lastOffset;
      try {
        const rec = await dec.next();
        if (!rec) return { action: 'none', file: last.name, size };
        if (rec.type === RecordType.Crc) dec.acceptCrcRecord(rec);
      } catch (e) {
        if (!isWalError(e)) throw e;
        if (e.code !== 'WAL_UNEXPECTED_EOF') {
          const loc = (e as { location?: { offset?: number } }).location;
          return { action: 'refuse', file: last.name, offset: loc?.offset ?? lastOffset, error: e };
        }
        return {
          action: 'truncate',
          file: last.name,
          currentSize: size,
          newSize: lastOffset,
          droppedBytes: size - lastOffset,
          droppedRecords: await countFrames(file, lastOffset, size),
          brokenName: `${last.name}.broken`,
          error: e,
        };
      }
    }
  } finally {
    await file.close();
  }
}

/** The plan in one sentence, e.g. for `verify` and `repair`. */
export function describePlan(plan: RepairPlan, dir: string): string {
  switch (plan.action) {
    case 'none':
      return `change nothing: the last segment ${plan.file} reads to its end`;
    case 'truncate':
      return (
        `truncate ${joinPath(dir, plan.file)} at offset ${plan.newSize} (${plan.currentSize} -> ${plan.newSize} bytes, ` +
        `${plan.droppedBytes} bytes and ${plan.droppedRecords} record(s) dropped: the torn one and anything after it), ` +
        `keeping the original as ${plan.brokenName}`
      );
    case 'refuse':
      return `refuse: ${plan.file} has ${plan.error.code === 'WAL_CRC_MISMATCH' ? 'a CRC mismatch' : `damage (${plan.error.code})`} at offset ${plan.offset}, which is corruption, not a torn tail; nothing would be changed`;
  }
}

/** The plan as JSON. */
export function planJson(plan: RepairPlan): JsonValue {
  switch (plan.action) {
    case 'none':
      return { action: 'none', file: plan.file, size: plan.size };
    case 'truncate':
      return {
        action: 'truncate',
        file: plan.file,
        currentSize: plan.currentSize,
        newSize: plan.newSize,
        droppedBytes: plan.droppedBytes,
        droppedRecords: plan.droppedRecords,
        broken: plan.brokenName,
        reason: plan.error.message,
      };
    case 'refuse':
      return { action: 'refuse', file: plan.file, offset: plan.offset, code: plan.error.code, reason: plan.error.message };
  }
}
