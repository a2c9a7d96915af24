/**
 * Encoding and decoding of the messages the WAL stores, producing exactly the bytes etcd 3.4–3.6
 * (gogoproto, nullable=false) writes: every scalar field of Record, Entry, HardState and Snapshot is
 * always written, fields in ascending number order, `bytes` fields only when present (empty is `xx 00`).
 * Decoding accepts what etcd 3.0–3.7 write: absent fields (raft 3.7 omits Entry.Type), any field
 * order, packed or unpacked repeated fields, unknown fields.
 */
import { walpb } from '../generated/proto.js';
import type { Entry, HardState, Snapshot } from '../types.js';
import { ProtoReader, WireError, varint32Size, varint64Size, writeVarint32, writeVarint64 } from './wire.js';

/** walpb record types. */
export const RecordType = {
  /** The metadata given to `Wal.create`, first in every segment. */
  Metadata: 1,
  /** A raftpb.Entry. */
  Entry: 2,
  /** A raftpb.HardState. */
  State: 3,
  /** The running CRC carried into a new segment, first in every segment. */
  Crc: 4,
  /** A walpb.Snapshot (a snapshot's index, term and ConfState). */
  Snapshot: 5,
} as const;

/** A decoded walpb.Record. `data` is a view into the buffer it was decoded from. */
export interface WalRecord {
  /** The record type as a number (int64 on the wire; values beyond 2^53 are clamped for display via `typeRaw`). */
  type: number;
  /** The exact int64 type when it is not a small number. */
  typeRaw: bigint;
  /** The CRC-32C the record carries: the running CRC over the data records so far. */
  crc: number;
  /** The payload, `undefined` when the field is absent. */
  data: Uint8Array | undefined;
}

const U64_MAX = (1n << 64n) - 1n;

/** Validates a uint64 argument. */
export function checkUint64(name: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new RangeError(`${name} must be a bigint in [0, 2^64), got ${String(v)}`);
}

/** Decodes a walpb.Record from `buf[start, end)`. Throws {@link WireError}. */
export function decodeRecord(buf: Uint8Array, start: number, end: number): WalRecord {
  const r = new ProtoReader(buf, start, end);
  let typeRaw = 0n;
  let crc = 0;
  let data: Uint8Array | undefined;
  while (r.pos < end) {
    const [field, wt] = r.key();
    if (field === 1) {
      if (wt !== 0) throw new WireError(`proto: wrong wireType = ${wt} for field Type`, false);
      typeRaw = r.uint64();
    } else if (field === 2) {
      if (wt !== 0) throw new WireError(`proto: wrong wireType = ${wt} for field Crc`, false);
      crc = r.uint32();
    } else if (field === 3) {
      if (wt !== 2) throw new WireError(`proto: wrong wireType = ${wt} for field Data`, false);
      const [s, e] = r.delimited();
      data = buf.subarray(s, e);
    } else {
      r.skip(wt);
    }
  }
  // int64 on the wire: two's complement.
  const signed = typeRaw >= 1n << 63n ? typeRaw - (1n << 64n) : typeRaw;
  const type = signed >= 0n && signed <= 0x7fffffffn ? Number(signed) : -1;
  return { type, typeRaw: signed, crc, data };
}

/** Size of the encoded walpb.Record header (everything before the data bytes). */
export function recordHeaderSize(type: number, crc: number, dataLength: number | undefined): number {
  return 1 + varint32Size(type) + 1 + varint32Size(crc) + (dataLength === undefined ? 0 : 1 + varint32Size(dataLength));
}

/** Writes the walpb.Record fields before `data` (type, crc, data's key and length); returns the new position. */
export function writeRecordHeader(buf: Uint8Array, pos: number, type: number, crc: number, dataLength: number | undefined): number {
  buf[pos++] = 0x08;
  pos = writeVarint32(buf, pos, type);
  buf[pos++] = 0x10;
  pos = writeVarint32(buf, pos, crc);
  if (dataLength !== undefined) {
    buf[pos++] = 0x1a;
    pos = writeVarint32(buf, pos, dataLength);
  }
  return pos;
}

function checkEntryType(t: number): void {
  if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new RangeError(`entry type must be an integer in [0, 2^31), got ${t}`);
}

/** Encoded size of a raftpb.Entry (gogo: Type, Term, Index always written). */
export function entrySize(e: Entry): number {
  const d = e.data;
  return (
    1 +
    varint32Size(e.type) +
    1 +
    varint64Size(e.term) +
    1 +
    varint64Size(e.index) +
    (d === undefined ? 0 : 1 + varint32Size(d.length) + d.length)
  );
}

/** Validates an entry before it is encoded. */
export function checkEntry(e: Entry): void {
  checkUint64('entry.index', e.index);
  checkUint64('entry.term', e.term);
  checkEntryType(e.type);
  if (e.data !== undefined && !(e.data instanceof Uint8Array)) throw new TypeError('entry.data must be a Uint8Array or undefined');
}

/** Writes a raftpb.Entry at `pos`; returns the new position. */
export function writeEntry(buf: Uint8Array, pos: number, e: Entry): number {
  buf[pos++] = 0x08;
  pos = writeVarint32(buf, pos, e.type);
  buf[pos++] = 0x10;
  pos = writeVarint64(buf, pos, e.term);
  buf[pos++] = 0x18;
  pos = writeVarint64(buf, pos, e.index);
  const d = e.data;
  if (d !== undefined) {
    buf[pos++] = 0x22;
    pos = writeVarint32(buf, pos, d.length);
    buf.set(d, pos);
    pos += d.length;
  }
  return pos;
}

/** Encodes a raftpb.Entry into a new array. */
export function encodeEntry(e: Entry): Uint8Array {
  checkEntry(e);
  const out = new Uint8Array(entrySize(e));
  writeEntry(out, 0, e);
  return out;
}

/**
 * Decodes a raftpb.Entry. `copyData` copies the data out of `buf` (needed when `buf` is reused);
 * otherwise the data is a view.
 */
export function decodeEntry(buf: Uint8Array, copyData = false): Entry {
  const r = new ProtoReader(buf, 0, buf.length);
  let type = 0;
  let term = 0n;
  let index = 0n;
  let data: Uint8Array | undefined;
  while (r.pos < buf.length) {
    const [field, wt] = r.key();
    if (field === 1 && wt === 0) type = r.uint32() | 0;
    else if (field === 2 && wt === 0) term = r.uint64();
    else if (field === 3 && wt === 0) index = r.uint64();
    else if (field === 4 && wt === 2) {
      const [s, e] = r.delimited();
      data = copyData ? buf.slice(s, e) : buf.subarray(s, e);
    } else if (field <= 4) throw new WireError(`proto: wrong wireType = ${wt} for field ${field} of raftpb.Entry`, false);
    else r.skip(wt);
  }
  return data === undefined ? { index, term, type } : { index, term, type, data };
}

/** Encodes a raftpb.HardState (all three fields always written). */
export function encodeHardState(s: HardState): Uint8Array {
  checkUint64('hardState.term', s.term);
  checkUint64('hardState.vote', s.vote);
  checkUint64('hardState.commit', s.commit);
  const out = new Uint8Array(hardStateSize(s));
  writeHardState(out, 0, s);
  return out;
}

/** Encoded size of a raftpb.HardState (all three fields, always). */
export function hardStateSize(s: HardState): number {
  return 3 + varint64Size(s.term) + varint64Size(s.vote) + varint64Size(s.commit);
}

/** Writes a raftpb.HardState at `pos` (the caller validated it); returns the new position. */
export function writeHardState(buf: Uint8Array, pos: number, s: HardState): number {
  buf[pos++] = 0x08;
  pos = writeVarint64(buf, pos, s.term);
  buf[pos++] = 0x10;
  pos = writeVarint64(buf, pos, s.vote);
  buf[pos++] = 0x18;
  return writeVarint64(buf, pos, s.commit);
}

/** Decodes a raftpb.HardState. */
export function decodeHardState(buf: Uint8Array): HardState {
  const r = new ProtoReader(buf, 0, buf.length);
  let term = 0n;
  let vote = 0n;
  let commit = 0n;
  while (r.pos < buf.length) {
    const [field, wt] = r.key();
    if (field === 1 && wt === 0) term = r.uint64();
    else if (field === 2 && wt === 0) vote = r.uint64();
    else if (field === 3 && wt === 0) commit = r.uint64();
    else if (field <= 3) throw new WireError(`proto: wrong wireType = ${wt} for field ${field} of raftpb.HardState`, false);
    else r.skip(wt);
  }
  return { term, vote, commit };
}

/** protobufjs accepts any {low, high} object where it expects a Long. */
const toLong = (v: bigint) => ({ low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true }) as never;

/** Encodes a walpb.Snapshot (protobufjs, from proto/walpb.proto): index and term always, conf_state when given. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  checkUint64('snapshot.index', s.index);
  checkUint64('snapshot.term', s.term);
  const msg: walpb.ISnapshot = { index: toLong(s.index), term: toLong(s.term) };
  if (s.confState) {
    const cs = s.confState;
    for (const [name, list] of Object.entries({
      voters: cs.voters,
      learners: cs.learners,
      votersOutgoing: cs.votersOutgoing,
      learnersNext: cs.learnersNext,
    })) {
      for (const v of list) checkUint64(`confState.${name}`, v);
    }
    msg.conf_state = {
      voters: cs.voters.map(toLong),
      learners: cs.learners.map(toLong),
      voters_outgoing: cs.votersOutgoing.map(toLong),
      learners_next: cs.learnersNext.map(toLong),
      auto_leave: cs.autoLeave,
    };
  }
  return walpb.Snapshot.encode(msg).finish();
}

/** Reads one occurrence of a repeated uint64 field: unpacked (a varint) or packed (length-delimited varints). */
function readRepeatedUint64(r: ProtoReader, wt: number, out: bigint[], what: string): void {
  if (wt === 0) {
    out.push(r.uint64());
    return;
  }
  if (wt !== 2) throw new WireError(`proto: wrong wireType = ${wt} for field ${what}`, false);
  const [start, end] = r.delimited();
  const packed = new ProtoReader(r.buf, start, end);
  while (packed.pos < end) out.push(packed.uint64());
}

interface ConfStateBuilder {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** Decodes (merges) one raftpb.ConfState occurrence into `acc`: repeated fields append, the bool is overwritten. */
function mergeConfState(buf: Uint8Array, start: number, end: number, acc: ConfStateBuilder): void {
  const r = new ProtoReader(buf, start, end);
  while (r.pos < end) {
    const [field, wt] = r.key();
    if (field === 1) readRepeatedUint64(r, wt, acc.voters, 'Voters');
    else if (field === 2) readRepeatedUint64(r, wt, acc.learners, 'Learners');
    else if (field === 3) readRepeatedUint64(r, wt, acc.votersOutgoing, 'VotersOutgoing');
    else if (field === 4) readRepeatedUint64(r, wt, acc.learnersNext, 'LearnersNext');
    else if (field === 5) {
      if (wt !== 0) throw new WireError(`proto: wrong wireType = ${wt} for field AutoLeave`, false);
      acc.autoLeave = r.uint64() !== 0n;
    } else r.skip(wt);
  }
}

/**
 * Decodes a walpb.Snapshot as strictly as etcd 3.4's gogo code: a known field with the wrong wire type
 * or running past the end is an error (protobufjs would accept some of these). Throws an `Error` saying
 * what is wrong (e.g. `proto: wrong wireType = 0 for field ...`, `varint runs past the end`).
 */
export function decodeSnapshot(buf: Uint8Array): Snapshot {
  const r = new ProtoReader(buf, 0, buf.length);
  let index = 0n;
  let term = 0n;
  let confState: ConfStateBuilder | undefined;
  while (r.pos < buf.length) {
    const [field, wt] = r.key();
    if (field === 1 || field === 2) {
      if (wt !== 0) throw new WireError(`proto: wrong wireType = ${wt} for field ${field === 1 ? 'Index' : 'Term'}`, false);
      if (field === 1) index = r.uint64();
      else term = r.uint64();
    } else if (field === 3) {
      if (wt !== 2) throw new WireError(`proto: wrong wireType = ${wt} for field ConfState`, false);
      const [s, e] = r.delimited();
      // A repeated occurrence of an embedded message merges into the previous one (protobuf rule).
      confState ??= { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
      mergeConfState(buf, s, e, confState);
    } else r.skip(wt);
  }
  return confState ? { index, term, confState } : { index, term };
}
