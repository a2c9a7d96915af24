/** `walnut stat DIR [--json]`: what a WAL directory holds, from one raw read of every record. */
import type { HardState } from '@walnut/wal-core';
import { shellQuote } from '../errors.js';
import { decodeEntryPayload, decodeMetadata } from '../decode/payload.js';
import { entryTypeName, formatHardState, toHex } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import type { JsonValue } from '../json.js';
import { formatBytes, scanProgress } from '../progress.js';
import { decodeRecordBody, recordTypeName } from '../records.js';
import { requireSegments, scanRecords } from '../scan.js';
import type { ScanStop } from '../scan.js';

/** Options of {@link statCommand}. */
export interface StatOptions {
  readonly json: boolean;
}

/** Per-segment figures. */
interface SegmentStat {
  records: number;
  firstEntry: bigint | undefined;
  lastEntry: bigint | undefined;
}

/** Increments `m[k]`. */
function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function countsText(m: ReadonlyMap<string, number>): string {
  return [...m].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
}

function countsJson(m: ReadonlyMap<string, number>): JsonValue {
  return Object.fromEntries(m);
}

/**
 * Lists the segments (name, sequence, first index, size, the entries each holds) and counts what the
 * records hold: records by type, entries by entry type and by etcd request kind, the index and term range,
 * the snapshot records, the last HardState and the metadata. It reads like `dump --raw` (past CRC errors),
 * so a damaged WAL is still counted; damage is summed up at the end.
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} when a record is damaged, a segment tail is
 *   unreadable or segments are missing from the sequence
 */
export async function statCommand(ctx: CommandContext, dir: string, opts: StatOptions): Promise<ExitCode> {
  const listing = await requireSegments(ctx.fs, dir);
  const { segments } = listing;
  const perSegment = new Map<string, SegmentStat>(
    segments.map((s) => [s.name, { records: 0, firstEntry: undefined, lastEntry: undefined }]),
  );
  const byRecordType = new Map<string, number>();
  const byEntryType = new Map<string, number>();
  const byRequest = new Map<string, number>();
  const snapshots: Array<{ index: bigint; term: bigint }> = [];
  const stops: ScanStop[] = [];
  let hardState: HardState | undefined;
  let metadata: Uint8Array | undefined;
  let minIndex: bigint | undefined;
  let maxIndex: bigint | undefined;
  let minTerm: bigint | undefined;
  let maxTerm: bigint | undefined;
  let damaged = 0;
  let records = 0;
  const progress = opts.json ? undefined : scanProgress(ctx.io, 'stat', segments);
  try {
    await scanRecords(
      ctx.fs,
      dir,
      segments,
      {
        record(r) {
          records++;
          bump(byRecordType, recordTypeName(r.type));
          const body = decodeRecordBody(r);
          if (r.damage || body.kind === 'undecodable') damaged++;
          const seg = perSegment.get(r.file);
          if (seg) seg.records++;
          switch (body.kind) {
            case 'entry': {
              const e = body.entry;
              bump(byEntryType, entryTypeName(e.type));
              if (e.type === 0) bump(byRequest, decodeEntryPayload(e.type, e.data).kind);
              if (minIndex === undefined || e.index < minIndex) minIndex = e.index;
              if (maxIndex === undefined || e.index > maxIndex) maxIndex = e.index;
              if (minTerm === undefined || e.term < minTerm) minTerm = e.term;
              if (maxTerm === undefined || e.term > maxTerm) maxTerm = e.term;
              if (seg) {
                seg.firstEntry ??= e.index;
                seg.lastEntry = e.index;
              }
              break;
            }
            case 'hardstate':
              hardState = body.hardState;
              break;
            case 'snapshot':
              snapshots.push({ index: body.snapshot.index, term: body.snapshot.term });
              break;
            case 'metadata':
              metadata ??= body.data;
              break;
            default:
              break;
          }
        },
        stop(s) {
          stops.push(s);
        },
      },
      { raw: true, onSegment: (i) => progress?.segment(i) },
    );
  } finally {
    progress?.done();
  }
  const totalBytes = segments.reduce((n, s) => n + s.size, 0);
  const problems = damaged + stops.length + listing.gaps.length;
  if (opts.json) {
    ctx.io.stdout(
      toJson({
        dir,
        segments: segments.map((s) => {
          const st = perSegment.get(s.name)!;
          return {
            name: s.name,
            seq: s.seq,
            firstIndex: s.firstIndex,
            size: s.size,
            records: st.records,
            firstEntryIndex: st.firstEntry ?? null,
            lastEntryIndex: st.lastEntry ?? null,
          };
        }),
        totalBytes,
        missingSegments: listing.gaps.map((g) => ({ after: g.after, next: g.next, missingSeqs: [...g.missing] })),
        ignoredFiles: [...listing.ignored],
        records,
        recordsByType: countsJson(byRecordType),
        entriesByType: countsJson(byEntryType),
        requestsByKind: countsJson(byRequest),
        indexRange: minIndex !== undefined ? { first: minIndex, last: maxIndex! } : null,
        termRange: minTerm !== undefined ? { first: minTerm, last: maxTerm! } : null,
        snapshots: snapshots.map((s) => ({ index: s.index, term: s.term })),
        hardState: hardState ? { term: hardState.term, vote: hardState.vote, commit: hardState.commit } : null,
        metadataHex: metadata ? toHex(metadata) : null,
        metadata: decodeMetadata(metadata)?.json ?? null,
        damagedRecords: damaged,
        errors: stops.map((s) => ({ file: s.file, offset: s.offset, code: s.error.code, message: s.error.message, tornTail: s.tornTail })),
      }) + '\n',
    );
  } else {
    const out: string[] = [];
    out.push(
      `WAL ${dir}: ${segments.length} segment(s), ${totalBytes} bytes (${formatBytes(totalBytes)}), ` +
        (listing.gaps.length ? `${listing.gaps.length} gap(s) in the sequence` : 'no gap in the sequence'),
    );
    if (segments.length > 0) {
      const rows = segments.map((s) => {
        const st = perSegment.get(s.name)!;
        return [
          s.name,
          s.seq.toString(),
          s.firstIndex.toString(),
          st.firstEntry !== undefined ? `${st.firstEntry}..${st.lastEntry}` : '-',
          String(st.records),
          String(s.size),
        ];
      });
      const head = ['segment', 'seq', 'first index', 'entries', 'records', 'bytes'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) =>
        `  ${r[0]!.padEnd(w[0]!)}  ${r
          .slice(1)
          .map((c, i) => (i === 2 ? c.padEnd(w[i + 1]!) : c.padStart(w[i + 1]!)))
          .join('  ')}`.trimEnd();
      out.push(line(head));
      for (const r of rows) out.push(line(r));
    }
    for (const g of listing.gaps) out.push(`missing:    segment(s) between ${g.after} and ${g.next}`);
    out.push(`records:    ${records} (${countsText(byRecordType)})`);
    out.push(
      `entries:    ${minIndex !== undefined ? `index ${minIndex}..${maxIndex}, term ${minTerm}..${maxTerm}; ` : ''}${countsText(byEntryType)}`,
    );
    if (byRequest.size > 0) out.push(`requests:   ${countsText(byRequest)}`);
    // A long-lived WAL has a snapshot record every few thousand entries: show the newest ten.
    const shownSnaps = snapshots.slice(-10).map((s) => `${s.index}:${s.term}`);
    const more = snapshots.length > 10 ? `... ${snapshots.length - 10} older, ` : '';
    out.push(
      `snapshots:  ${snapshots.length}${snapshots.length ? ` (${more}${shownSnaps.join(' ')})` : ''} (records, INDEX:TERM; \`walnut snapshots\` lists the valid ones)`,
    );
    out.push(`hard state: ${hardState ? `${formatHardState(hardState)} (the last record)` : '(none)'}`);
    const meta = decodeMetadata(metadata);
    out.push(`metadata:   ${metadata === undefined ? '(none)' : meta ? meta.text : toHex(metadata)}`);
    out.push(
      `problems:   ${problems === 0 ? 'none' : `${damaged} damaged record(s), ${stops.length} unreadable segment tail(s), ${listing.gaps.length} gap(s)`}`,
    );
    ctx.io.stdout(out.join('\n') + '\n');
  }
  if (problems === 0) return ExitCode.Ok;
  const first = stops[0];
  ctx.io.stderr(
    `walnut: ${dir} has ${damaged} damaged record(s), ${stops.length} unreadable segment tail(s) and ${listing.gaps.length} gap(s) in the segment sequence` +
      (first ? `; the first error: ${first.error.message.replace(/\s*\n\s*/g, ' ')}` : '') +
      '\n',
  );
  ctx.io.stderr(`hint: \`walnut verify ${shellQuote(dir)}\` tells a torn tail from corruption and what repair would do\n`);
  return ExitCode.WalError;
}
