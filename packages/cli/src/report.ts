/**
 * The `walnut verify` report: one read of every segment of the directory (not only those from the
 * snapshot on, as `Wal.verify` reads) that tells a torn tail from corruption, names the file and offset
 * of the first bad record, lists segments missing from the sequence, and says what `repair` would do.
 */
import type { FileSystem } from '@walnut/wal-core';
import type { CliIo } from './io.js';
import type { JsonValue } from './json.js';
import { scanProgress } from './progress.js';
import { describePlan, planJson, planRepair } from './repair-plan.js';
import type { RepairPlan } from './repair-plan.js';
import { listSegmentInfo, scanRecords } from './scan.js';
import type { ScanStop, SegmentListing } from './scan.js';
import { decodeRecordBody } from './records.js';

/** The health of the directory's records, from the first segment to the last. */
export type WalHealth =
  /** Every record reads and every CRC matches, to the end of the last segment. */
  | 'ok'
  /** The last segment ends in a torn write (unexpected EOF): what a crash mid-write leaves; `repair` fixes it. */
  | 'torn-tail'
  /** A record is damaged (CRC mismatch, malformed record, cut-short earlier segment): `repair` cannot fix it. */
  | 'corrupt'
  /** No segment at all. */
  | 'empty';

/** What the report found. */
export interface VerifyReport {
  readonly listing: SegmentListing;
  readonly health: WalHealth;
  /** The first bad record (undefined when `health` is ok or empty). */
  readonly firstBad: ScanStop | undefined;
  /** Records read before the first bad one (or all). */
  readonly recordsRead: number;
  /** First and last entry index seen in the records read (undefined when none). */
  readonly firstEntry: bigint | undefined;
  readonly lastEntry: bigint | undefined;
  /** What `repair` would do (undefined when there is no segment). */
  readonly repair: RepairPlan | undefined;
}

/** Reads every segment of `dir` and works out the report. Throws WAL errors of the file system (ENOENT, ...). */
export async function buildReport(fs: FileSystem, dir: string, io: CliIo, progress: boolean): Promise<VerifyReport> {
  const listing = await listSegmentInfo(fs, dir);
  if (listing.segments.length === 0) {
    return {
      listing,
      health: 'empty',
      firstBad: undefined,
      recordsRead: 0,
      firstEntry: undefined,
      lastEntry: undefined,
      repair: undefined,
    };
  }
  const bar = progress ? scanProgress(io, 'verify', listing.segments) : undefined;
  let firstBad: ScanStop | undefined;
  let recordsRead = 0;
  let firstEntry: bigint | undefined;
  let lastEntry: bigint | undefined;
  try {
    await scanRecords(
      fs,
      dir,
      listing.segments,
      {
        record(r) {
          recordsRead++;
          const body = decodeRecordBody(r);
          if (body.kind === 'entry') {
            firstEntry ??= body.entry.index;
            lastEntry = body.entry.index;
          }
        },
        stop(s) {
          firstBad = s;
        },
      },
      { onSegment: (i) => bar?.segment(i) },
    );
  } finally {
    bar?.done();
  }
  const stop = firstBad as ScanStop | undefined;
  const health: WalHealth = stop === undefined ? 'ok' : stop.tornTail ? 'torn-tail' : 'corrupt';
  const repair = await planRepair(fs, dir, listing.segments);
  return { listing, health, firstBad: stop, recordsRead, firstEntry, lastEntry, repair };
}

/** True when the report found anything wrong (a torn tail counts: etcd's verify tolerates it, the report does not). */
export function reportHasProblems(r: VerifyReport): boolean {
  return r.health !== 'ok' || r.listing.gaps.length > 0;
}

function gapText(g: SegmentListing['gaps'][number]): string {
  const seqs = g.missing.map((s) => s.toString(16).padStart(16, '0')).join(', ');
  return `between ${g.after} and ${g.next} (sequence number(s) ${seqs}${g.missing.length === 16 ? ', ...' : ''})`;
}

/** The report as text lines (no trailing newline). */
export function reportLines(r: VerifyReport, dir: string): string[] {
  const out: string[] = [];
  const segs = r.listing.segments;
  const bytes = segs.reduce((n, s) => n + s.size, 0);
  out.push(
    `segments: ${segs.length}${segs.length ? ` (${segs[0]!.name} .. ${segs[segs.length - 1]!.name}), ${bytes} bytes` : ''}; ` +
      (r.listing.gaps.length ? `${r.listing.gaps.length} gap(s) in the sequence` : 'no gap in the sequence'),
  );
  for (const g of r.listing.gaps) out.push(`missing:  segment(s) ${gapText(g)}`);
  for (const n of r.listing.ignored) out.push(`ignored:  ${n} (not a valid segment name)`);
  const entries = r.firstEntry !== undefined ? `, entries ${r.firstEntry}..${r.lastEntry}` : '';
  switch (r.health) {
    case 'empty':
      out.push('status:   no segments');
      break;
    case 'ok':
      out.push(`status:   ok: ${r.recordsRead} records read to the end, every CRC matches${entries}`);
      break;
    case 'torn-tail':
      out.push(
        `status:   torn tail: the last segment ${r.firstBad!.file} ends in a partly written record at offset ${r.firstBad!.offset} ` +
          `(${r.recordsRead} good records before it${entries})`,
      );
      out.push(`          ${r.firstBad!.error.message.replace(/\s*\n\s*/g, ' ')}`);
      out.push(
        '          read mode (and etcd\'s verify) stop there quietly; a member opening the WAL for writing fails with "unexpected EOF"',
      );
      break;
    case 'corrupt':
      out.push(
        `status:   corrupt: first bad record in ${r.firstBad!.file} at offset ${r.firstBad!.offset} (${r.recordsRead} good records before it${entries})`,
      );
      out.push(`          ${r.firstBad!.error.message.replace(/\s*\n\s*/g, ' ')}`);
      break;
  }
  if (r.repair) {
    let line = `repair:   would ${describePlan(r.repair, dir)}`;
    if (r.repair.action === 'none' && r.health === 'corrupt') {
      line += `; it looks at the last segment only and cannot fix the damage in ${r.firstBad!.file}: restore the member from a snapshot or a peer`;
    } else if (r.repair.action === 'truncate' && r.health === 'corrupt') {
      // The last segment also has a torn tail, but the damage found first is elsewhere: repair would cut the
      // tail and report success while the WAL stays unreadable past that record.
      line +=
        `; that would not fix the damage in ${r.firstBad!.file} (repair looks at the last segment only), ` +
        'so the WAL would still not read: restore the member from a snapshot or a peer';
    } else if (r.repair.action === 'truncate') {
      line += `: run \`walnut repair ${dir}\``;
    } else if (r.repair.action === 'refuse') {
      line += ': restore the member from a snapshot or a peer';
    }
    out.push(line);
  }
  return out;
}

/** The report as JSON (for `verify --json --report`). */
export function reportJson(r: VerifyReport): JsonValue {
  return {
    segments: r.listing.segments.map((s) => ({ name: s.name, seq: s.seq, firstIndex: s.firstIndex, size: s.size })),
    missingSegments: r.listing.gaps.map((g) => ({ after: g.after, next: g.next, missingSeqs: [...g.missing] })),
    ignoredFiles: [...r.listing.ignored],
    health: r.health,
    recordsRead: r.recordsRead,
    firstEntryIndex: r.firstEntry ?? null,
    lastEntryIndex: r.lastEntry ?? null,
    firstBadRecord: r.firstBad
      ? {
          file: r.firstBad.file,
          offset: r.firstBad.offset,
          code: r.firstBad.error.code,
          message: r.firstBad.error.message,
          tornTail: r.firstBad.tornTail,
        }
      : null,
    repair: r.repair ? planJson(r.repair) : null,
  };
}
