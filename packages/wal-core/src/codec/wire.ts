/**
 * Protobuf wire primitives for the hot-path codec (Record, Entry, HardState).
 *
 * The `.proto` files in `proto/` are the schema and protobufjs compiles them (`src/generated/`);
 * the generated code encodes the cold-path messages (Snapshot, ConfState) and is the reference the
 * hand-written codec is tested against, byte for byte. Decoding is hand-written for every message: it
 * must be as strict as etcd 3.4's gogo code (protobufjs accepts truncated varints and wrong wire types). The hot path is hand-written because
 * it decodes uint64 straight to bigint (no Long objects), slices `bytes` without copying and encodes
 * an entry straight into the page buffer (PERFORMANCE-NOTES: ~2x protobufjs per entry).
 */

/** Thrown by {@link ProtoReader} on malformed input; `truncated` when a field runs past the end. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

/** Number of bytes of the varint encoding of a uint32. */
export function varint32Size(v: number): number {
  v >>>= 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Number of bytes of the varint encoding of a uint64 bigint (0 ≤ v < 2^64). */
export function varint64Size(v: bigint): number {
  if (v < 0x100000000n) return varint32Size(Number(v));
  let n = 5;
  v >>= 35n;
  while (v > 0n) {
    n++;
    v >>= 7n;
  }
  return n;
}

/** Writes a uint32 varint at `pos`; returns the new position. */
export function writeVarint32(buf: Uint8Array, pos: number, v: number): number {
  v >>>= 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes a uint64 varint at `pos`; returns the new position. */
export function writeVarint64(buf: Uint8Array, pos: number, v: bigint): number {
  if (v < 0x100000000n) return writeVarint32(buf, pos, Number(v));
  let lo = Number(v & 0xffffffffn);
  let hi = Number(v >> 32n);
  // 4 full groups of 7 bits come from lo, the 5th straddles lo/hi.
  for (let i = 0; i < 4; i++) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  const b = lo | ((hi & 0x7) << 4);
  hi >>>= 3;
  if (hi === 0) {
    buf[pos++] = b;
    return pos;
  }
  buf[pos++] = b | 0x80;
  while (hi >= 0x80) {
    buf[pos++] = (hi & 0x7f) | 0x80;
    hi >>>= 7;
  }
  buf[pos++] = hi;
  return pos;
}

const U64_MASK = (1n << 64n) - 1n;

/** A forward reader over one encoded message. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Reads a varint as an unsigned 64-bit bigint (bits above 64 are dropped, as Go does). */
  uint64(): bigint {
    const buf = this.buf;
    // Fast path: up to 4 bytes fit a small integer exactly.
    let lo = 0;
    let shift = 0;
    let pos = this.pos;
    for (let i = 0; i < 4; i++) {
      if (pos >= this.end) throw new WireError('varint runs past the end', true);
      const b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(lo >>> 0);
      }
      shift += 7;
    }
    let v = BigInt(lo >>> 0);
    let s = 28n;
    for (let i = 4; i < 10; i++) {
      if (pos >= this.end) throw new WireError('varint runs past the end', true);
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << s;
      if (b < 0x80) {
        this.pos = pos;
        return v & U64_MASK;
      }
      s += 7n;
    }
    throw new WireError('varint overflows 64 bits', false);
  }

  /** Reads a varint and keeps its low 32 bits as an unsigned number (proto uint32/enum semantics). */
  uint32(): number {
    const buf = this.buf;
    let v = 0;
    let shift = 0;
    let pos = this.pos;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw new WireError('varint runs past the end', true);
      const b = buf[pos++]!;
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
      shift += 7;
    }
    throw new WireError('varint overflows 64 bits', false);
  }

  /** Reads a length prefix and returns [start, end) of the delimited bytes. */
  delimited(): [number, number] {
    // Fast path without BigInt for lengths below 2^28 (up to four varint bytes): every record and entry
    // data field in practice. Measured on bench d (readAll of 512 MiB, 262k length prefixes): ~5% of the
    // read's CPU time (the larger win there was RecordDecoder.next's object spread).
    const buf = this.buf;
    let pos = this.pos;
    let small = 0;
    for (let shift = 0; shift < 28 && pos < this.end; shift += 7) {
      const b = buf[pos++]!;
      small |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (small > this.end - pos) throw new WireError('length-delimited field runs past the end', true);
        this.pos = pos + small;
        return [pos, pos + small];
      }
    }
    const len = this.uint64();
    const start = this.pos;
    if (len > BigInt(this.end - start)) throw new WireError('length-delimited field runs past the end', true);
    const end = start + Number(len);
    this.pos = end;
    return [start, end];
  }

  /** Skips a field of the given wire type (unknown fields are ignored, as protobuf requires). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uint64();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.delimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        // Groups (3/4) never appear in these messages; 6 and 7 are invalid.
        throw new WireError(`illegal wireType ${wireType}`, false);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new WireError('fixed field runs past the end', true);
    this.pos += n;
  }

  /** Reads a field key; returns [fieldNumber, wireType]. Field number 0 is invalid. */
  key(): [number, number] {
    const k = this.uint32();
    const field = k >>> 3;
    if (field === 0) throw new WireError('illegal field number 0', false);
    return [field, k & 7];
  }
}
