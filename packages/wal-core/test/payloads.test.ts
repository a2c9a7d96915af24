/**
 * Records whose frame and CRC are valid but whose payload is not what the type says (only a buggy
 * writer produces these): etcd panics in pbutil.MustUnmarshal; walnut reports a typed
 * MalformedRecordError (etcd-wal-format.md §2.4, §5 item 38). Also unknown record types (§1.2).
 */
import { describe, expect, it } from 'vitest';
import { MalformedRecordError, UnknownRecordTypeError, WalError } from '../src/errors.js';
import { Wal } from '../src/wal.js';
import { MapFileSystem } from './support/map-file-system.js';
import { SegmentBuilder, entryBytes, hardStateBytes, snapshotBytes, unhex, utf8 } from './support/wal-bytes.js';

const SEG0 = '0000000000000000-0000000000000000.wal';
const ZERO = { index: 0n, term: 0n };

/** A one-segment WAL: Create's head, one good entry, then `tail` records. */
function walWith(tail: Array<[number, Uint8Array | undefined]>): MapFileSystem {
  const s = new SegmentBuilder(0).add(4, undefined).add(1, utf8('md')).add(5, snapshotBytes(0n, 0n));
  s.add(2, entryBytes({ type: 0, term: 1n, index: 1n, data: utf8('a') }));
  for (const [type, data] of tail) s.add(type, data);
  s.add(3, hardStateBytes({ term: 1n, vote: 1n, commit: 1n }));
  const fs = new MapFileSystem();
  fs.putFile(`/wal/${SEG0}`, s.bytes(2048));
  return fs;
}

async function outcome<T>(p: Promise<T>): Promise<T | WalError> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof WalError) return e;
    throw e;
  }
}

async function readAll(fs: MapFileSystem, write: boolean) {
  const w = write ? await Wal.open(fs, '/wal', ZERO, { segmentSizeBytes: 4096 }) : await Wal.openForRead(fs, '/wal', ZERO);
  try {
    return await w.readAll();
  } finally {
    await w.close();
  }
}

describe('malformed payloads with a valid CRC', () => {
  it.each([
    ['entry: truncated varint', 2, unhex('0800100118')],
    ['entry: wrong wire type for Index', 2, unhex('080010011a0101')],
    ['entry: data runs past the end', 2, unhex('08001001180222056162')],
    ['state: field number 0', 3, unhex('0001')],
    ['state: truncated varint', 3, unhex('08ff')],
  ])('%s → MalformedRecordError from readAll (both modes) and verify', async (_what, type, payload) => {
    for (const write of [false, true]) {
      const r = await outcome(readAll(walWith([[type, payload]]), write));
      expect(r).toBeInstanceOf(MalformedRecordError);
    }
    const v = await outcome(Wal.verify(walWith([[type, payload]]), '/wal', ZERO));
    if (type === 3) expect(v).toBeInstanceOf(MalformedRecordError);
    else expect(v).toEqual({ term: 1n, vote: 1n, commit: 1n }); // Verify ignores entries
  });

  it.each([
    ['snapshot: index varint truncated at the end (3 continuation bytes)', unhex('08808080')],
    ['snapshot: term varint with 4 continuation bytes at the end', unhex('0800 10ffffffff'.replace(' ', ''))],
    ['snapshot: conf_state with wire type 0', unhex('080010001800')],
  ])('BUG: %s → MalformedRecordError from readAll, as for entries and states', async (_what, payload) => {
    const r = await outcome(readAll(walWith([[5, payload]]), false));
    expect(r).toBeInstanceOf(MalformedRecordError);
  });

  it('a snapshot payload that is not a Snapshot at all (random bytes) → MalformedRecordError', async () => {
    const r = await outcome(readAll(walWith([[5, unhex('ffffffffffffffffffffff')]]), false));
    expect(r).toBeInstanceOf(MalformedRecordError);
  });
});

describe('unknown record types', () => {
  it.each([0, 6, 0xabcd])(
    'type %i: readAll and verify fail with "unexpected block type"; validSnapshotEntries and repair skip it',
    async (type) => {
      const fs = walWith([[type, utf8('whatever')]]);
      for (const write of [false, true]) {
        const r = await outcome(readAll(fs.clone(), write));
        expect(r).toBeInstanceOf(UnknownRecordTypeError);
        expect((r as UnknownRecordTypeError).etcdMessage).toBe(`unexpected block type ${type}`);
      }
      expect(await outcome(Wal.verify(fs, '/wal', ZERO))).toBeInstanceOf(UnknownRecordTypeError);
      expect(await Wal.validSnapshotEntries(fs, '/wal')).toEqual([{ index: 0n, term: 0n }]);
      const before = fs.dump();
      expect(await Wal.repair(fs, '/wal')).toBe(true);
      expect(fs.dump()).toEqual(before);
    },
  );

  it('a negative int64 type is reported exactly (etcd: "unexpected block type -1")', async () => {
    // walpb.Record{type: -1, crc: R}: the type is the 10-byte varint of 2^64-1; no data, so the CRC check passes.
    const s = new SegmentBuilder(0).add(4, undefined).add(1, utf8('md')).add(5, snapshotBytes(0n, 0n)).add(-1, undefined);
    const fs = new MapFileSystem();
    fs.putFile(`/wal/${SEG0}`, s.bytes(1024));
    const r = await outcome(readAll(fs, false));
    expect(r).toBeInstanceOf(UnknownRecordTypeError);
    expect((r as UnknownRecordTypeError).recordType).toBe(-1n);
    expect((r as UnknownRecordTypeError).etcdMessage).toBe('unexpected block type -1');
  });
});
