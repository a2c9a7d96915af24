/** The entry payload decoder (src/decode): recognition, exact uint64, and rejection of what is not the message. */
import { describe, expect, it } from 'vitest';
import { decodeEntryPayload, decodeMetadata } from '../src/decode/payload.js';
import { PayloadDecodeError, decodeMessage } from '../src/decode/proto.js';
import { InternalRaftRequest } from '../src/decode/schema.js';

/** Protobuf encoding helpers (varint, key, length-delimited). */
function varint(v: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (no: number, wt: number) => varint(BigInt((no << 3) | wt));
const vfield = (no: number, v: bigint) => [...key(no, 0), ...varint(v)];
const lfield = (no: number, bytes: number[] | Uint8Array) => [...key(no, 2), ...varint(BigInt(bytes.length)), ...bytes];
const text = (s: string) => [...new TextEncoder().encode(s)];

const BIG = (1n << 64n) - 3n; // a member id far above 2^53

describe('decodeEntryPayload', () => {
  it('an InternalRaftRequest put with its header id, exact above 2^53', () => {
    const data = Uint8Array.from([
      ...lfield(4, [...lfield(1, text('/k')), ...lfield(2, text('v')), ...vfield(3, 7n)]),
      ...lfield(100, vfield(1, BIG)),
    ]);
    const p = decodeEntryPayload(0, data);
    expect(p.kind).toBe('put');
    expect(p.text).toBe(`put key="/k" value="v" lease=7 (id ${BIG})`);
    expect(p.json).toEqual({ header: { ID: BIG }, put: { key: '/k', value: 'v', lease: 7n } });
  });

  it('a negative int64 (lease id) stays signed and exact', () => {
    const data = Uint8Array.from(lfield(9, vfield(1, (1n << 64n) - 1n)));
    expect(decodeEntryPayload(0, data).text).toBe('lease_revoke ID=-1');
  });

  it('a legacy v2 Request is not taken for an InternalRaftRequest (its field 2 does not parse as a Request)', () => {
    const data = Uint8Array.from([
      ...vfield(1, 5n),
      ...lfield(2, text('PUT')),
      ...lfield(3, text('/0/version')),
      ...lfield(4, text('3.4.0')),
      ...vfield(5, 0n),
    ]);
    const p = decodeEntryPayload(0, data);
    expect(p.kind).toBe('v2');
    expect(p.text).toBe('v2 PUT Path="/0/version" Val="3.4.0" (id 5)');
  });

  it('ConfChangeV2 with its transition, changes and context', () => {
    const change = [...vfield(1, 3n), ...vfield(2, BIG)];
    const data = Uint8Array.from([...vfield(1, 1n), ...lfield(2, change), ...lfield(3, text('ctx'))]);
    const p = decodeEntryPayload(2, data);
    expect(p.kind).toBe('confchangev2');
    expect(p.text).toBe(
      `transition=ConfChangeTransitionJointImplicit changes=[{type=ConfChangeAddLearnerNode node_id=${BIG}}] context="ctx"`,
    );
  });

  it('an empty ConfChangeV2 is the "leave joint" change', () => {
    expect(decodeEntryPayload(2, new Uint8Array(0)).kind).toBe('empty');
    expect(decodeEntryPayload(2, Uint8Array.from(vfield(1, 0n))).text).toBe('transition=ConfChangeTransitionAuto');
  });

  it('ConfChange RemoveNode', () => {
    const data = Uint8Array.from([...vfield(1, 9n), ...vfield(2, 1n), ...vfield(3, 2n)]);
    expect(decodeEntryPayload(1, data).text).toBe('ConfChangeRemoveNode id=9 node_id=2');
  });

  it('bytes that are neither fall back to hex, and never throw', () => {
    const p = decodeEntryPayload(0, Uint8Array.from([0xff, 0xff, 0xff]));
    expect(p.kind).toBe('unknown');
    expect(p.json).toEqual({ hex: 'ffffff' });
    expect(decodeEntryPayload(1, Uint8Array.from([0x0a, 0x05, 0x01])).kind).toBe('unknown');
  });

  it('absent and empty data', () => {
    expect(decodeEntryPayload(0, undefined)).toMatchObject({ kind: 'empty', text: '(nil)' });
    expect(decodeEntryPayload(0, new Uint8Array(0))).toMatchObject({ kind: 'empty', text: '(empty)' });
  });

  it('non-printable bytes of a key are shown as hex', () => {
    const data = Uint8Array.from(lfield(5, lfield(1, [0x00, 0x01, 0xfe])));
    expect(decodeEntryPayload(0, data).text).toBe('delete_range key=0x0001fe');
    expect(decodeEntryPayload(0, data).json).toEqual({ delete_range: { key: { hex: '0001fe' } } });
  });
});

describe('decodeMessage is strict', () => {
  it.each([
    ['a wrong wire type for a known field', [...key(1, 2), 1, 0]],
    ['a truncated varint', [0x08, 0x80]],
    ['a length past the end', [...key(4, 2), 5, 1]],
    ['an end-group wire type', [0x0c]],
    ['field number 0', [0x00, 0x01]],
  ])('%s is a PayloadDecodeError', (_what, bytes) => {
    expect(() => decodeMessage(InternalRaftRequest, Uint8Array.from(bytes))).toThrow(PayloadDecodeError);
  });
});

describe('decodeMetadata', () => {
  it("etcd's Metadata {NodeID, ClusterID}, exact", () => {
    const m = decodeMetadata(Uint8Array.from([...vfield(1, BIG), ...vfield(2, 1n)]));
    expect(m?.json).toEqual({ nodeID: BIG, clusterID: 1n });
    expect(m?.text).toBe(`etcd member ${BIG.toString(16)} (${BIG}) of cluster 1 (1)`);
  });

  it('anything else is not taken for it', () => {
    expect(decodeMetadata(new TextEncoder().encode('walnut-demo'))).toBeUndefined();
    expect(decodeMetadata(undefined)).toBeUndefined();
  });
});
