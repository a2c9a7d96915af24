/**
 * Independent, deliberately simple helpers for building and parsing WAL bytes in tests, written from
 * etcd-wal-format.md §1 without using wal-core's codec: a bitwise CRC-32C, protobuf varints and fields,
 * walpb.Record / raftpb.Entry / HardState builders, frames (padded or legacy unpadded), a segment
 * builder that keeps the rolling CRC, and a strict frame parser.
 */

// ---------------------------------------------------------------------------------------------
// CRC-32C (bitwise: independent of wal-core's table and of the native addon)
// ---------------------------------------------------------------------------------------------

/** Go's crc32.Update(crc, castagnoli, data), bit by bit. */
export function crc32cRef(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Protobuf building blocks
// ---------------------------------------------------------------------------------------------

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** The canonical (shortest) varint of a uint64. */
export function varint(v: bigint | number): Uint8Array {
  let x = BigInt(v);
  if (x < 0n) x += 1n << 64n; // int64 two's complement, as Go writes negative int64
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return new Uint8Array(out);
}

/** A varint field: key + value. */
export const vfield = (num: number, v: bigint | number): Uint8Array => concat(varint((num << 3) | 0), varint(v));
/** A length-delimited field. */
export const bfield = (num: number, bytes: Uint8Array): Uint8Array => concat(varint((num << 3) | 2), varint(bytes.length), bytes);

/** walpb.Record, gogo shape: type and crc always, data iff defined (empty → `1a 00`). */
export function recordBytes(type: number | bigint, crc: number, data: Uint8Array | undefined): Uint8Array {
  return concat(vfield(1, type), vfield(2, crc >>> 0), data === undefined ? new Uint8Array(0) : bfield(3, data));
}

/** raftpb.Entry. `type: undefined` omits field 1 (raft 3.7 shape); `data: undefined` omits field 4. */
export function entryBytes(e: { term: bigint; index: bigint; type?: number | undefined; data?: Uint8Array | undefined }): Uint8Array {
  return concat(
    e.type === undefined ? new Uint8Array(0) : vfield(1, e.type),
    vfield(2, e.term),
    vfield(3, e.index),
    e.data === undefined ? new Uint8Array(0) : bfield(4, e.data),
  );
}

/** raftpb.HardState (all three fields). */
export const hardStateBytes = (s: { term: bigint; vote: bigint; commit: bigint }): Uint8Array =>
  concat(vfield(1, s.term), vfield(2, s.vote), vfield(3, s.commit));

/** walpb.Snapshot without conf_state. */
export const snapshotBytes = (index: bigint, term: bigint): Uint8Array => concat(vfield(1, index), vfield(2, term));

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

/** The 8-byte length word, as a bigint written little-endian. */
export function wordBytes(word: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, word, true);
  return b;
}

/** A frame: padded (etcd ≥ 3.0) or legacy unpadded (pre-3.0: top byte 0, no padding). */
export function frameBytes(rec: Uint8Array, padded = true): Uint8Array {
  const n = rec.length;
  const p = padded ? (8 - (n % 8)) % 8 : 0;
  const word = BigInt(n) | (p === 0 ? 0n : BigInt(0x80 | p) << 56n);
  return concat(wordBytes(word), rec, new Uint8Array(p));
}

/** Builds one segment's bytes record by record, keeping etcd's rolling CRC. */
export class SegmentBuilder {
  private readonly parts: Uint8Array[] = [];
  constructor(
    /** The running CRC (R) before the first record. */
    public crc = 0,
  ) {}

  /** Appends a record; for type 4 the crc field is R (data ignored), otherwise R is updated with data first. */
  add(type: number, data: Uint8Array | undefined, padded = true): this {
    if (type !== 4 && data !== undefined) this.crc = crc32cRef(this.crc, data);
    this.parts.push(frameBytes(recordBytes(type, this.crc, type === 4 ? undefined : data), padded));
    return this;
  }

  /** Appends raw bytes (no CRC bookkeeping). */
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }

  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  bytes(zeroTailTo = 0): Uint8Array {
    const b = concat(...this.parts);
    if (b.length >= zeroTailTo) return b;
    return concat(b, new Uint8Array(zeroTailTo - b.length));
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (strict: the test's own view of a segment)
// ---------------------------------------------------------------------------------------------

export interface ParsedFrame {
  readonly offset: number;
  readonly n: number;
  readonly p: number;
  /** Total size: 8 + n + p. */
  readonly size: number;
  readonly type: bigint;
  readonly crc: number;
  readonly data: Uint8Array | undefined;
}

function readVarint(b: Uint8Array, pos: number, end: number): [bigint, number] {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new Error('varint past end');
    const x = b[pos++]!;
    v |= BigInt(x & 0x7f) << BigInt(7 * i);
    if (x < 0x80) return [v & ((1n << 64n) - 1n), pos];
  }
  throw new Error('varint too long');
}

/** Parses a walpb.Record (type, crc, data; unknown fields skipped for wire types 0 and 2). */
export function parseRecord(b: Uint8Array): { type: bigint; crc: number; data: Uint8Array | undefined } {
  let pos = 0;
  let type = 0n;
  let crc = 0;
  let data: Uint8Array | undefined;
  while (pos < b.length) {
    let key: bigint;
    [key, pos] = readVarint(b, pos, b.length);
    const f = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (wt === 0) {
      let v: bigint;
      [v, pos] = readVarint(b, pos, b.length);
      if (f === 1) type = v;
      else if (f === 2) crc = Number(v & 0xffffffffn);
    } else if (wt === 2) {
      let len: bigint;
      [len, pos] = readVarint(b, pos, b.length);
      if (pos + Number(len) > b.length) throw new Error('bytes past end');
      if (f === 3) data = b.slice(pos, pos + Number(len));
      pos += Number(len);
    } else throw new Error(`wire type ${wt}`);
  }
  return { type, crc, data };
}

/**
 * Every frame of a segment until the first zero length word or the end of the file. Throws on a frame
 * that runs past the end or does not parse.
 */
export function parseFrames(seg: Uint8Array): ParsedFrame[] {
  const out: ParsedFrame[] = [];
  const dv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  let off = 0;
  while (off + 8 <= seg.length) {
    const word = dv.getBigUint64(off, true);
    if (word === 0n) break;
    const n = Number(word & 0x00ffffffffffffffn);
    const p = word >> 63n ? Number((word >> 56n) & 7n) : 0;
    if (off + 8 + n + p > seg.length) throw new Error(`frame at ${off} runs past the end`);
    const r = parseRecord(seg.subarray(off + 8, off + 8 + n));
    out.push({ offset: off, n, p, size: 8 + n + p, ...r });
    off += 8 + n + p;
  }
  if (off < seg.length && off + 8 > seg.length && seg.subarray(off).some((x) => x !== 0)) throw new Error('partial length word');
  return out;
}
