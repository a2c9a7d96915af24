/**
 * Frames (src/codec/frame.ts) — the length word of etcd-wal-format.md §1.4 — and the record decoder's
 * handling of single frames (etcd's TestReadRecord, TestLastRecordLengthExceedFileEnd).
 */
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, padBytes, readLengthWord, writeLengthWord } from '../src/codec/frame.js';
import { CrcMismatchError, UnexpectedEofError, WalError } from '../src/errors.js';
import { RecordDecoder } from '../src/record-decoder.js';
import { MapFileSystem } from './support/map-file-system.js';
import { SegmentBuilder, concat, crc32cRef, entryBytes, hex, parseFrames, unhex, utf8, wordBytes } from './support/wal-bytes.js';

describe('length word (§1.4)', () => {
  it.each([
    [4, 4, '0400000000000084'],
    [7, 1, '0700000000000081'],
    [8, 0, '0800000000000000'],
    [9, 7, '0900000000000087'],
    [14, 2, '0e00000000000082'],
    [18, 6, '1200000000000086'],
  ])('N=%i → P=%i, stored word %s', (n, p, word) => {
    expect(padBytes(n)).toBe(p);
    const b = new Uint8Array(10).fill(0xee);
    writeLengthWord(b, 1, n);
    expect(hex(b.subarray(1, 9))).toBe(word);
    expect(b[0]).toBe(0xee);
    expect(b[9]).toBe(0xee);
    expect(readLengthWord(b, 1)).toEqual({ zero: false, recordBytes: n, padBytes: p });
  });

  it('P = (8 − N mod 8) mod 8 and the frame is a multiple of 8, for N = 0..200', () => {
    for (let n = 0; n <= 200; n++) {
      const p = padBytes(n);
      expect(p).toBe((8 - (n % 8)) % 8);
      expect((FRAME_HEADER_BYTES + n + p) % 8).toBe(0);
      const b = new Uint8Array(8);
      writeLengthWord(b, 0, n);
      expect(b[7]).toBe(p === 0 ? 0 : 0x80 | p);
      if (n > 0) expect(readLengthWord(b, 0)).toEqual({ zero: false, recordBytes: n, padBytes: p });
    }
  });

  it('large N up to 2^53 − 1 round-trips through bits 0–55', () => {
    for (const n of [2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 48 + 5, Number.MAX_SAFE_INTEGER]) {
      const b = new Uint8Array(8);
      writeLengthWord(b, 0, n);
      const w = new DataView(b.buffer).getBigUint64(0, true);
      expect(w & 0x00ffffffffffffffn).toBe(BigInt(n));
      expect(readLengthWord(b, 0)).toEqual({ zero: false, recordBytes: n, padBytes: padBytes(n) });
    }
  });

  it('decoding: the top byte is never part of N; P only when bit 63 is set; bits 59–62 are ignored', () => {
    const read = (w: bigint) => readLengthWord(wordBytes(w), 0);
    expect(read(0x0en)).toEqual({ zero: false, recordBytes: 14, padBytes: 0 }); // legacy unpadded
    expect(read(0x7800000000000000n | 14n)).toEqual({ zero: false, recordBytes: 14, padBytes: 0 }); // bits 59-62, bit 63 clear
    expect(read(0xfa00000000000000n | 14n)).toEqual({ zero: false, recordBytes: 14, padBytes: 2 }); // bits 59-62 + 0x80|2
    expect(read(0x0700000000000000n | 14n)).toEqual({ zero: false, recordBytes: 14, padBytes: 0 }); // P bits without the flag
    expect(read(0x8000000000000000n)).toEqual({ zero: false, recordBytes: 0, padBytes: 0 });
    expect(read(0n)).toEqual({ zero: true, recordBytes: 0, padBytes: 0 });
  });

  it('absurd words decode to huge N (the decoder bounds them by the file size)', () => {
    const read = (w: bigint) => readLengthWord(wordBytes(w), 0);
    expect(read(0x00ffffffffffffffn).recordBytes).toBeGreaterThanOrEqual(2 ** 56 - 1);
    expect(read(0x00ffffffffffffffn).padBytes).toBe(0);
    expect(read(0xffffffffffffffffn)).toMatchObject({ zero: false, padBytes: 7 });
    expect(read(0xffffffffffffffffn).recordBytes).toBeGreaterThanOrEqual(2 ** 56 - 1);
    expect(read(2n ** 53n).recordBytes).toBe(2 ** 53);
    expect(read(2n ** 53n + 1n).recordBytes).toBeGreaterThanOrEqual(2 ** 53);
  });
});

// ---------------------------------------------------------------------------------------------
// One segment through the RecordDecoder
// ---------------------------------------------------------------------------------------------

async function decodeAll(bytes: Uint8Array, name = '0000000000000000-0000000000000000.wal') {
  const fs = new MapFileSystem();
  fs.putFile(`/d/${name}`, bytes);
  const file = await fs.open(`/d/${name}`, 'read');
  const dec = new RecordDecoder([{ name, file, size: bytes.length }]);
  const recs = [];
  try {
    for (;;) {
      const r = await dec.next();
      if (!r) return { recs, error: undefined, dec };
      recs.push(r);
    }
  } catch (error) {
    return { recs, error: error as WalError, dec };
  } finally {
    await file.close();
  }
}

describe("the decoder on etcd's TestReadRecord inputs", () => {
  // A legacy, unpadded 14-byte metadata record: word 0e 00.. 00, type 1, crc = CRC-32C(data), data 08 ef fd 02.
  const infoData = unhex('08effd02');
  const infoRecord = concat(unhex('0e00000000000000 0801 1099b5e4d003 1a04'), infoData);

  it('the unpadded 14-byte record decodes', async () => {
    expect(infoRecord.length).toBe(22);
    const { recs, error } = await decodeAll(infoRecord);
    expect(error).toBeUndefined();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ type: 1, crc: crc32cRef(0, infoData), offset: 0, frameBytes: 22 });
    expect(hex(recs[0]!.data!)).toBe('08effd02');
  });

  it('empty input is a clean end (EOF)', async () => {
    const { recs, error } = await decodeAll(new Uint8Array(0));
    expect(recs).toEqual([]);
    expect(error).toBeUndefined();
  });

  it.each([
    ['the first 14 bytes', 14],
    ['without the data and its last header byte', 22 - 4 - 1],
    ['without the data', 22 - 4],
    ['short by 8 bytes', 22 - 8],
    ['a partial length word', 5],
  ])('truncated (%s) is an unexpected EOF', async (_what, len) => {
    const { recs, error } = await decodeAll(infoRecord.subarray(0, len));
    expect(recs).toEqual([]);
    expect(error).toBeInstanceOf(UnexpectedEofError);
  });

  it('the last data byte altered is a CRC mismatch (not torn: no all-zero sector)', async () => {
    const bad = infoRecord.slice();
    bad[bad.length - 1] = 'a'.charCodeAt(0);
    const { error } = await decodeAll(bad);
    expect(error).toBeInstanceOf(CrcMismatchError);
    expect((error as CrcMismatchError).crcRecord).toBe(false);
  });
});

describe("etcd's TestLastRecordLengthExceedFileEnd", () => {
  it('two good entries, then a length word of 1000 in a short file: unexpected EOF, nothing huge read', async () => {
    const seg = new SegmentBuilder(0).add(4, undefined).add(1, undefined).add(5, unhex('08001000'));
    for (let i = 1; i <= 3; i++) seg.add(2, entryBytes({ type: 0, term: 0n, index: BigInt(i), data: utf8(`waldata${i}`) }));
    const bytes = seg.bytes();
    // Set the last frame's (the third entry's) N to 1000.
    const frames = parseFrames(bytes);
    expect(frames.map((f) => Number(f.type))).toEqual([4, 1, 5, 2, 2, 2]);
    const lastFrame = frames[5]!.offset;
    const firstEntry = frames[3]!.offset;
    expect(hex(bytes.subarray(lastFrame, lastFrame + 8))).toBe('1a00000000000086');
    bytes.set(unhex('e803000000000086'), lastFrame);
    // The entry for index 1 is exactly the bytes of the format document's example.
    expect(hex(bytes.subarray(firstEntry, firstEntry + 40))).toBe(
      '1a00000000000086' + '080210ba8bdc850f1a10' + '0800100018012208' + hex(utf8('waldata1')) + '000000000000',
    );
    const reads: number[] = [];
    const fs = new MapFileSystem();
    fs.putFile('/d/0000000000000000-0000000000000000.wal', bytes);
    fs.onRead = (i) => reads.push(i.length);
    const file = await fs.open('/d/0000000000000000-0000000000000000.wal', 'read');
    const dec = new RecordDecoder([{ name: '0000000000000000-0000000000000000.wal', file, size: bytes.length }]);
    const types: number[] = [];
    let err: unknown;
    try {
      for (let r = await dec.next(); r; r = await dec.next()) types.push(r.type);
    } catch (e) {
      err = e;
    }
    expect(types).toEqual([4, 1, 5, 2, 2]);
    expect(err).toBeInstanceOf(UnexpectedEofError);
    expect((err as UnexpectedEofError).reason).toBe('length-exceeds-file');
    expect(Math.max(...reads)).toBeLessThanOrEqual(bytes.length);
  });
});

describe('the decoder across its 1 MiB read chunks', () => {
  it('frames that straddle chunk boundaries, and a record larger than a chunk, decode exactly; reads stay within the file', async () => {
    const seg = new SegmentBuilder(0).add(4, undefined).add(1, utf8('md')).add(5, unhex('08001000'));
    let x = 99;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    let index = 0n;
    const add = (size: number) => {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 7 + Number(index)) & 0xff);
      seg.add(2, entryBytes({ type: 0, term: 1n, index: ++index, data }));
    };
    while (seg.length < 1_000_000) add(Math.floor(rnd() * 70_000));
    add(1_600_000); // larger than a read chunk
    while (seg.length < 3_500_000) add(Math.floor(rnd() * 300_000));
    for (let i = 0; i < 50; i++) add(Math.floor(rnd() * 20)); // many small ones at the end
    const bytes = seg.bytes(seg.length + 4096);
    const want = parseFrames(bytes);
    const fs = new MapFileSystem();
    fs.putFile('/d/0000000000000000-0000000000000000.wal', bytes);
    const reads: number[] = [];
    fs.onRead = (i) => reads.push(i.length);
    const file = await fs.open('/d/0000000000000000-0000000000000000.wal', 'read');
    const dec = new RecordDecoder([{ name: 'x.wal', file, size: bytes.length }]);
    const got = [];
    for (let r = await dec.next(); r; r = await dec.next()) got.push(r);
    await file.close();
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      expect(got[i]!.offset).toBe(want[i]!.offset);
      expect(got[i]!.frameBytes).toBe(want[i]!.size);
      expect(got[i]!.crc).toBe(want[i]!.crc);
      expect(got[i]!.data?.length).toBe(want[i]!.data?.length);
      if (got[i]!.data) expect(Buffer.from(got[i]!.data!).equals(Buffer.from(want[i]!.data!))).toBe(true);
    }
    expect(dec.lastOffset).toBe(seg.length);
    expect(Math.max(...reads)).toBeLessThanOrEqual(1_600_100);
  });
});
