/**
 * Recognising and rendering what an entry carries: raft's ConfChange / ConfChangeV2, etcd's
 * InternalRaftRequest (put, range, delete_range, txn, compaction, lease, alarm, auth, membership, ...)
 * and the legacy v2 `pb.Request`, the way etcd's server tells them apart: an entry's data is an
 * InternalRaftRequest if it parses as one, else a v2 Request (etcdserver/server.go `applyEntryNormal`).
 * Anything else falls back to hex.
 */
import type { JsonValue } from '../json.js';
import { PayloadDecodeError, decodeMessage, fieldValue } from './proto.js';
import type { DecodedMessage, DecodedValue } from './proto.js';
import { ConfChange, ConfChangeV2, INTERNAL_RAFT_REQUEST_FIELDS, InternalRaftRequest, Metadata, RequestV2 } from './schema.js';

/** What an entry's data was recognised as. */
export interface DecodedPayload {
  /**
   * A short name: `confchange`, `confchangev2`, an InternalRaftRequest field name (`put`, `txn`,
   * `lease_grant`, ...), `v2` for the legacy request, `empty` (no data: raft's entry at a new term),
   * or `unknown` when nothing parsed.
   */
  readonly kind: string;
  /** One line for the text dump. */
  readonly text: string;
  /** The decoded fields for `--json` (uint64 exact as bigint). */
  readonly json: JsonValue;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are printable UTF-8 (no control characters but tab/newline), else undefined. */
export function printableText(bytes: Uint8Array): string | undefined {
  let s: string;
  try {
    s = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(s) ? undefined : s;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function valueText(v: DecodedValue): string {
  switch (v.kind) {
    case 'uint64':
    case 'int64':
      return v.value.toString();
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v.value);
    case 'bytes': {
      const t = printableText(v.value);
      return t !== undefined ? JSON.stringify(t) : `0x${hex(v.value)}`;
    }
    case 'enum':
      return v.name ?? v.value.toString();
    case 'message':
      return `{${messageText(v.value)}}`;
  }
}

/** A zero value of a scalar (0, false, '', no bytes): proto2 writers (gogo, v2 Request) put them on the wire. */
function isZeroScalar(v: DecodedValue): boolean {
  switch (v.kind) {
    case 'uint64':
    case 'int64':
      return v.value === 0n;
    case 'bool':
      return !v.value;
    case 'string':
    case 'bytes':
      return v.value.length === 0;
    default:
      return false;
  }
}

/**
 * `field=value field={...} list=[a, b]` for the fields present, in schema order. Scalars at their zero
 * value are left out (gogo's proto2 code writes them all; they say nothing).
 */
export function messageText(m: DecodedMessage): string {
  const parts = m.fields
    .filter((f) => f.schema.repeated || !isZeroScalar(f.values[0]!))
    .map((f) =>
      f.schema.repeated ? `${f.schema.name}=[${f.values.map(valueText).join(', ')}]` : `${f.schema.name}=${valueText(f.values[0]!)}`,
    );
  if (m.unknownFields.length > 0) parts.push(`unknown_fields=[${m.unknownFields.join(', ')}]`);
  return parts.join(' ');
}

function valueJson(v: DecodedValue): JsonValue {
  switch (v.kind) {
    case 'uint64':
    case 'int64':
    case 'bool':
    case 'string':
      return v.value;
    case 'bytes': {
      const t = printableText(v.value);
      return t !== undefined ? t : { hex: hex(v.value) };
    }
    case 'enum':
      return v.name ?? v.value;
    case 'message':
      return messageJson(v.value);
  }
}

/**
 * The message as a JSON object keyed by the `.proto` field names. A `bytes` field is a string when it
 * is printable UTF-8, else `{"hex": "..."}`.
 */
export function messageJson(m: DecodedMessage): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const f of m.fields) out[f.schema.name] = f.schema.repeated ? f.values.map(valueJson) : valueJson(f.values[0]!);
  if (m.unknownFields.length > 0) out['unknownFields'] = [...m.unknownFields];
  return out;
}

function tryDecode(schema: typeof InternalRaftRequest, data: Uint8Array): DecodedMessage | undefined {
  try {
    return decodeMessage(schema, data);
  } catch (e) {
    if (e instanceof PayloadDecodeError) return undefined;
    throw e;
  }
}

const REQUEST_FIELD_NAMES = new Set(INTERNAL_RAFT_REQUEST_FIELDS.map((f) => f.name));

/** The names `--type` accepts for requests: every InternalRaftRequest field (`put`, `txn`, ...), `v2`. */
export const REQUEST_KINDS: readonly string[] = INTERNAL_RAFT_REQUEST_FIELDS.map((f) => f.name);

function decodeNormal(data: Uint8Array): DecodedPayload {
  const irr = tryDecode(InternalRaftRequest, data);
  const req = irr?.fields.find((f) => REQUEST_FIELD_NAMES.has(f.schema.name));
  if (irr && req) {
    const header = fieldValue(irr, 'header');
    const headerId = header?.kind === 'message' ? fieldValue(header.value, 'ID') : undefined;
    const id = fieldValue(irr, 'ID') ?? headerId;
    const body = req.values[0]!.kind === 'message' ? messageText(req.values[0]!.value) : '';
    const idText = id && (id.kind === 'uint64' || id.kind === 'int64') ? ` (id ${id.value})` : '';
    return { kind: req.schema.name, text: `${req.schema.name}${body ? ` ${body}` : ''}${idText}`, json: messageJson(irr) };
  }
  const v2 = tryDecode(RequestV2, data);
  const method = v2 ? fieldValue(v2, 'Method') : undefined;
  if (v2 && method?.kind === 'string' && method.value !== '' && v2.unknownFields.length === 0) {
    const rest = { ...v2, fields: v2.fields.filter((f) => f.schema.name !== 'Method' && f.schema.name !== 'ID') };
    const id = fieldValue(v2, 'ID');
    return {
      kind: 'v2',
      text: `v2 ${method.value} ${messageText(rest)}${id?.kind === 'uint64' ? ` (id ${id.value})` : ''}`,
      json: messageJson(v2),
    };
  }
  return { kind: 'unknown', text: `(not recognised) ${previewHex(data)}`, json: { hex: hex(data) } };
}

function previewHex(data: Uint8Array, max = 32): string {
  return hex(data.subarray(0, max)) + (data.length > max ? '...' : '');
}

/**
 * Recognises and renders an entry's data.
 * @param type - raftpb.EntryType (0 normal, 1 ConfChange, 2 ConfChangeV2)
 * @param data - the entry's data (`undefined` when absent on the wire)
 */
export function decodeEntryPayload(type: number, data: Uint8Array | undefined): DecodedPayload {
  if (data === undefined || data.length === 0) {
    return { kind: 'empty', text: data === undefined ? '(nil)' : '(empty)', json: null };
  }
  if (type === 1 || type === 2) {
    const m = tryDecode(type === 1 ? ConfChange : ConfChangeV2, data);
    const kind = type === 1 ? 'confchange' : 'confchangev2';
    if (m) {
      if (type === 1) {
        const t = fieldValue(m, 'type');
        const rest = { ...m, fields: m.fields.filter((f) => f.schema.name !== 'type') };
        const tname = t?.kind === 'enum' ? (t.name ?? String(t.value)) : 'ConfChangeAddNode';
        return { kind, text: `${tname} ${messageText(rest)}`, json: messageJson(m) };
      }
      return { kind, text: messageText(m) || '(leave joint configuration)', json: messageJson(m) };
    }
    return { kind: 'unknown', text: `(${kind} does not decode) ${previewHex(data)}`, json: { hex: hex(data) } };
  }
  if (type === 0) return decodeNormal(data);
  return { kind: 'unknown', text: previewHex(data), json: { hex: hex(data) } };
}

/** The WAL metadata as etcd writes it (`etcdserverpb.Metadata`), or undefined if it is something else. */
export function decodeMetadata(data: Uint8Array | undefined): { text: string; json: JsonValue } | undefined {
  if (!data || data.length === 0) return undefined;
  const m = tryDecode(Metadata, data);
  if (!m || m.unknownFields.length > 0 || m.fields.length === 0) return undefined;
  const node = fieldValue(m, 'NodeID');
  const cluster = fieldValue(m, 'ClusterID');
  const n = node?.kind === 'uint64' ? node.value : 0n;
  const c = cluster?.kind === 'uint64' ? cluster.value : 0n;
  return {
    text: `etcd member ${n.toString(16)} (${n}) of cluster ${c.toString(16)} (${c})`,
    json: { nodeID: n, clusterID: c },
  };
}
