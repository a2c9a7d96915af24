/**
 * The page writer (src/page-writer.ts, etcd pkg/ioutil/pagewriter.go) and the record encoder on top of
 * it (src/record-encoder.ts), against a FileHandle stub that records every write.
 *
 * etcd's TestPageWriterRandom / PartialSlack / Offset use a smaller watermark and page; walnut's are
 * constants (4096-byte pages, 128 KiB watermark), so the same scenarios are scaled to them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32cUpdate } from '../src/crc32c.js';
import type { FileHandle } from '../src/fs/file-system.js';
import { BUFFER_WATERMARK, PAGE_BYTES, PageWriter } from '../src/page-writer.js';
import { RecordEncoder } from '../src/record-encoder.js';
import { encodeEntry } from '../src/codec/messages.js';
import type { Entry } from '../src/types.js';
import { SegmentBuilder, hex, parseFrames } from './support/wal-bytes.js';

interface WriteCall {
  readonly position: number;
  readonly length: number;
}

/** A FileHandle that records writes (position, length), keeps the bytes, and can make writes short. */
class RecordingFile implements FileHandle {
  readonly path = '/stub';
  readonly writes: WriteCall[] = [];
  data = new Uint8Array(1 << 16);
  size_ = 0;
  /** Running CRC of everything written, in position order (writes here are always contiguous). */
  constructor(
    private readonly keepBytes = true,
    private readonly shortWrites = 0,
  ) {}
  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const n = this.shortWrites > 0 ? Math.min(length, this.shortWrites) : length;
    this.writes.push({ position, length: n });
    if (this.keepBytes) {
      if (position + n > this.data.length) {
        const next = new Uint8Array(Math.max(position + n, this.data.length * 2));
        next.set(this.data);
        this.data = next;
      }
      this.data.set(buffer.subarray(offset, offset + n), position);
    }
    this.size_ = Math.max(this.size_, position + n);
    return n;
  }
  bytes(): Uint8Array {
    return this.data.subarray(0, this.size_);
  }
  async read(): Promise<number> {
    throw new Error('not used');
  }
  async size(): Promise<number> {
    return this.size_;
  }
  async truncate(): Promise<void> {}
  async allocate(): Promise<void> {}
  async datasync(): Promise<void> {}
  async sync(): Promise<void> {}
  async tryLock(): Promise<void> {}
  async lock(): Promise<void> {}
  async unlock(): Promise<void> {}
  async close(): Promise<void> {}
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return b;
}

describe('PageWriter', () => {
  it('TestPageWriterRandom: only page-aligned writes reach the file until flush; pending ≤ page + watermark', async () => {
    const f = new RecordingFile(false);
    const pw = new PageWriter(f, 0);
    let n = 0;
    let rnd = 12345;
    const next = () => (rnd = (rnd * 1103515245 + 12345) >>> 0);
    const buf = new Uint8Array(4 * BUFFER_WATERMARK);
    for (let i = 0; i < 400; i++) {
      const len = next() % buf.length;
      await pw.write(buf.subarray(0, len));
      n += len;
      const written = f.writes.reduce((s, w) => s + w.length, 0);
      expect(written).toBeLessThanOrEqual(n);
      expect(n - written).toBeLessThanOrEqual(PAGE_BYTES + BUFFER_WATERMARK);
      expect(pw.buffered).toBe(n - written);
      expect(pw.osOffset).toBe(written);
    }
    let end = 0;
    for (const w of f.writes) {
      expect(w.position).toBe(end); // contiguous
      expect(w.length % PAGE_BYTES).toBe(0); // started at 0: every write is whole pages
      end += w.length;
    }
    expect(f.writes.length).toBeGreaterThan(10);
  });

  it('property: from any start offset, every write before flush ends on a page boundary, and the bytes are exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 3 * PAGE_BYTES }),
        fc.array(fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 5000 }), fc.nat({ max: 3 * BUFFER_WATERMARK })), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.constantFrom(0, 1000, 4096),
        async (start, sizes, short) => {
          const f = new RecordingFile(true, short);
          const pw = new PageWriter(f, start);
          let expected = 0;
          const stream: Uint8Array[] = [];
          for (const [i, len] of sizes.entries()) {
            const p = pattern(len, i);
            stream.push(p);
            await pw.write(p);
            expected += len;
            expect(pw.buffered).toBeLessThanOrEqual(BUFFER_WATERMARK + PAGE_BYTES);
            expect(pw.osOffset + pw.buffered).toBe(start + expected);
          }
          // Coalesce short writes into the writes the page writer issued: each issued write ends on a boundary.
          let pos = start;
          for (const w of f.writes) {
            expect(w.position).toBe(pos);
            pos += w.length;
          }
          expect(pos).toBe(pw.osOffset);
          expect(pw.osOffset % PAGE_BYTES === 0 || pw.osOffset === start).toBe(true);
          await pw.flush();
          expect(pw.buffered).toBe(0);
          expect(pw.osOffset).toBe(start + expected);
          const all = new Uint8Array(expected);
          let o = 0;
          for (const p of stream) {
            all.set(p, o);
            o += p.length;
          }
          expect(crc32cUpdate(0, f.bytes().subarray(start))).toBe(crc32cUpdate(0, all));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('TestPageWriterPartialSlack: overflowing the watermark without enough bytes to complete the page writes nothing', async () => {
    const f = new RecordingFile();
    const pw = new PageWriter(f, 0);
    // Put the writer at a non-zero page offset.
    await pw.write(new Uint8Array(64));
    await pw.flush();
    expect(f.writes).toEqual([{ position: 0, length: 64 }]);
    // Nearly fill the buffer.
    await pw.write(new Uint8Array(BUFFER_WATERMARK - 2));
    expect(f.writes).toHaveLength(1);
    // Overflow it, but not enough to reach the next page boundary: no write.
    await pw.write(new Uint8Array(8));
    expect(f.writes).toHaveLength(1);
    expect(pw.buffered).toBe(BUFFER_WATERMARK + 6);
    // Finish the slack: one write that ends on a page boundary.
    await pw.write(new Uint8Array(PAGE_BYTES));
    expect(f.writes).toHaveLength(2);
    const w = f.writes[1]!;
    expect(w.position).toBe(64);
    expect((w.position + w.length) % PAGE_BYTES).toBe(0);
    expect(pw.buffered).toBe(64 + BUFFER_WATERMARK - 2 + 8 + PAGE_BYTES - (w.position + w.length));
  });

  it('TestPageWriterOffset: the offset is tracked across flushes and a writer created at an offset', async () => {
    const f = new RecordingFile();
    let pw = new PageWriter(f, 0);
    await pw.write(new Uint8Array(64));
    await pw.flush();
    expect(pw.osOffset).toBe(64);
    pw = new PageWriter(f, pw.osOffset);
    await pw.write(new Uint8Array(64).fill(1));
    await pw.flush();
    expect(pw.osOffset).toBe(128);
    expect(f.writes).toEqual([
      { position: 0, length: 64 },
      { position: 64, length: 64 },
    ]);
    // From an unaligned offset, the first write to reach the file completes that page.
    pw = new PageWriter(f, 100);
    await pw.write(new Uint8Array(BUFFER_WATERMARK + 10));
    const w = f.writes[2]!;
    expect(w.position).toBe(100);
    expect((w.position + w.length) % PAGE_BYTES).toBe(0);
  });

  it('exactly the watermark stays buffered; one more byte on an aligned offset flushes exactly the watermark', async () => {
    const f = new RecordingFile();
    const pw = new PageWriter(f, 8192);
    await pw.write(new Uint8Array(BUFFER_WATERMARK));
    expect(f.writes).toEqual([]);
    expect(pw.fits(0)).toBe(true);
    expect(pw.fits(1)).toBe(false);
    await pw.write(new Uint8Array(1));
    expect(f.writes).toEqual([{ position: 8192, length: BUFFER_WATERMARK }]);
    expect(pw.buffered).toBe(1);
  });

  it('a large write: the buffer is completed to a page, whole pages go straight to the file, the rest is buffered', async () => {
    const f = new RecordingFile();
    const pw = new PageWriter(f, 0);
    await pw.write(pattern(100, 1));
    const big = pattern(BUFFER_WATERMARK + 10 * PAGE_BYTES + 123, 2);
    await pw.write(big);
    expect(f.writes.every((w) => (w.position + w.length) % PAGE_BYTES === 0)).toBe(true);
    expect(pw.buffered).toBeLessThan(PAGE_BYTES + 1);
    await pw.flush();
    expect(hex(f.bytes().subarray(100))).toBe(hex(big));
  });

  it('commitDirect after fits() is the same as write()', async () => {
    const a = new RecordingFile();
    const b = new RecordingFile();
    const pa = new PageWriter(a, 300);
    const pb = new PageWriter(b, 300);
    for (let i = 0; i < 200; i++) {
      const p = pattern((i * 977) % 3000, i);
      await pa.write(p);
      if (pb.fits(p.length)) {
        pb.buf.set(p, pb.buffered);
        pb.commitDirect(p.length);
      } else {
        await pb.write(p);
      }
    }
    await pa.flush();
    await pb.flush();
    expect(hex(a.bytes())).toBe(hex(b.bytes()));
  });

  it('onWrite sees every byte handed to the file', async () => {
    const f = new RecordingFile(false);
    let seen = 0;
    const pw = new PageWriter(f, 7, (n) => (seen += n));
    for (let i = 0; i < 50; i++) await pw.write(new Uint8Array(10_000));
    await pw.flush();
    expect(seen).toBe(500_000);
    expect(f.writes.reduce((s, w) => s + w.length, 0)).toBe(500_000);
  });
});

describe('RecordEncoder over the PageWriter', () => {
  const recordArb = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({
          index: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          term: fc.bigInt({ min: 0n, max: 1000n }),
          type: fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0x7fffffff })),
          size: fc.oneof(
            { weight: 20, arbitrary: fc.nat({ max: 600 }) },
            { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 300_000 }) },
          ),
          absent: fc.boolean(),
        })
        .map(({ index, term, type, size, absent }) => ({
          kind: 'entry' as const,
          entry: (absent && size < 10 ? { index, term, type } : { index, term, type, data: pattern(size, Number(index & 0xffn)) }) as Entry,
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ type: fc.constantFrom(1, 3, 4, 5), size: fc.oneof(fc.nat({ max: 40 }), fc.constant(-1)) })
        .map(({ type, size }) => ({ kind: 'raw' as const, type, data: size < 0 || type === 4 ? undefined : pattern(size, type) })), // CRC records never carry data
    },
  );

  it('property: the bytes written equal independently built frames, with the rolling CRC; page-aligned writes until flush', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 40 }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 5000 }),
        async (recs, crc0, start) => {
          const f = new RecordingFile();
          const enc = new RecordEncoder(new PageWriter(f, start), crc0);
          const ref = new SegmentBuilder(crc0);
          for (const r of recs) {
            if (r.kind === 'entry') {
              await enc.encodeEntry(r.entry);
              ref.add(2, encodeEntry(r.entry));
            } else {
              await enc.encode(r.type, r.data);
              ref.add(r.type, r.data);
            }
            expect(enc.crc).toBe(ref.crc);
          }
          const before = f.writes.length;
          for (const w of f.writes) expect((w.position + w.length) % PAGE_BYTES).toBe(0);
          await enc.pw.flush();
          expect(f.writes.length).toBeLessThanOrEqual(before + 1);
          const got = f.bytes().subarray(start);
          const want = ref.bytes();
          expect(got.length).toBe(want.length);
          expect(crc32cUpdate(0, got)).toBe(crc32cUpdate(0, want));
          expect(parseFrames(got).length).toBe(recs.length);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('entries whose record crc varint is shorter than 5 bytes (crc < 2^28) are encoded without a gap', async () => {
    // Find data that makes the running CRC small, starting from 0.
    let found: Entry | undefined;
    for (let i = 0; i < 100_000 && !found; i++) {
      const e: Entry = { index: BigInt(i), term: 1n, type: 0, data: pattern(20, i) };
      if (crc32cUpdate(0, encodeEntry(e)) < 2 ** 21) found = e;
    }
    expect(found).toBeDefined();
    const f = new RecordingFile();
    const enc = new RecordEncoder(new PageWriter(f, 0), 0);
    await enc.encodeEntry(found!);
    await enc.pw.flush();
    expect(hex(f.bytes())).toBe(hex(new SegmentBuilder(0).add(2, encodeEntry(found!)).bytes()));
  });

  it('entries whose encoded size crosses a varint length boundary (127/128, 16383/16384, 2^21) are framed correctly', async () => {
    for (const target of [127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21]) {
      for (let delta = -3; delta <= 3; delta++) {
        const es = target + delta;
        // 08 00 10 01 18 01 22 <len> <data>: the data length varint is 1, 2 or 3 bytes.
        const dataLen = es - 6 - 1 - (es - 8 < 128 ? 1 : es - 9 < 16384 ? 2 : 3);
        const e: Entry = { index: 1n, term: 1n, type: 0, data: pattern(Math.max(0, dataLen), es) };
        const f = new RecordingFile();
        const enc = new RecordEncoder(new PageWriter(f, 0), 7);
        await enc.encodeEntry(e);
        await enc.pw.flush();
        const want = new SegmentBuilder(7).add(2, encodeEntry(e)).bytes();
        expect(crc32cUpdate(0, f.bytes()), `entry size ${encodeEntry(e).length}`).toBe(crc32cUpdate(0, want));
        expect(f.bytes().length).toBe(want.length);
      }
    }
  });

  it('an entry larger than the 1 MiB scratch buffer is framed correctly', async () => {
    const f = new RecordingFile();
    const enc = new RecordEncoder(new PageWriter(f, 0), 0);
    const e: Entry = { index: 7n, term: 2n, type: 0, data: pattern(1_100_000, 3) };
    await enc.encode(1, pattern(10, 1));
    await enc.encodeEntry(e);
    await enc.encodeEntry({ index: 8n, term: 2n, type: 0, data: pattern(5, 5) });
    await enc.pw.flush();
    const want = new SegmentBuilder(0)
      .add(1, pattern(10, 1))
      .add(2, encodeEntry(e))
      .add(2, encodeEntry({ index: 8n, term: 2n, type: 0, data: pattern(5, 5) }))
      .bytes();
    expect(f.bytes().length).toBe(want.length);
    expect(crc32cUpdate(0, f.bytes())).toBe(crc32cUpdate(0, want));
  });
});
