/**
 * A record-level scan of every segment of a WAL directory, in file order, with each record's file and
 * offset: what `dump --raw`, `stat` and the `verify` report read. Unlike `Wal.readAll` it does not
 * replay (no snapshot, no overwrite rule): it shows what is on disk.
 */
import { RecordDecoder, RecordType, SegmentNotFoundError, isWalError, joinPath, tryParseSegmentName } from '@walnut/wal-core';
import type { DecodedRecord, FileHandle, FileSystem, SegmentName } from '@walnut/wal-core';
import type { WalErrorLike } from './errors.js';

/** A `*.wal` segment of the directory, in sequence order. */
export interface SegmentInfo {
  readonly name: string;
  readonly seq: bigint;
  /** The raft index in the name: the first index the segment may hold. */
  readonly firstIndex: bigint;
  readonly size: number;
}

/** What the directory holds: valid segments (sorted), other files, and holes in the sequence. */
export interface SegmentListing {
  readonly segments: readonly SegmentInfo[];
  /** `*.wal` names that are not valid segment names (etcd ignores them too). */
  readonly ignored: readonly string[];
  /** Sequence numbers missing between consecutive segments (`after` is followed by `next`). */
  readonly gaps: ReadonlyArray<{ readonly after: string; readonly next: string; readonly missing: readonly bigint[] }>;
}

/** Lists the segments of `dir` with their sizes and checks the sequence for holes. */
export async function listSegmentInfo(fs: FileSystem, dir: string): Promise<SegmentListing> {
  const parsed: Array<SegmentName> = [];
  const ignored: string[] = [];
  for (const n of (await fs.readdir(dir)).sort()) {
    if (!n.endsWith('.wal')) continue;
    const p = tryParseSegmentName(n);
    if (p) parsed.push(p);
    else ignored.push(n);
  }
  parsed.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  const segments: SegmentInfo[] = [];
  for (const p of parsed) {
    segments.push({ name: p.name, seq: p.seq, firstIndex: p.index, size: (await fs.stat(joinPath(dir, p.name))).size });
  }
  const gaps: Array<{ after: string; next: string; missing: bigint[] }> = [];
  for (let i = 1; i < segments.length; i++) {
    const a = segments[i - 1]!;
    const b = segments[i]!;
    if (b.seq !== a.seq + 1n) {
      const missing: bigint[] = [];
      // List at most a few; the count is in the message.
      for (let s = a.seq + 1n; s < b.seq && missing.length < 16; s++) missing.push(s);
      gaps.push({ after: a.name, next: b.name, missing });
    }
  }
  return { segments, ignored, gaps };
}

/**
 * {@link listSegmentInfo}, but a directory without a segment is an error, as for every WAL reader.
 * @throws SegmentNotFoundError (`WAL_FILE_NOT_FOUND`, etcd's `wal: file not found`) when there is none
 */
export async function requireSegments(fs: FileSystem, dir: string): Promise<SegmentListing> {
  const listing = await listSegmentInfo(fs, dir);
  if (listing.segments.length === 0) throw new SegmentNotFoundError(dir);
  return listing;
}

/** A record as the scan found it. */
export interface ScannedRecord extends DecodedRecord {
  /**
   * Set when the record was read but is damaged: its CRC does not continue the chain (`--raw` only;
   * a normal scan stops at the first error instead).
   */
  readonly damage?: WalErrorLike;
}

/** An error that ended the scan of a segment (a normal scan stops there; `--raw` goes on with the next segment). */
export interface ScanStop {
  readonly error: WalErrorLike;
  /** The segment the error is in. */
  readonly file: string;
  /** Offset of the frame that failed (the end of the last good record). */
  readonly offset: number;
  /** True for an unexpected EOF in the last segment: a torn tail, what `repair` cuts. */
  readonly tornTail: boolean;
}

/** Options of {@link scanRecords}. */
export interface ScanOptions {
  /**
   * etcd-dump-logs' raw mode: keep going past CRC mismatches (the record is returned with `damage`) and,
   * after an error that makes the rest of a segment unreadable, go on with the next segment.
   */
  readonly raw?: boolean;
  /** Called with the segment index each time the scan enters a segment (for progress bars). */
  readonly onSegment?: (index: number) => void;
}

/** What {@link scanRecords} calls for each record and each stop. */
export interface ScanSink {
  record(r: ScannedRecord): void | Promise<void>;
  stop(s: ScanStop): void | Promise<void>;
}

/**
 * Reads every record of `segments` (in order) through wal-core's {@link RecordDecoder}, checking the CRC
 * chain as every reader does. A normal scan stops at the first error (reported to `sink.stop`); a raw
 * scan reports damaged records and errors and continues.
 */
export async function scanRecords(
  fs: FileSystem,
  dir: string,
  segments: readonly SegmentInfo[],
  sink: ScanSink,
  options: ScanOptions = {},
): Promise<void> {
  const handles: FileHandle[] = [];
  // Segments that follow a hole in the sequence numbers.
  const afterGap = new Set(segments.filter((s, i) => i > 0 && s.seq !== segments[i - 1]!.seq + 1n).map((s) => s.name));
  try {
    const sources = [];
    for (const s of segments) {
      const file = await fs.open(joinPath(dir, s.name), 'read');
      handles.push(file);
      sources.push({ name: s.name, file, size: s.size });
    }
    let from = 0;
    while (from < sources.length) {
      const dec = new RecordDecoder(sources.slice(from), { continueOnCrcError: options.raw === true });
      let seen = -1;
      const enter = () => {
        const i = from + dec.currentIndex;
        if (i !== seen) {
          seen = i;
          options.onSegment?.(i);
        }
      };
      let stoppedAt: number | undefined;
      for (;;) {
        enter();
        const off = dec.lastOffset;
        let rec: DecodedRecord | null;
        try {
          rec = await dec.next();
        } catch (e) {
          if (!isWalError(e)) throw e;
          const idx = from + dec.currentIndex;
          const loc = (e as { location?: { file?: string; offset?: number } }).location;
          const file = loc?.file ?? segments[idx]!.name;
          const tornTail = e.code === 'WAL_UNEXPECTED_EOF' && idx === sources.length - 1;
          await sink.stop({ error: e, file, offset: loc?.offset ?? off, tornTail });
          stoppedAt = idx;
          break;
        }
        if (!rec) break;
        let damage: WalErrorLike | undefined = dec.lastCrcError;
        if (damage) {
          // Judge the next records on their own: restart the chain from the CRC this record claims
          // (etcd's raw mode leaves it desynchronised until the next CRC record).
          dec.updateCrc(rec.crc);
        } else if (rec.type === RecordType.Crc && afterGap.has(rec.file) && rec.offset === 0) {
          // The segment before this one is missing: its CRC record cannot continue a chain we never
          // read. The gap itself is reported by the listing; start the chain again here.
          dec.updateCrc(rec.crc);
        } else if (rec.type === RecordType.Crc) {
          try {
            dec.acceptCrcRecord(rec);
          } catch (e) {
            if (!isWalError(e)) throw e;
            if (!options.raw) {
              await sink.stop({ error: e, file: rec.file, offset: rec.offset, tornTail: false });
              return;
            }
            damage = e;
            dec.updateCrc(rec.crc);
          }
        }
        await sink.record(damage ? { ...rec, damage } : rec);
      }
      if (stoppedAt === undefined || !options.raw) return;
      from = stoppedAt + 1;
    }
  } finally {
    for (const h of handles) await h.close().catch(() => undefined);
  }
}
