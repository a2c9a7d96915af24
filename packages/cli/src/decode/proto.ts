/**
 * A small, strict, table-driven protobuf decoder for *displaying* entry payloads (`walnut dump`).
 *
 * Why not protobufjs like wal-core's `proto/`: recognising a payload means *rejecting* bytes that are
 * not the message (a legacy v2 `pb.Request` must fail to parse as an `InternalRaftRequest`, as it does in
 * etcd's gogo code, for the fallback to work), and protobufjs is lenient there (it accepts wrong wire
 * types and truncated varints — the reason wal-core hand-writes its decoders too, see its `codec/wire.ts`).
 * It also returns 64-bit values as `Long` objects, while every uint64 here must stay an exact `bigint`.
 * The schemas in `schema.ts` are written as tables that mirror etcd's `.proto` files line by line, each
 * with the file it comes from, so the field numbers can be checked against the source.
 */

/** The scalar and composite field types the display schemas use. */
export type FieldType = 'uint64' | 'int64' | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

/** One field of a message schema: the number and name in etcd's `.proto`. */
export interface FieldSchema {
  readonly no: number;
  readonly name: string;
  readonly type: FieldType;
  readonly repeated?: boolean;
  /** For `message` fields: the nested schema (a thunk, so schemas can refer to each other). */
  readonly message?: () => MessageSchema;
  /** For `enum` fields: value names by number. */
  readonly enumValues?: Readonly<Record<number, string>>;
}

/** A message schema: its full protobuf name and its fields. */
export interface MessageSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
}

/** A decoded field value. Varint scalars stay `bigint` (exact uint64/int64); enums keep their number and name. */
export type DecodedValue =
  | { readonly kind: 'uint64' | 'int64'; readonly value: bigint }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'enum'; readonly value: bigint; readonly name: string | undefined }
  | { readonly kind: 'message'; readonly value: DecodedMessage };

/** A decoded field: its schema and its value(s), in wire order. */
export interface DecodedField {
  readonly schema: FieldSchema;
  readonly values: DecodedValue[];
}

/** A decoded message: the fields present on the wire, in schema order, and the numbers of unknown fields. */
export interface DecodedMessage {
  readonly schema: MessageSchema;
  readonly fields: readonly DecodedField[];
  readonly unknownFields: readonly number[];
}

/** The bytes are not a valid encoding of the schema. */
export class PayloadDecodeError extends Error {
  override readonly name = 'PayloadDecodeError';
}

const MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8');

class Reader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new PayloadDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (result >= 1n << 64n) throw new PayloadDecodeError('varint overflows 64 bits');
        return result;
      }
      shift += 7n;
    }
    throw new PayloadDecodeError('varint longer than 10 bytes');
  }

  lengthDelimited(): { start: number; end: number } {
    const n = this.varint();
    if (n > BigInt(this.end - this.pos)) throw new PayloadDecodeError('length-delimited field runs past the end');
    const start = this.pos;
    this.pos += Number(n);
    return { start, end: this.pos };
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.fixed(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.fixed(4);
        return;
      default:
        // Groups (3, 4) are not used by any etcd message; gogo rejects 4 and etcd never writes 3.
        throw new PayloadDecodeError(`wire type ${wireType}`);
    }
  }

  private fixed(n: number): void {
    if (this.end - this.pos < n) throw new PayloadDecodeError('truncated fixed field');
    this.pos += n;
  }
}

function isVarintType(t: FieldType): boolean {
  return t === 'uint64' || t === 'int64' || t === 'bool' || t === 'enum';
}

function scalarFromVarint(f: FieldSchema, v: bigint): DecodedValue {
  switch (f.type) {
    case 'int64':
      return { kind: 'int64', value: BigInt.asIntN(64, v) };
    case 'bool':
      return { kind: 'bool', value: v !== 0n };
    case 'enum': {
      const n = BigInt.asIntN(32, v);
      return { kind: 'enum', value: n, name: f.enumValues?.[Number(n)] };
    }
    default:
      return { kind: 'uint64', value: v };
  }
}

function decodeAt(schema: MessageSchema, buf: Uint8Array, start: number, end: number, depth: number): DecodedMessage {
  if (depth > MAX_DEPTH) throw new PayloadDecodeError('nested too deep');
  const r = new Reader(buf, start, end);
  const byNo = new Map<number, DecodedValue[]>();
  const unknown: number[] = [];
  while (r.pos < end) {
    const key = r.varint();
    const no = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (no === 0 || key >> 3n > 0x1fffffffn) throw new PayloadDecodeError(`invalid field number ${key >> 3n}`);
    const f = schema.fields.find((x) => x.no === no);
    if (!f) {
      r.skip(wt);
      unknown.push(no);
      continue;
    }
    const values = byNo.get(no) ?? [];
    if (isVarintType(f.type) && wt === 0) {
      values.push(scalarFromVarint(f, r.varint()));
    } else if (isVarintType(f.type) && wt === 2 && f.repeated) {
      // A packed repeated scalar.
      const { start: s, end: e } = r.lengthDelimited();
      const inner = new Reader(buf, s, e);
      while (inner.pos < e) values.push(scalarFromVarint(f, inner.varint()));
    } else if (wt === 2 && (f.type === 'string' || f.type === 'bytes' || f.type === 'message')) {
      const { start: s, end: e } = r.lengthDelimited();
      if (f.type === 'string') values.push({ kind: 'string', value: utf8.decode(buf.subarray(s, e)) });
      else if (f.type === 'bytes') values.push({ kind: 'bytes', value: buf.subarray(s, e) });
      else values.push({ kind: 'message', value: decodeAt(f.message!(), buf, s, e, depth + 1) });
    } else {
      throw new PayloadDecodeError(`${schema.name}.${f.name} (field ${no}) has wire type ${wt}`);
    }
    byNo.set(no, values);
  }
  const fields: DecodedField[] = [];
  for (const f of schema.fields) {
    const values = byNo.get(f.no);
    if (!values) continue;
    // A non-repeated field seen twice: the last one wins (protobuf's merge rule for scalars).
    fields.push({ schema: f, values: f.repeated ? values : [values[values.length - 1]!] });
  }
  return { schema, fields, unknownFields: unknown };
}

/**
 * Decodes `bytes` as `schema`.
 * @throws PayloadDecodeError when the bytes are not a valid encoding (wrong wire type, truncation, ...)
 */
export function decodeMessage(schema: MessageSchema, bytes: Uint8Array): DecodedMessage {
  return decodeAt(schema, bytes, 0, bytes.length, 0);
}

/** The first value of field `name`, if present. */
export function fieldValue(m: DecodedMessage, name: string): DecodedValue | undefined {
  return m.fields.find((f) => f.schema.name === name)?.values[0];
}
