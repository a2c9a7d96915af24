/**
 * Decoding and rendering single walpb records for the record-level views (`dump --raw`, `stat`):
 * entries (with their payload), HardState, snapshot (with its ConfState), metadata and CRC records.
 */
import { RecordType, decodeEntry, decodeHardState, decodeSnapshot } from '@walnut/wal-core';
import type { ConfState, Entry, HardState, Snapshot } from '@walnut/wal-core';
import { decodeEntryPayload, decodeMetadata } from './decode/payload.js';
import type { DumpFilter } from './filter.js';
import { entryMatches, inRange } from './filter.js';
import { entryTypeName, formatHardState, toHex } from './format.js';
import type { JsonValue } from './json.js';
import type { ScannedRecord } from './scan.js';

/** A record's body, decoded by its walpb type. */
export type RecordBody =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardstate'; readonly hardState: HardState }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'metadata'; readonly data: Uint8Array | undefined }
  | { readonly kind: 'crc'; readonly crc: number }
  /** The type is unknown, or the data does not decode as that type. */
  | { readonly kind: 'undecodable'; readonly type: number; readonly reason: string; readonly data: Uint8Array | undefined };

/** walpb record type names as the CLI prints them (the names `--type` takes). */
export function recordTypeName(type: number): string {
  switch (type) {
    case RecordType.Metadata:
      return 'metadata';
    case RecordType.Entry:
      return 'entry';
    case RecordType.State:
      return 'hardstate';
    case RecordType.Crc:
      return 'crc';
    case RecordType.Snapshot:
      return 'snapshot';
    default:
      return `type(${type})`;
  }
}

/** Decodes a record's data by its type; never throws (a failure is an `undecodable` body). */
export function decodeRecordBody(r: ScannedRecord): RecordBody {
  const empty = new Uint8Array(0);
  try {
    switch (r.type) {
      case RecordType.Entry:
        return { kind: 'entry', entry: decodeEntry(r.data ?? empty) };
      case RecordType.State:
        return { kind: 'hardstate', hardState: decodeHardState(r.data ?? empty) };
      case RecordType.Snapshot:
        return { kind: 'snapshot', snapshot: decodeSnapshot(r.data ?? empty) };
      case RecordType.Metadata:
        return { kind: 'metadata', data: r.data };
      case RecordType.Crc:
        return { kind: 'crc', crc: r.crc };
      default:
        return { kind: 'undecodable', type: r.type, reason: `unknown record type ${r.type}`, data: r.data };
    }
  } catch (e) {
    return { kind: 'undecodable', type: r.type, reason: e instanceof Error ? e.message : String(e), data: r.data };
  }
}

/** True when the record passes `--from/--to/--type` (records without an index pass the range). */
export function recordMatches(f: DumpFilter, body: RecordBody): boolean {
  switch (body.kind) {
    case 'entry':
      return entryMatches(f, body.entry);
    case 'snapshot':
      return inRange(f, body.snapshot.index) && (f.types === undefined || f.types.has('snapshot'));
    case 'hardstate':
      // etcd-dump-logs' raw mode filters HardStates by their commit index.
      return inRange(f, body.hardState.commit) && (f.types === undefined || f.types.has('hardstate'));
    case 'metadata':
    case 'crc':
      return f.types === undefined || f.types.has(body.kind);
    case 'undecodable':
      // Damage is always shown unless a type filter asks for something specific.
      return f.types === undefined;
  }
}

const crcHex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/** `voters=[1] learners=[2]` (the non-empty lists of a ConfState). */
export function formatConfState(cs: ConfState | undefined): string {
  if (!cs) return 'conf_state=(none)';
  const parts = [`voters=[${cs.voters.join(' ')}]`];
  if (cs.learners.length) parts.push(`learners=[${cs.learners.join(' ')}]`);
  if (cs.votersOutgoing.length) parts.push(`voters_outgoing=[${cs.votersOutgoing.join(' ')}]`);
  if (cs.learnersNext.length) parts.push(`learners_next=[${cs.learnersNext.join(' ')}]`);
  if (cs.autoLeave) parts.push('auto_leave=true');
  return parts.join(' ');
}

/** One line describing the record body (after the file/offset/type columns). */
export function describeRecordBody(body: RecordBody): string {
  switch (body.kind) {
    case 'entry': {
      const e = body.entry;
      const p = decodeEntryPayload(e.type, e.data);
      return `term=${e.term} index=${e.index} ${entryTypeName(e.type)} len=${e.data?.length ?? 0}  ${p.text}`;
    }
    case 'hardstate':
      return formatHardState(body.hardState);
    case 'snapshot':
      return `index=${body.snapshot.index} term=${body.snapshot.term} ${formatConfState(body.snapshot.confState)}`;
    case 'metadata': {
      if (!body.data || body.data.length === 0) return '(empty)';
      const m = decodeMetadata(body.data);
      return m ? `${m.text}  ${toHex(body.data)}` : toHex(body.data);
    }
    case 'crc':
      return `crc=${crcHex(body.crc)}`;
    case 'undecodable':
      return `${body.reason}${body.data ? `  ${toHex(body.data.subarray(0, 32))}${body.data.length > 32 ? '...' : ''}` : ''}`;
  }
}

function confStateJson(cs: ConfState | undefined): JsonValue {
  if (!cs) return null;
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

/** The record as JSON: position, type, CRC, decoded body and damage. */
export function recordJson(r: ScannedRecord, body: RecordBody): JsonValue {
  const base = { file: r.file, offset: r.offset, frameBytes: r.frameBytes, type: recordTypeName(r.type), crc: crcHex(r.crc) };
  const damage = r.damage ? { code: r.damage.code, message: r.damage.message } : null;
  switch (body.kind) {
    case 'entry': {
      const e = body.entry;
      const p = decodeEntryPayload(e.type, e.data);
      return {
        ...base,
        entry: { index: e.index, term: e.term, type: entryTypeName(e.type), dataLen: e.data?.length ?? 0, kind: p.kind, decoded: p.json },
        damage,
      };
    }
    case 'hardstate':
      return { ...base, hardState: { term: body.hardState.term, vote: body.hardState.vote, commit: body.hardState.commit }, damage };
    case 'snapshot':
      return {
        ...base,
        snapshot: { index: body.snapshot.index, term: body.snapshot.term, confState: confStateJson(body.snapshot.confState) },
        damage,
      };
    case 'metadata':
      return { ...base, metadataHex: body.data ? toHex(body.data) : null, metadata: decodeMetadata(body.data)?.json ?? null, damage };
    case 'crc':
      return { ...base, damage };
    case 'undecodable':
      return { ...base, undecodable: body.reason, dataHex: body.data ? toHex(body.data) : null, damage };
  }
}
