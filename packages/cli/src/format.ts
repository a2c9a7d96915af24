/** Human-readable rendering of a WAL read, in the spirit of etcd's `etcd-dump-logs`. */
import type { Entry, HardState } from '@walnut/wal-core';
import { decodeEntryPayload, decodeMetadata } from './decode/payload.js';
import type { ReadOutcome } from './read.js';
import type { SnapPosition } from './snap.js';
import { formatSnap } from './snap.js';

/** raftpb.EntryType names. */
export function entryTypeName(type: number): string {
  switch (type) {
    case 0:
      return 'normal';
    case 1:
      return 'confchange';
    case 2:
      return 'confchangev2';
    default:
      return `type(${type})`;
  }
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function isPrintable(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return false;
  return true;
}

/**
 * A short preview of entry data: quoted text when it is printable ASCII, else the first bytes in hex.
 * `(nil)` when the field is absent on the wire, `(empty)` when present with length 0.
 */
export function previewData(data: Uint8Array | undefined, maxText = 40, maxHexBytes = 16): string {
  if (data === undefined) return '(nil)';
  if (data.length === 0) return '(empty)';
  if (isPrintable(data.subarray(0, maxText))) {
    const head = Buffer.from(data.subarray(0, maxText)).toString('latin1');
    return JSON.stringify(head) + (data.length > maxText ? '...' : '');
  }
  return toHex(data.subarray(0, maxHexBytes)) + (data.length > maxHexBytes ? '...' : '');
}

/** `term=1 vote=1 commit=5` (or `empty` for the all-zero HardState). */
export function formatHardState(hs: HardState): string {
  const s = `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
  return hs.term === 0n && hs.vote === 0n && hs.commit === 0n ? `${s} (empty)` : s;
}

function formatMetadata(meta: Uint8Array | undefined): string {
  if (meta === undefined) return '(none)';
  if (meta.length === 0) return '(empty)';
  const hex = toHex(meta);
  if (isPrintable(meta)) return `${hex}  ${JSON.stringify(Buffer.from(meta).toString('latin1'))}`;
  const etcd = decodeMetadata(meta);
  return etcd ? `${hex}  (${etcd.text})` : hex;
}

/**
 * The data column of an entry: what etcd's payload decodes to (ConfChange, InternalRaftRequest, v2
 * Request), else the short preview ({@link previewData}: quoted text or hex).
 */
export function describeEntryData(e: Entry): string {
  const d = decodeEntryPayload(e.type, e.data);
  return d.kind === 'unknown' || d.kind === 'empty' ? previewData(e.data) : d.text;
}

function entriesLines(entries: readonly Entry[]): string[] {
  const header = { term: 'term', index: 'index', type: 'type', len: 'len' };
  let tw = header.term.length;
  let iw = header.index.length;
  let yw = header.type.length;
  let lw = header.len.length;
  for (const e of entries) {
    tw = Math.max(tw, e.term.toString().length);
    iw = Math.max(iw, e.index.toString().length);
    yw = Math.max(yw, entryTypeName(e.type).length);
    lw = Math.max(lw, String(e.data?.length ?? 0).length);
  }
  const row = (t: string, i: string, y: string, l: string, d: string) =>
    `  ${t.padStart(tw)}  ${i.padStart(iw)}  ${y.padEnd(yw)}  ${l.padStart(lw)}  ${d}`.trimEnd();
  const lines = [row(header.term, header.index, header.type, header.len, 'data')];
  for (const e of entries) {
    lines.push(row(e.term.toString(), e.index.toString(), entryTypeName(e.type), String(e.data?.length ?? 0), describeEntryData(e)));
  }
  return lines;
}

/** Where and how a dump was taken, for its header line. */
export interface DumpContext {
  readonly dir: string;
  readonly snap: SnapPosition;
  readonly write: boolean;
  /** The filter applied to the entries, described (e.g. `index 5..9, type put`), if any. */
  readonly filter?: string | undefined;
  /** How many entries the read returned before filtering (when a filter is set). */
  readonly totalEntries?: number | undefined;
  /** HardState / snapshot record lines asked for with `--type` (printed before the error line). */
  readonly records?: readonly string[] | undefined;
}

/**
 * The text dump: header, metadata, hard state, one line per entry, and the error line.
 * @returns the text, ending with a newline
 */
export function formatTextDump(r: ReadOutcome, ctx: DumpContext): string {
  const out: string[] = [];
  out.push(`WAL ${ctx.dir}  (${ctx.write ? 'write' : 'read'} mode, from snapshot ${formatSnap(ctx.snap)})`);
  out.push(`metadata:   ${formatMetadata(r.metadata)}`);
  out.push(`hard state: ${formatHardState(r.hardState)}`);
  const n = r.entries.length;
  const first = r.entries[0];
  const last = r.entries[n - 1];
  const range = first && last ? ` (index ${first.index} to ${last.index})` : '';
  const note = r.error && r.partial ? ', read before the error' : '';
  const filtered = ctx.filter !== undefined ? ` shown of ${ctx.totalEntries ?? n} (filter: ${ctx.filter})` : '';
  out.push(`entries:    ${n}${filtered}${range}${note}`);
  if (n > 0) out.push(...entriesLines(r.entries));
  if (ctx.records !== undefined) {
    out.push(
      `records:    ${ctx.records.length} (in WAL order, from the segment holding snapshot ${formatSnap(ctx.snap)}; \`--raw\` adds file offsets)`,
    );
    out.push(...ctx.records.map((l) => `  ${l}`));
  }
  out.push(`error:      ${r.error ? r.error.etcdMessage : 'none'}`);
  return out.join('\n') + '\n';
}
