/** `walnut dump DIR [--snap INDEX:TERM] [--write] [--from I] [--to I] [--type T,...] [--raw] [--json]`. */
import { Wal, canonicalDump, formatCanonicalDump } from '@walnut/wal-core';
import { isWalError, reportWalError } from '../errors.js';
import type { WalErrorLike } from '../errors.js';
import { describeFilter, entryMatches, inRange, isEmptyFilter, RECORD_TYPE_NAMES } from '../filter.js';
import type { DumpFilter } from '../filter.js';
import { formatHardState, formatTextDump } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import type { JsonValue } from '../json.js';
import { ReadCountingFileSystem, readProgress, scanProgress } from '../progress.js';
import { readWal } from '../read.js';
import { decodeRecordBody, describeRecordBody, formatConfState, recordJson, recordMatches, recordTypeName } from '../records.js';
import { listSegmentInfo, requireSegments, scanRecords } from '../scan.js';
import type { ScanStop } from '../scan.js';
import type { SnapPosition } from '../snap.js';

/**
 * Segment size handed to a write-mode open: only the file pipeline's prepared next segment uses it
 * (a dump appends nothing), so keep that temporary file small, as `etcdwal` does (it sets etcd's
 * `SegmentSizeBytes` to 64 KiB for every command).
 */
export const DUMP_SEGMENT_SIZE_BYTES = 64 * 1024;

/** Options of {@link dumpCommand}. */
export interface DumpOptions {
  /** Snapshot to open at (default 0:0). */
  readonly snap: SnapPosition;
  /** Open in write mode (`Wal.open`), with etcd's side effects on the tail segment. */
  readonly write: boolean;
  /** Print the canonical dump JSON (the bytes `etcdwal dump` prints) instead of text. */
  readonly json: boolean;
  /** `--from/--to/--type`. */
  readonly filter: DumpFilter;
  /** Every record of every segment in file order, going on past CRC errors (etcd-dump-logs' raw mode). */
  readonly raw: boolean;
}

/**
 * Opens the WAL at `dir`, reads it all and prints what was read; or, with `raw`, scans every record.
 * @returns {@link ExitCode.Ok} when the read reported no error (raw: no damaged record, no error),
 *   {@link ExitCode.Usage} for a record type filter without `--raw`, else {@link ExitCode.WalError}
 */
export async function dumpCommand(ctx: CommandContext, dir: string, opts: DumpOptions): Promise<ExitCode> {
  if (opts.raw && opts.write) {
    ctx.io.stderr('walnut: --raw reads the files as they are and cannot be combined with --write\nhint: drop --write (or --raw)\n');
    return ExitCode.Usage;
  }
  if (opts.raw) return rawDump(ctx, dir, opts);
  // The replayed view has entries, and (from replay) HardStates and snapshot records; metadata and CRC
  // records are only in the raw view, and the canonical JSON has no place for records at all.
  const recordTypes = [...(opts.filter.types ?? [])].filter((t) => (RECORD_TYPE_NAMES as readonly string[]).includes(t));
  const rawOnly = recordTypes.filter((t) => opts.json || !(REPLAYED_RECORD_TYPES as readonly string[]).includes(t));
  if (rawOnly.length > 0) {
    ctx.io.stderr(
      `walnut: --type ${rawOnly.join(',')} names records the ${opts.json ? 'canonical JSON dump' : 'replayed dump'} does not list\n`,
    );
    ctx.io.stderr(
      `hint: every record type (${RECORD_TYPE_NAMES.join(', ')}) is listed by \`walnut dump DIR --raw${opts.json ? ' --json' : ''}\`, in file order with offsets\n`,
    );
    return ExitCode.Usage;
  }
  const filter = opts.filter;
  if (opts.json) {
    const d = await canonicalDump(ctx.fs, dir, opts.snap, { write: opts.write, segmentSizeBytes: DUMP_SEGMENT_SIZE_BYTES });
    if (isEmptyFilter(filter)) {
      ctx.io.stdout(formatCanonicalDump(d));
    } else {
      // The same shape, fewer entries. The canonical dump has hashes, not data: a type filter reads once more.
      let entries = d.entries.filter((e) => inRange(filter, e.index));
      if (filter.types !== undefined) {
        const keep = await typeMatchingIndexes(ctx, dir, opts);
        entries = entries.filter((e) => keep.has(e.index));
      }
      ctx.io.stdout(formatCanonicalDump({ ...d, entries }));
    }
    if (d.error === null) return ExitCode.Ok;
    // canonicalDump turns every failure into `error`; one that is not a WalError is a bug, not a WAL problem.
    if (d.cause !== undefined && !isWalError(d.cause)) throw d.cause;
    if (d.cause) await reportWalError(ctx.io, d.cause, ctx.fs, dir);
    else ctx.io.stderr(`walnut: ${d.error}\n`);
    return ExitCode.WalError;
  }
  const progress = await dumpProgress(ctx, dir, opts.snap);
  let r;
  try {
    const fs = progress ? new ReadCountingFileSystem(ctx.fs, progress.bytes) : ctx.fs;
    r = await readWal(fs, dir, opts.snap, opts.write, { segmentSizeBytes: DUMP_SEGMENT_SIZE_BYTES });
  } finally {
    progress?.done();
  }
  const shown = isEmptyFilter(filter) ? r : { ...r, entries: r.entries.filter((e) => entryMatches(filter, e)) };
  const records = recordTypes.length > 0 ? await replayedRecords(ctx, dir, opts.snap, filter) : undefined;
  ctx.io.stdout(
    formatTextDump(shown, {
      dir,
      snap: opts.snap,
      write: opts.write,
      filter: describeFilter(filter),
      totalEntries: r.entries.length,
      records,
    }),
  );
  if (!r.error) return ExitCode.Ok;
  await reportWalError(ctx.io, r.error, ctx.fs, dir);
  return ExitCode.WalError;
}

/** The record types `--type` can ask of the replayed (non-raw) text dump. */
const REPLAYED_RECORD_TYPES = ['hardstate', 'snapshot'] as const;

/**
 * The HardState and snapshot records a read at `snap` replays (wal-core's `Wal.replay`, read mode), in
 * WAL order, that pass the filter (snapshot records by index, HardStates by commit index), one line each.
 * A WAL error ends the list quietly: the entry read has already reported it.
 */
async function replayedRecords(ctx: CommandContext, dir: string, snap: SnapPosition, filter: DumpFilter): Promise<string[]> {
  const lines: string[] = [];
  let wal: Wal;
  try {
    wal = await Wal.openForRead(ctx.fs, dir, snap);
  } catch (e) {
    if (isWalError(e)) return lines;
    throw e;
  }
  try {
    for await (const item of wal.replay()) {
      if (item.kind === 'hardState' && filter.types?.has('hardstate') && inRange(filter, item.hardState.commit)) {
        lines.push(`hardstate  ${formatHardState(item.hardState)}`);
      } else if (item.kind === 'snapshot' && filter.types?.has('snapshot') && inRange(filter, item.snapshot.index)) {
        lines.push(`snapshot   index=${item.snapshot.index} term=${item.snapshot.term} ${formatConfState(item.snapshot.confState)}`);
      }
    }
  } catch (e) {
    if (!isWalError(e)) throw e;
  } finally {
    await wal.close().catch(() => undefined);
  }
  return lines;
}

/**
 * A progress bar for the text dump of a large directory (on a terminal only), over the segments a read at
 * `snap` opens: the last one whose first index is at or below the snapshot index, and every later one.
 */
async function dumpProgress(ctx: CommandContext, dir: string, snap: SnapPosition): Promise<ReturnType<typeof readProgress>> {
  if (ctx.io.stderrIsTTY !== true) return undefined;
  let segments;
  try {
    ({ segments } = await listSegmentInfo(ctx.fs, dir));
  } catch (e) {
    if (isWalError(e)) return undefined; // the read itself reports it
    throw e;
  }
  let from = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.firstIndex <= snap.index) from = i;
  return readProgress(ctx.io, 'dump', segments.slice(from));
}

/**
 * The indexes of the entries whose type or request kind `--type` lists, from a read-mode read (after a
 * write-mode canonical dump, whose side effects and error are already done and reported, this pass only
 * classifies).
 */
async function typeMatchingIndexes(ctx: CommandContext, dir: string, opts: DumpOptions): Promise<Set<bigint>> {
  const r = await readWal(ctx.fs, dir, opts.snap, false);
  return new Set(r.entries.filter((e) => entryMatches(opts.filter, e)).map((e) => e.index));
}

/** `dump --raw`: every record of every segment, with file and offset; damaged records marked. */
async function rawDump(ctx: CommandContext, dir: string, opts: DumpOptions): Promise<ExitCode> {
  const listing = await requireSegments(ctx.fs, dir);
  const { segments } = listing;
  const progress = opts.json ? undefined : scanProgress(ctx.io, 'dump', segments);
  const out: string[] = [];
  const jsonRecords: JsonValue[] = [];
  const stops: ScanStop[] = [];
  let records = 0;
  let shown = 0;
  let damaged = 0;
  let firstDamage: WalErrorLike | undefined;
  let currentFile = '';
  const flush = () => {
    if (out.length > 0) ctx.io.stdout(out.splice(0).join('\n') + '\n');
  };
  if (!opts.json) {
    ctx.io.stdout(`WAL ${dir}  (raw: every record of ${segments.length} segment(s) in file order; damaged records marked)\n`);
    const f = describeFilter(opts.filter);
    if (f) ctx.io.stdout(`filter: ${f}\n`);
    for (const g of listing.gaps) ctx.io.stdout(`missing segment(s) between ${g.after} and ${g.next}\n`);
  }
  try {
    await scanRecords(
      ctx.fs,
      dir,
      segments,
      {
        record(r) {
          records++;
          const body = decodeRecordBody(r);
          const damage = r.damage;
          const bad = damage !== undefined || body.kind === 'undecodable';
          if (bad) {
            damaged++;
            firstDamage ??= damage;
          }
          if (!bad && !recordMatches(opts.filter, body)) return;
          shown++;
          if (opts.json) {
            jsonRecords.push(recordJson(r, body));
            return;
          }
          if (r.file !== currentFile) {
            currentFile = r.file;
            out.push(`${r.file}:`);
          }
          const mark = bad ? `DAMAGED (${damage ? damage.message.replace(/\s*\n\s*/g, ' ') : 'does not decode'})  ` : '';
          out.push(`  ${String(r.offset).padStart(9)}  ${recordTypeName(r.type).padEnd(9)}  ${mark}${describeRecordBody(body)}`);
          if (out.length >= 256) flush();
        },
        stop(s) {
          stops.push(s);
          if (opts.json) return;
          out.push(
            `  ${String(s.offset).padStart(9)}  ERROR      ${s.error.message.replace(/\s*\n\s*/g, ' ')}${s.tornTail ? ' (torn tail)' : ''}; the rest of ${s.file} is unreadable`,
          );
        },
      },
      { raw: true, onSegment: (i) => progress?.segment(i) },
    );
  } finally {
    progress?.done();
  }
  if (opts.json) {
    ctx.io.stdout(
      toJson({
        segments: segments.map((s) => ({ name: s.name, seq: s.seq, firstIndex: s.firstIndex, size: s.size })),
        missingSegments: listing.gaps.map((g) => ({ after: g.after, next: g.next })),
        records: jsonRecords,
        damagedRecords: damaged,
        errors: stops.map((s) => ({ file: s.file, offset: s.offset, code: s.error.code, message: s.error.message, tornTail: s.tornTail })),
      }) + '\n',
    );
  } else {
    flush();
    ctx.io.stdout(
      `${records} record(s) read, ${shown} shown, ${damaged} damaged, ${stops.length} unreadable segment tail(s)${listing.gaps.length ? `, ${listing.gaps.length} gap(s) in the segment sequence` : ''}\n`,
    );
  }
  if (damaged === 0 && stops.length === 0 && listing.gaps.length === 0) return ExitCode.Ok;
  const problem = firstDamage ?? stops[0]?.error;
  if (problem) await reportWalError(ctx.io, problem, ctx.fs, dir);
  else if (damaged > 0)
    ctx.io.stderr(
      `walnut: ${damaged} record(s) in ${dir} do not decode\nhint: the WAL is corrupt: restore the member from a snapshot or a peer\n`,
    );
  else
    ctx.io.stderr(
      `walnut: segments are missing from the sequence of ${dir}\nhint: restore them, or restore the member from a snapshot or a peer\n`,
    );
  if (damaged + stops.length > 1)
    ctx.io.stderr(`walnut: ${damaged} damaged record(s) and ${stops.length} unreadable segment tail(s) in all\n`);
  return ExitCode.WalError;
}
