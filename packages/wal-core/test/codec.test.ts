/**
 * The hand-written hot-path codec (src/codec/wire.ts, src/codec/messages.ts) against protobufjs's
 * compilation of the same .proto files (src/generated/proto.js), and against the byte examples of
 * etcd-wal-format.md §1.3 and §1.7.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RecordType,
  decodeEntry,
  decodeHardState,
  decodeRecord,
  decodeSnapshot,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  entrySize,
  recordHeaderSize,
  writeEntry,
  writeRecordHeader,
} from '../src/codec/messages.js';
import { ProtoReader, WireError, varint32Size, varint64Size, writeVarint32, writeVarint64 } from '../src/codec/wire.js';
import { raftpb, walpb } from '../src/generated/proto.js';
import type { Entry, HardState } from '../src/types.js';
import { bfield, concat, hex, unhex, utf8, varint, vfield } from './support/wal-bytes.js';

const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------
// protobufjs adapters (uint64 fields are Long objects there)
// ---------------------------------------------------------------------------------------------

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}
/** A Long-compatible object for protobufjs's writer. */
const toLong = (v: bigint, unsigned = true) =>
  ({ low: Number(BigInt.asUintN(64, v) & 0xffffffffn) | 0, high: Number(BigInt.asUintN(64, v) >> 32n) | 0, unsigned }) as never;
/** A Long (or a number, or the prototype default) back to an exact unsigned bigint. */
const fromLong = (l: unknown): bigint => {
  if (l === null || l === undefined) return 0n;
  if (typeof l === 'number') return BigInt.asUintN(64, BigInt(l));
  const x = l as LongLike;
  return (BigInt(x.high >>> 0) << 32n) | BigInt(x.low >>> 0);
};
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function pbEncodeEntry(e: Entry, withType = true): Uint8Array {
  const m: raftpb.IEntry = { Term: toLong(e.term), Index: toLong(e.index) };
  if (withType) m.Type = e.type as raftpb.EntryType;
  if (e.data !== undefined) m.Data = e.data;
  return raftpb.Entry.encode(m).finish();
}
function pbDecodeEntry(b: Uint8Array): Entry {
  const m = raftpb.Entry.decode(b);
  const base = { index: fromLong(m.Index), term: fromLong(m.Term), type: m.Type as number };
  return own(m, 'Data') ? { ...base, data: new Uint8Array(m.Data) } : base;
}
const pbEncodeHardState = (s: HardState) =>
  raftpb.HardState.encode({ term: toLong(s.term), vote: toLong(s.vote), commit: toLong(s.commit) }).finish();
function pbDecodeHardState(b: Uint8Array): HardState {
  const m = raftpb.HardState.decode(b);
  return { term: fromLong(m.term), vote: fromLong(m.vote), commit: fromLong(m.commit) };
}
function pbDecodeRecord(b: Uint8Array) {
  const m = walpb.Record.decode(b);
  return { typeRaw: BigInt.asIntN(64, fromLong(m.type)), crc: m.crc >>> 0, data: own(m, 'data') ? new Uint8Array(m.data) : undefined };
}
const handDecodeRecord = (b: Uint8Array) => {
  const r = decodeRecord(b, 0, b.length);
  return { typeRaw: r.typeRaw, crc: r.crc, data: r.data === undefined ? undefined : new Uint8Array(r.data) };
};
/** Normalizes a decoded entry for comparison (data copied out of any view). */
const normEntry = (e: Entry) =>
  e.data === undefined
    ? { index: e.index, term: e.term, type: e.type }
    : { index: e.index, term: e.term, type: e.type, data: new Uint8Array(e.data) };

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** uint64 values, biased to the edges (0, 2^7, 2^32, 2^53, 2^63, 2^64-1 ...). */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.constantFrom(
    0n,
    1n,
    127n,
    128n,
    16383n,
    16384n,
    2n ** 31n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 63n,
    U64_MAX - 1n,
    U64_MAX,
  ),
  fc.bigInt({ min: 0n, max: 1000n }),
);
const entryType = fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0x7fffffff }));
const payload = fc.oneof(fc.constant(undefined), fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 }));
const entryArb: fc.Arbitrary<Entry> = fc
  .record({ index: u64, term: u64, type: entryType, data: payload })
  .map((e) => (e.data === undefined ? { index: e.index, term: e.term, type: e.type } : e));
const hardStateArb: fc.Arbitrary<HardState> = fc.record({ term: u64, vote: u64, commit: u64 });

/** A varint of `v`, optionally over-long (non-canonical but valid: ≤ 10 bytes, Go and protobufjs accept it). */
function overlong(v: bigint, extra: number): Uint8Array {
  const c = varint(v);
  if (extra === 0 || c.length + extra > 10) return c;
  const out = new Uint8Array(c.length + extra);
  out.set(c);
  out[c.length - 1]! |= 0x80;
  for (let i = c.length; i < out.length - 1; i++) out[i] = 0x80;
  out[out.length - 1] = 0;
  return out;
}

type FieldKind = 'varint' | 'bytes';
/** Structure-aware random message: a sequence of known fields (right wire type) and unknown fields. */
function messageArb(known: Record<number, FieldKind>) {
  const knownNums = Object.keys(known).map(Number);
  const knownField = fc
    .tuple(fc.constantFrom(...knownNums), u64, fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 3 }))
    .map(([num, v, bytes, extra]) =>
      known[num] === 'varint'
        ? concat(varint(num << 3), overlong(v, extra))
        : concat(varint((num << 3) | 2), overlong(BigInt(bytes.length), extra), bytes),
    );
  const unknownField = fc
    .tuple(
      fc.integer({ min: 1, max: (1 << 29) - 1 }).filter((n) => !(n in known)),
      fc.constantFrom(0, 1, 2, 5),
      u64,
      fc.uint8Array({ maxLength: 20 }),
    )
    .map(([num, wt, v, bytes]) => {
      const key = varint((num << 3) | wt);
      if (wt === 0) return concat(key, varint(v));
      if (wt === 1) return concat(key, bytes.length >= 8 ? bytes.subarray(0, 8) : concat(bytes, new Uint8Array(8 - bytes.length)));
      if (wt === 5) return concat(key, bytes.length >= 4 ? bytes.subarray(0, 4) : concat(bytes, new Uint8Array(4 - bytes.length)));
      return concat(key, varint(bytes.length), bytes);
    });
  return fc
    .array(fc.oneof({ weight: 4, arbitrary: knownField }, { weight: 1, arbitrary: unknownField }), { maxLength: 8 })
    .map((fs) => concat(...fs));
}

// ---------------------------------------------------------------------------------------------
// A scanner that tells whether bytes contain one of protobufjs's known leniencies, where its decoder
// accepts what Go's (gogo) decoder — and wal-core's hand decoder, which follows Go — rejects.
// ---------------------------------------------------------------------------------------------

type Scalar = 'u64' | 'u32' | 'bytes';
/**
 * protobufjs (7.x Reader) differs from Go/gogo, and so from the hand codec, in these cases only:
 * - it does not check the wire type of a known field (it reads the field's declared type);
 * - it skips field number 0 and groups (wire type 3) instead of failing;
 * - a uint32-read varint (keys, lengths, enum, uint32) of 5+ bytes: it skips 5 more bytes blindly;
 * - a uint64 varint that starts within 4 bytes of the end and does not end before it: it returns what
 *   it read (a truncated varint at the end of a message is accepted);
 * - an unknown varint field longer than 10 bytes is skipped.
 * Returns true if `b` contains any of them (then the two decoders may legitimately disagree).
 */
function hasProtobufjsLeniency(b: Uint8Array, schema: Record<number, Scalar>): boolean {
  let pos = 0;
  const len = b.length;
  /** Reads a varint Go-style (≤ 10 bytes); returns [value, bytes] or null if truncated / too long. */
  const read = (): [bigint, number] | null => {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= len) return null;
      const x = b[pos++]!;
      v |= BigInt(x & 0x7f) << BigInt(7 * i);
      if (x < 0x80) return [v, i + 1];
    }
    return null;
  };
  const u32 = (): bigint | 'stop' | 'lenient' => {
    const start = pos;
    const r = read();
    if (!r) return pos - start >= 5 ? 'lenient' : 'stop';
    return r[1] >= 5 ? 'lenient' : r[0];
  };
  while (pos < len) {
    const key = u32();
    if (key === 'lenient') return true;
    if (key === 'stop') return false;
    const field = Number((key & 0xffffffffn) >> 3n);
    const wt = Number(key & 7n);
    if (field === 0) return true;
    const kind = schema[field];
    if (kind !== undefined) {
      if ((kind === 'bytes') !== (wt === 2) || (kind !== 'bytes' && wt !== 0)) return true;
      if (kind === 'u64') {
        const start = pos;
        const r = read();
        if (!r) return len - start <= 4;
        continue;
      }
      const v = u32();
      if (v === 'lenient') return true;
      if (v === 'stop') return false;
      if (kind === 'bytes') {
        if (pos + Number(v) > len) return false;
        pos += Number(v);
      }
      continue;
    }
    if (wt === 0) {
      const start = pos;
      if (!read()) return pos - start >= 10;
    } else if (wt === 1 || wt === 5) {
      if (pos + (wt === 1 ? 8 : 4) > len) return false;
      pos += wt === 1 ? 8 : 4;
    } else if (wt === 2) {
      const v = u32();
      if (v === 'lenient') return true;
      if (v === 'stop') return false;
      if (pos + Number(v) > len) return false;
      pos += Number(v);
    } else if (wt === 3) return true;
    else return false;
  }
  return false;
}

const ENTRY_SCHEMA: Record<number, Scalar> = { 1: 'u32', 2: 'u64', 3: 'u64', 4: 'bytes' };
const HARD_STATE_SCHEMA: Record<number, Scalar> = { 1: 'u64', 2: 'u64', 3: 'u64' };
const RECORD_SCHEMA: Record<number, Scalar> = { 1: 'u64', 2: 'u32', 3: 'bytes' };

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Both throw, or both succeed with equal values. The hand decoder throws only WireError. */
function expectAgreement<T>(hand: Outcome<T>, pb: Outcome<T>, input: Uint8Array): void {
  if (!hand.ok) expect(hand.error, `hand decoder threw a non-WireError for ${hex(input)}`).toBeInstanceOf(WireError);
  expect(pb.ok, `hand decoder ${hand.ok ? 'accepted' : 'rejected'} ${hex(input)}, protobufjs ${pb.ok ? 'accepted' : 'rejected'} it`).toBe(
    hand.ok,
  );
  if (hand.ok && pb.ok) expect(hand.value).toEqual(pb.value);
}

// ---------------------------------------------------------------------------------------------
// Byte examples from the format document
// ---------------------------------------------------------------------------------------------

describe('byte examples of etcd-wal-format.md', () => {
  const x = utf8('x');

  it('Entry{Type 0, Term 1, Index 1, Data "x"} is 08 00 10 01 18 01 22 01 78 (gogo shape), as protobufjs writes it', () => {
    const e: Entry = { index: 1n, term: 1n, type: 0, data: x };
    expect(hex(encodeEntry(e))).toBe('080010011801220178');
    expect(hex(pbEncodeEntry(e))).toBe('080010011801220178');
    expect(entrySize(e)).toBe(9);
    expect(normEntry(decodeEntry(unhex('080010011801220178')))).toEqual(e);
  });

  it("raft 3.7's 10 01 18 01 22 01 78 (Type absent) decodes to the same entry, type 0", () => {
    const b = unhex('10011801220178');
    expect(normEntry(decodeEntry(b))).toEqual({ index: 1n, term: 1n, type: 0, data: x });
    expect(pbDecodeEntry(b)).toEqual({ index: 1n, term: 1n, type: 0, data: x });
    expect(hex(pbEncodeEntry({ index: 1n, term: 1n, type: 0, data: x }, false))).toBe('10011801220178');
  });

  it('HardState{term 1, vote 3, commit 5} is 08 01 10 03 18 05', () => {
    const s = { term: 1n, vote: 3n, commit: 5n };
    expect(hex(encodeHardState(s))).toBe('080110031805');
    expect(hex(pbEncodeHardState(s))).toBe('080110031805');
    expect(decodeHardState(unhex('080110031805'))).toEqual(s);
  });

  it('HardState{0,0,0} still writes all three fields (gogo nullable=false)', () => {
    expect(hex(encodeHardState({ term: 0n, vote: 0n, commit: 0n }))).toBe('080010001800');
  });

  it('walpb.Snapshot{index 2, term 1, conf_state{voters [0x00ffca74]}} is the 13 bytes 08 02 10 01 1a 07 08 f4 94 ff 07 28 00', () => {
    const snap = {
      index: 2n,
      term: 1n,
      confState: { voters: [0xffca74n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    };
    const b = encodeSnapshot(snap);
    expect(hex(b)).toBe('080210011a0708f494ff072800');
    expect(b.length).toBe(13);
    expect(decodeSnapshot(b)).toEqual(snap);
  });

  it('Snapshot{0,0} without conf_state is 08 00 10 00', () => {
    expect(hex(encodeSnapshot({ index: 0n, term: 0n }))).toBe('08001000');
    expect(decodeSnapshot(unhex('08001000'))).toEqual({ index: 0n, term: 0n });
  });

  it("TestNew.wal's 72 bytes: CRC{0}, Metadata{somedata}, Snapshot{0,0}, written with the hot-path record writer", async () => {
    const golden = unhex(`
      0400000000000084 08041000 00000000
      1200000000000086 0801 1085d4fda007 1a08736f6d6564617461 000000000000
      0e00000000000082 0805 1080db81c101 1a0408001000 0000`);
    expect(golden.length).toBe(72);
    // Record by record with writeRecordHeader (the frame layout is covered in frame.test.ts).
    const { writeLengthWord, padBytes } = await import('../src/codec/frame.js');
    const out = new Uint8Array(72);
    let at = 0;
    const put = (type: number, crc: number, data: Uint8Array | undefined) => {
      const n = recordHeaderSize(type, crc, data?.length) + (data?.length ?? 0);
      writeLengthWord(out, at, n);
      let p = writeRecordHeader(out, at + 8, type, crc, data?.length);
      if (data) {
        out.set(data, p);
        p += data.length;
      }
      expect(p).toBe(at + 8 + n);
      at += 8 + n + padBytes(n);
    };
    put(RecordType.Crc, 0, undefined);
    put(RecordType.Metadata, 0x741f6a05, utf8('somedata'));
    put(RecordType.Snapshot, 0x18206d80, unhex('08001000'));
    expect(at).toBe(72);
    expect(hex(out)).toBe(hex(golden));
    // And the records decode back.
    expect(decodeRecord(golden, 8, 12)).toMatchObject({ type: 4, crc: 0, data: undefined });
    const md = decodeRecord(golden, 0x18, 0x18 + 18);
    expect(md).toMatchObject({ type: 1, crc: 0x741f6a05 });
    expect(hex(md.data!)).toBe(hex(utf8('somedata')));
    const sn = decodeRecord(golden, 0x38, 0x38 + 14);
    expect(sn).toMatchObject({ type: 5, crc: 0x18206d80 });
    expect(hex(sn.data!)).toBe('08001000');
    // protobufjs writes the same record bytes.
    expect(hex(walpb.Record.encode({ type: toLong(1n, false), crc: 0x741f6a05, data: utf8('somedata') }).finish())).toBe(
      hex(golden.subarray(0x18, 0x18 + 18)),
    );
  });

  it("Wal.create(dir, 'somedata') writes TestNew.wal's 72 bytes, then preallocated zeros", async () => {
    const { Wal } = await import('../src/wal.js');
    const { MapFileSystem } = await import('./support/map-file-system.js');
    const fs = new MapFileSystem();
    const w = await Wal.create(fs, '/wal', utf8('somedata'), { segmentSizeBytes: 4096 });
    await w.close();
    const seg = fs.getFile('/wal/0000000000000000-0000000000000000.wal')!;
    expect(seg.length).toBe(4096);
    expect(hex(seg.subarray(0, 72))).toBe(
      '0400000000000084080410000000000012000000000000860801' +
        '1085d4fda0071a08736f6d65646174610000000000000e00000000000082080510' +
        '80db81c1011a04080010000000',
    );
    expect(seg.subarray(72).every((b) => b === 0)).toBe(true);
  });

  it("TestLastRecordLengthExceedFileEnd's entry record: 08 02 10 ba 8b dc 85 0f 1a 10 | entry(index 1, 'waldata1')", () => {
    const entry = encodeEntry({ index: 1n, term: 0n, type: 0, data: utf8('waldata1') });
    expect(hex(entry)).toBe('08001000180122087761' + '6c6461746131');
    const header = new Uint8Array(recordHeaderSize(2, 0xf0b705ba, entry.length));
    writeRecordHeader(header, 0, 2, 0xf0b705ba, entry.length);
    expect(hex(header)).toBe('080210ba8bdc850f1a10');
  });
});

// ---------------------------------------------------------------------------------------------
// Field-level rules
// ---------------------------------------------------------------------------------------------

describe('field rules', () => {
  it('absent vs empty data: Entry', () => {
    const absent = encodeEntry({ index: 3n, term: 2n, type: 0 });
    const empty = encodeEntry({ index: 3n, term: 2n, type: 0, data: new Uint8Array(0) });
    expect(hex(absent)).toBe('080010021803');
    expect(hex(empty)).toBe('0800100218032200');
    expect(hex(pbEncodeEntry({ index: 3n, term: 2n, type: 0 }))).toBe(hex(absent));
    expect(hex(pbEncodeEntry({ index: 3n, term: 2n, type: 0, data: new Uint8Array(0) }))).toBe(hex(empty));
    expect(decodeEntry(absent).data).toBeUndefined();
    expect('data' in decodeEntry(absent)).toBe(false);
    expect(decodeEntry(empty).data).toEqual(new Uint8Array(0));
  });

  it('absent vs empty data: Record', () => {
    const absent = new Uint8Array(recordHeaderSize(1, 0, undefined));
    writeRecordHeader(absent, 0, 1, 0, undefined);
    const empty = new Uint8Array(recordHeaderSize(1, 0, 0));
    writeRecordHeader(empty, 0, 1, 0, 0);
    expect(hex(absent)).toBe('08011000');
    expect(hex(empty)).toBe('080110001a00');
    expect(decodeRecord(absent, 0, absent.length).data).toBeUndefined();
    expect(decodeRecord(empty, 0, empty.length).data).toEqual(new Uint8Array(0));
    expect(pbDecodeRecord(absent).data).toBeUndefined();
    expect(pbDecodeRecord(empty).data).toEqual(new Uint8Array(0));
  });

  it('ConfState voters: unpacked (what etcd writes) and packed (what a reader must accept) decode alike', () => {
    const voters = [1n, 0xffca74n, U64_MAX];
    const cs = (packed: boolean) =>
      packed
        ? concat(bfield(1, concat(...voters.map((v) => varint(v)))), bfield(2, concat(varint(7n), varint(8n))), vfield(5, 1))
        : concat(...voters.map((v) => vfield(1, v)), vfield(2, 7n), vfield(2, 8n), vfield(5, 1));
    const expected = {
      index: 9n,
      term: 4n,
      confState: { voters, learners: [7n, 8n], votersOutgoing: [], learnersNext: [], autoLeave: true },
    };
    for (const packed of [false, true]) {
      const b = concat(vfield(1, 9n), vfield(2, 4n), bfield(3, cs(packed)));
      expect(decodeSnapshot(b), `packed=${packed}`).toEqual(expected);
    }
    // Mixed: some voters packed, some not, in one message.
    const mixed = concat(
      vfield(1, 9n),
      vfield(2, 4n),
      bfield(3, concat(vfield(1, 1n), bfield(1, concat(varint(0xffca74n), varint(U64_MAX))), vfield(2, 7n), vfield(2, 8n), vfield(5, 1))),
    );
    expect(decodeSnapshot(mixed)).toEqual(expected);
    // The writer emits unpacked (proto2 default), auto_leave always.
    expect(hex(encodeSnapshot(expected))).toBe(hex(concat(vfield(1, 9n), vfield(2, 4n), bfield(3, cs(false)))));
  });

  it('unknown fields of every wire type are skipped, anywhere in the message', () => {
    const unknown = [
      vfield(5, 12345n), // varint
      concat(varint((6 << 3) | 1), new Uint8Array(8).fill(0xff)), // fixed64
      bfield(7, utf8('ignored')), // bytes
      concat(varint((8 << 3) | 5), new Uint8Array(4).fill(0xee)), // fixed32
      vfield(536870911, U64_MAX), // the largest field number
    ];
    const parts = [vfield(1, 2), vfield(2, 7n), vfield(3, 9n), bfield(4, utf8('d'))];
    for (let at = 0; at <= parts.length; at++) {
      for (const u of unknown) {
        const b = concat(...parts.slice(0, at), u, ...parts.slice(at));
        const want = { index: 9n, term: 7n, type: 2, data: utf8('d') };
        expect(normEntry(decodeEntry(b)), hex(b)).toEqual(want);
        expect(pbDecodeEntry(b)).toEqual(want);
      }
    }
    const hs = concat(vfield(9, 1n), vfield(1, 5n), bfield(4, utf8('x')), vfield(2, 6n), vfield(3, 7n), vfield(100, 1n));
    expect(decodeHardState(hs)).toEqual({ term: 5n, vote: 6n, commit: 7n });
    const rec = concat(bfield(15, utf8('future')), vfield(1, 2n), vfield(2, 99n), bfield(3, utf8('d')), vfield(4, 1n));
    expect(handDecodeRecord(rec)).toEqual({ typeRaw: 2n, crc: 99, data: utf8('d') });
    expect(pbDecodeRecord(rec)).toEqual(handDecodeRecord(rec));
  });

  it('fields in any order', () => {
    const fields = [vfield(1, 1), vfield(2, 5n), vfield(3, 6n), bfield(4, utf8('ab'))];
    const perms = (xs: Uint8Array[]): Uint8Array[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const p of perms(fields)) {
      const b = concat(...p);
      expect(normEntry(decodeEntry(b))).toEqual({ index: 6n, term: 5n, type: 1, data: utf8('ab') });
      expect(pbDecodeEntry(b)).toEqual({ index: 6n, term: 5n, type: 1, data: utf8('ab') });
    }
    const hs = concat(vfield(3, 3n), vfield(1, 1n), vfield(2, 2n));
    expect(decodeHardState(hs)).toEqual({ term: 1n, vote: 2n, commit: 3n });
    const rec = concat(bfield(3, utf8('z')), vfield(2, 77n), vfield(1, 3n));
    expect(handDecodeRecord(rec)).toEqual({ typeRaw: 3n, crc: 77, data: utf8('z') });
  });

  it('a repeated non-repeated field: the last value wins', () => {
    const b = concat(
      vfield(2, 1n),
      vfield(3, 1n),
      bfield(4, utf8('first')),
      vfield(2, 9n),
      vfield(1, 1),
      vfield(1, 0),
      bfield(4, utf8('last')),
      vfield(3, 8n),
    );
    expect(normEntry(decodeEntry(b))).toEqual({ index: 8n, term: 9n, type: 0, data: utf8('last') });
    expect(pbDecodeEntry(b)).toEqual(normEntry(decodeEntry(b)));
    const hs = concat(vfield(1, 1n), vfield(1, 2n), vfield(2, 3n), vfield(3, 4n), vfield(2, 5n));
    expect(decodeHardState(hs)).toEqual({ term: 2n, vote: 5n, commit: 4n });
    const rec = concat(vfield(1, 1n), vfield(2, 1n), bfield(3, utf8('a')), vfield(1, 2n), vfield(2, 2n), bfield(3, utf8('b')));
    expect(handDecodeRecord(rec)).toEqual({ typeRaw: 2n, crc: 2, data: utf8('b') });
    expect(pbDecodeRecord(rec)).toEqual(handDecodeRecord(rec));
  });

  it('uint64 up to 2^64-1 round-trips exactly (term, index, vote, commit)', () => {
    for (const v of [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, U64_MAX - 1n, U64_MAX]) {
      const e: Entry = { index: v, term: U64_MAX - v, type: 0, data: utf8('v') };
      const b = encodeEntry(e);
      expect(hex(b)).toBe(hex(pbEncodeEntry(e)));
      expect(normEntry(decodeEntry(b))).toEqual(e);
      expect(pbDecodeEntry(b)).toEqual(e);
      const s = { term: v, vote: v, commit: U64_MAX - v };
      expect(hex(encodeHardState(s))).toBe(hex(pbEncodeHardState(s)));
      expect(decodeHardState(encodeHardState(s))).toEqual(s);
    }
    expect(hex(encodeHardState({ term: U64_MAX, vote: 0n, commit: 0n }))).toBe('08ffffffffffffffffff0110001800');
  });

  it('values outside uint64 / the entry type range are refused by the encoders (RangeError)', () => {
    expect(() => encodeEntry({ index: -1n, term: 0n, type: 0 })).toThrow(RangeError);
    expect(() => encodeEntry({ index: U64_MAX + 1n, term: 0n, type: 0 })).toThrow(RangeError);
    expect(() => encodeEntry({ index: 1n, term: 0n, type: -1 })).toThrow(RangeError);
    expect(() => encodeEntry({ index: 1n, term: 0n, type: 1.5 })).toThrow(RangeError);
    expect(() => encodeHardState({ term: 0n, vote: U64_MAX + 1n, commit: 0n })).toThrow(RangeError);
  });

  it("Record.type is int64: negative and huge types decode as two's complement, like protobufjs", () => {
    for (const t of [0n, 4n, 0xabcdn, 2n ** 31n, 2n ** 62n, -1n, -(2n ** 63n)]) {
      const b = concat(vfield(1, t), vfield(2, 5n));
      const r = decodeRecord(b, 0, b.length);
      expect(r.typeRaw).toBe(t);
      expect(pbDecodeRecord(b).typeRaw).toBe(t);
      expect(r.type).toBe(t >= 0n && t <= 0x7fffffffn ? Number(t) : -1);
    }
  });

  it('Record.crc is a uint32 varint (not fixed32)', () => {
    const header = new Uint8Array(16);
    const end = writeRecordHeader(header, 0, 2, 0xffffffff, undefined);
    expect(hex(header.subarray(0, end))).toBe('080210ffffffff0f');
    expect(decodeRecord(header, 0, end).crc).toBe(0xffffffff);
  });

  it('decoders reject what Go rejects: wrong wire type of a known field, field number 0, truncation', () => {
    for (const bad of ['0a0101', '00', '0880', '2205616263', '1a00', '0b']) {
      expect(() => decodeEntry(unhex(bad)), bad).toThrow(WireError);
    }
    expect(() => decodeHardState(unhex('0a00'))).toThrow(WireError);
    expect(() => decodeHardState(unhex('08ffffffffffffffffffff01'))).toThrow(WireError); // 11-byte varint
    const trunc = unhex('08021005 1a05 6162');
    expect(() => decodeRecord(trunc, 0, trunc.length)).toThrow(WireError);
    try {
      decodeRecord(trunc, 0, trunc.length);
    } catch (e) {
      expect((e as WireError).truncated).toBe(true);
    }
  });

  it('decodeRecord honours [start, end) and returns data as a view', () => {
    const rec = concat(vfield(1, 2n), vfield(2, 3n), bfield(3, utf8('abc')));
    const buf = concat(utf8('junk'), rec, utf8('more junk'));
    const r = decodeRecord(buf, 4, 4 + rec.length);
    expect(r).toMatchObject({ type: 2, crc: 3 });
    expect(r.data!.buffer).toBe(buf.buffer);
    expect(hex(r.data!)).toBe(hex(utf8('abc')));
  });

  it('decodeEntry copies data only when asked', () => {
    const b = encodeEntry({ index: 1n, term: 1n, type: 0, data: utf8('abc') });
    expect(decodeEntry(b).data!.buffer).toBe(b.buffer);
    expect(decodeEntry(b, true).data!.buffer).not.toBe(b.buffer);
  });
});

// ---------------------------------------------------------------------------------------------
// Varints
// ---------------------------------------------------------------------------------------------

describe('varint writers and readers', () => {
  const edges: bigint[] = [];
  for (let k = 0; k <= 64; k++) {
    const p = 1n << BigInt(k);
    for (const v of [p - 1n, p, p + 1n]) if (v >= 0n && v <= U64_MAX) edges.push(v);
  }

  it('writeVarint64 / varint64Size agree with protobufjs and with the canonical encoding at every power of two ±1', () => {
    for (const v of edges) {
      const buf = new Uint8Array(12);
      const end = writeVarint64(buf, 1, v);
      const pb = walpb.Snapshot.encode({ index: toLong(v) })
        .finish()
        .subarray(1);
      expect(hex(buf.subarray(1, end)), String(v)).toBe(hex(varint(v)));
      expect(hex(buf.subarray(1, end))).toBe(hex(pb));
      expect(varint64Size(v)).toBe(end - 1);
      const r = new ProtoReader(buf, 1, end);
      expect(r.uint64()).toBe(v);
      expect(r.pos).toBe(end);
    }
  });

  it('writeVarint32 / varint32Size / ProtoReader.uint32 for uint32 values', () => {
    for (const v of edges.filter((x) => x <= 0xffffffffn).map(Number)) {
      const buf = new Uint8Array(8);
      const end = writeVarint32(buf, 0, v);
      expect(hex(buf.subarray(0, end))).toBe(hex(varint(v)));
      expect(varint32Size(v)).toBe(end);
      expect(new ProtoReader(buf, 0, end).uint32()).toBe(v);
    }
  });

  it('property: varint round trip for any uint64 and any uint32', () => {
    fc.assert(
      fc.property(u64, fc.integer({ min: 0, max: 0xffffffff }), (v, w) => {
        const buf = new Uint8Array(10);
        const e = writeVarint64(buf, 0, v);
        expect(e).toBe(varint64Size(v));
        expect(new ProtoReader(buf, 0, e).uint64()).toBe(v);
        const e2 = writeVarint32(buf, 0, w);
        expect(e2).toBe(varint32Size(w));
        expect(new ProtoReader(buf, 0, e2).uint32()).toBe(w);
      }),
      { numRuns: 500 },
    );
  });

  it('over-long (non-canonical) varints decode; an 11th byte is an error; bits past 64 are dropped as Go does', () => {
    const read64 = (s: string) => new ProtoReader(unhex(s), 0, unhex(s).length).uint64();
    expect(read64('8000')).toBe(0n);
    expect(read64('ff808080808080808000')).toBe(127n);
    expect(read64('ffffffffffffffffff01')).toBe(U64_MAX);
    expect(read64('ffffffffffffffffff7f')).toBe(U64_MAX); // 10th byte > 1: high bits dropped (gogo)
    expect(() => read64('ffffffffffffffffffff01')).toThrow(WireError);
    expect(() => read64('ff')).toThrow(WireError);
    const read32 = (s: string) => new ProtoReader(unhex(s), 0, unhex(s).length).uint32();
    expect(read32('ffffffff0f')).toBe(0xffffffff);
    expect(read32('ffffffffffffffffff01')).toBe(0xffffffff); // int32 -1 as Go writes it: low 32 bits
    expect(read32('8080808010')).toBe(0); // bit 32: not in a uint32
    expect(() => read32('ffffffffffffffffffff01')).toThrow(WireError);
  });

  it('ProtoReader.delimited refuses a length past the end without allocating', () => {
    const b = concat(varint(U64_MAX), utf8('abc'));
    expect(() => new ProtoReader(b, 0, b.length).delimited()).toThrow(WireError);
    const c = concat(varint(2n ** 53n + 1n), utf8('abc'));
    expect(() => new ProtoReader(c, 0, c.length).delimited()).toThrow(WireError);
  });

  it('ProtoReader.delimited: the small-length fast path and the BigInt path agree on every varint length', () => {
    // Lengths around each varint byte boundary; 2^28 is the first that takes five bytes (the slow path).
    const lengths = [0, 1, 127, 128, 300, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 28 + 5];
    for (const n of lengths) {
      const prefix = varint(BigInt(n));
      // A reader whose end allows exactly n bytes after the prefix (the bytes themselves are not read).
      const buf = new Uint8Array(1 + prefix.length);
      buf.set(prefix, 1);
      const r = new ProtoReader(buf, 1, 1 + prefix.length + n);
      expect(r.delimited()).toEqual([1 + prefix.length, 1 + prefix.length + n]);
      expect(r.pos).toBe(1 + prefix.length + n);
      // One byte short: refused, whichever path read the length.
      expect(() => new ProtoReader(buf, 1, prefix.length + n).delimited()).toThrow(WireError);
    }
    // Non-minimal encodings (Go accepts them): 0 as 80 00, 1 as 81 80 80 00.
    expect(new ProtoReader(unhex('8000'), 0, 2).delimited()).toEqual([2, 2]);
    expect(new ProtoReader(unhex('81808000ff'), 0, 5).delimited()).toEqual([4, 5]);
    // A length varint cut off by the end is a truncation, on either path.
    for (const s of ['80', '808080', '8080808080']) {
      const b = unhex(s);
      expect(() => new ProtoReader(b, 0, b.length).delimited()).toThrow(expect.objectContaining({ truncated: true }));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: hand codec vs protobufjs
// ---------------------------------------------------------------------------------------------

describe('properties: hand codec == protobufjs', () => {
  it('random entries: hand encode == protobufjs encode (every field set), and both decode to the entry', () => {
    fc.assert(
      fc.property(entryArb, fc.nat({ max: 16 }), (e, at) => {
        const hand = encodeEntry(e);
        expect(hex(hand)).toBe(hex(pbEncodeEntry(e)));
        expect(hand.length).toBe(entrySize(e));
        // writeEntry at an offset in a larger buffer writes the same bytes.
        const buf = new Uint8Array(at + hand.length + 3).fill(0xaa);
        expect(writeEntry(buf, at, e)).toBe(at + hand.length);
        expect(hex(buf.subarray(at, at + hand.length))).toBe(hex(hand));
        expect(buf[at + hand.length]).toBe(0xaa);
        expect(normEntry(decodeEntry(hand))).toEqual(normEntry(e));
        expect(pbDecodeEntry(hand)).toEqual(normEntry(e));
      }),
      { numRuns: 1000 },
    );
  });

  it('random hard states: hand encode == protobufjs encode', () => {
    fc.assert(
      fc.property(hardStateArb, (s) => {
        const b = encodeHardState(s);
        expect(hex(b)).toBe(hex(pbEncodeHardState(s)));
        expect(decodeHardState(b)).toEqual(s);
        expect(pbDecodeHardState(b)).toEqual(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('random records: writeRecordHeader + data == protobufjs walpb.Record encode', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 0xffffffff }), payload, (type, crc, data) => {
        const n = recordHeaderSize(type, crc, data?.length) + (data?.length ?? 0);
        const buf = new Uint8Array(n);
        let p = writeRecordHeader(buf, 0, type, crc, data?.length);
        if (data) {
          buf.set(data, p);
          p += data.length;
        }
        expect(p).toBe(n);
        const m: walpb.IRecord = { type: toLong(BigInt(type), false), crc };
        if (data !== undefined) m.data = data;
        expect(hex(buf)).toBe(hex(walpb.Record.encode(m).finish()));
        expect(handDecodeRecord(buf)).toEqual({ typeRaw: BigInt(type), crc, data });
        expect(pbDecodeRecord(buf)).toEqual({ typeRaw: BigInt(type), crc, data });
      }),
      { numRuns: 1000 },
    );
  });

  it('random snapshots: encodeSnapshot round-trips through decodeSnapshot', () => {
    const list = fc.array(u64, { maxLength: 5 });
    fc.assert(
      fc.property(
        u64,
        u64,
        fc.option(fc.record({ voters: list, learners: list, votersOutgoing: list, learnersNext: list, autoLeave: fc.boolean() }), {
          nil: undefined,
        }),
        (index, term, confState) => {
          const snap = confState ? { index, term, confState } : { index, term };
          expect(decodeSnapshot(encodeSnapshot(snap))).toEqual(snap);
        },
      ),
      { numRuns: 300 },
    );
  });

  const cases: Array<[string, Record<number, Scalar>, Record<number, FieldKind>, (b: Uint8Array) => unknown, (b: Uint8Array) => unknown]> =
    [
      [
        'raftpb.Entry',
        ENTRY_SCHEMA,
        { 1: 'varint', 2: 'varint', 3: 'varint', 4: 'bytes' },
        (b) => normEntry(decodeEntry(b)),
        pbDecodeEntry,
      ],
      ['raftpb.HardState', HARD_STATE_SCHEMA, { 1: 'varint', 2: 'varint', 3: 'varint' }, decodeHardState, pbDecodeHardState],
      ['walpb.Record', RECORD_SCHEMA, { 1: 'varint', 2: 'varint', 3: 'bytes' }, handDecodeRecord, pbDecodeRecord],
    ];

  for (const [name, schema, known, hand, pb] of cases) {
    it(`${name}: structure-aware random messages (any order, repeats, over-long varints, unknown fields, truncation) decode alike`, () => {
      let compared = 0;
      fc.assert(
        fc.property(messageArb(known), fc.option(fc.nat(), { nil: undefined }), (msg, cut) => {
          const b = cut === undefined ? msg : msg.subarray(0, cut % (msg.length + 1));
          if (hasProtobufjsLeniency(b, schema)) return;
          compared++;
          expectAgreement(
            attempt(() => hand(b)),
            attempt(() => pb(b)),
            b,
          );
        }),
        { numRuns: 2000 },
      );
      expect(compared).toBeGreaterThan(700);
    });

    it(`${name}: random bytes — both decoders throw, or both return the same values (outside protobufjs's known leniencies)`, () => {
      let compared = 0;
      let succeeded = 0;
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
          const h = attempt(() => hand(b));
          if (!h.ok) expect(h.error).toBeInstanceOf(WireError);
          if (hasProtobufjsLeniency(b, schema)) return;
          compared++;
          if (h.ok) succeeded++;
          expectAgreement(
            h,
            attempt(() => pb(b)),
            b,
          );
        }),
        { numRuns: 3000 },
      );
      expect(compared).toBeGreaterThan(300);
      expect(succeeded).toBeGreaterThan(10);
    });
  }

  it('the leniency scanner is not vacuous: each leniency it names is real (protobufjs accepts, the hand codec rejects)', () => {
    const examples = [
      '0a0101', // wrong wire type for a known field
      '0008', // field number 0, then a field
      '08808080', // truncated uint64 varint at the end of the message
      '08ffffffff', // 4 continuation bytes at the end
      '1b0c', // wire type 3 for a known field
    ];
    for (const s of examples) {
      const b = unhex(s);
      expect(hasProtobufjsLeniency(b, HARD_STATE_SCHEMA), s).toBe(true);
    }
    expect(() => decodeHardState(unhex('08808080'))).toThrow(WireError);
    expect(pbDecodeHardState(unhex('08808080'))).toEqual({ term: 0n, vote: 0n, commit: 0n });
  });
});

// ---------------------------------------------------------------------------------------------
// decodeSnapshot (protobufjs path) against Go's rules
// ---------------------------------------------------------------------------------------------

describe('decodeSnapshot rejects what etcd (gogo Unmarshal) rejects', () => {
  // etcd decodes walpb.Snapshot with gogo's generated Unmarshal, which fails on a truncated varint
  // (io.ErrUnexpectedEOF) and on a known field with the wrong wire type ("proto: wrong wireType").
  // wal-core decodes it with protobufjs, whose Reader accepts a uint64 varint that runs off the end of
  // the message (it returns the bits read so far) and does not check wire types of known fields.
  // (etcd ≥ 3.7 decodes with protobuf-go, which also fails on truncation and skips a wrongly typed known
  // field as unknown; neither reads it as its declared type, as protobufjs does.) The hand codec follows
  // gogo for Entry/HardState/Record. A snapshot record needs a valid CRC to get here, so only a buggy
  // writer can produce these bytes, but then walnut reads a wrong snapshot position instead of reporting
  // a malformed record.
  it.each([
    ['08808080', 'index varint truncated at the end of the message (3 continuation bytes)'],
    ['08021080808080', 'term varint truncated at the end of the message (3 continuation bytes)'],
    ['08ffffffff', 'index varint: 4 continuation bytes, then the end'],
    ['080210011800', 'conf_state (field 3) with wire type 0'],
    ['0a021005', 'index (field 1) with wire type 2: protobufjs reads the length byte as the index → {index 2, term 5}'],
  ])('BUG: decodeSnapshot(%s) (%s) throws WireError', (h) => {
    expect(() => decodeSnapshot(unhex(h))).toThrow(WireError);
  });

  it('the hand codec does reject the same shapes in Entry and HardState', () => {
    expect(() => decodeHardState(unhex('08808080'))).toThrow(WireError);
    expect(() => decodeEntry(unhex('10011880808080'))).toThrow(WireError);
    expect(() => decodeHardState(unhex('0a00'))).toThrow(WireError);
  });
});
