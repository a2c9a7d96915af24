/**
 * CRC-32C (src/crc32c.ts): the check value, Go's continuation semantics, the format document's values,
 * agreement of the portable implementation's JS table path (short inputs) with its @node-rs/crc32 path,
 * and of the portable implementation with the one in use (@walnut/native where it built).
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32cImplementation, crc32cPortable, crc32cUpdate, crc32cUpdateRange } from '../src/crc32c.js';
import { crc32cRef, unhex, utf8 } from './support/wal-bytes.js';

/** Forces the portable implementation's JS path: every call sees fewer than 20 bytes. */
function jsPath(crc: number, data: Uint8Array, step = 1): number {
  let c = crc;
  for (let i = 0; i < data.length; i += step) c = crc32cPortable(c, data.subarray(i, Math.min(i + step, data.length)));
  return c;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('CRC-32C', () => {
  it('check value: CRC-32C("123456789") = 0xE3069283', () => {
    expect(crc32cUpdate(0, utf8('123456789'))).toBe(0xe3069283);
    expect(crc32cRef(0, utf8('123456789'))).toBe(0xe3069283);
    // The same through the native path (≥ 48 bytes is native): continue over a long prefix and compare.
    const long = utf8('123456789'.repeat(10));
    expect(crc32cUpdate(0, long)).toBe(crc32cRef(0, long));
  });

  it('the CRC of nothing is 0, and an empty update keeps any value', () => {
    expect(crc32cUpdate(0, new Uint8Array(0))).toBe(0);
    expect(crc32cUpdate(0xdeadbeef, new Uint8Array(0))).toBe(0xdeadbeef);
    expect(crc32cUpdate(-1, new Uint8Array(0))).toBe(0xffffffff);
  });

  it('results are unsigned 32-bit numbers', () => {
    for (let n = 0; n < 100; n++) {
      const c = crc32cUpdate(n * 0x9e3779b9, randomBytes(n, n + 1));
      expect(Number.isInteger(c) && c >= 0 && c <= 0xffffffff).toBe(true);
    }
  });

  it('format document values: CRC-32C("somedata") = 0x741F6A05; continuing with 08 00 10 00 gives 0x18206D80', () => {
    const a = crc32cUpdate(0, utf8('somedata'));
    expect(a).toBe(0x741f6a05);
    expect(crc32cUpdate(a, unhex('08001000'))).toBe(0x18206d80);
    expect(crc32cUpdate(0, unhex('736f6d656461746108001000'))).toBe(0x18206d80);
  });

  it("TestReadRecord's record: crc 99 b5 e4 d0 03 (varint) is CRC-32C of 08 ef fd 02", () => {
    const v = 0x19 | (0x35 << 7) | (0x64 << 14) | (0x50 << 21);
    expect(crc32cUpdate(0, unhex('08effd02'))).toBe((v + 3 * 2 ** 28) >>> 0);
  });

  it("TestLastRecordLengthExceedFileEnd's entry crc 0xF0B705BA continues from an empty metadata record", () => {
    // Records: CRC{0}, Metadata{nil} (crc 0), Snapshot{0,0}, then the entry: the chain covers the snapshot's data.
    const afterSnap = crc32cUpdate(0, unhex('08001000'));
    const entry = unhex('0800100018012208');
    const c = crc32cUpdate(afterSnap, new Uint8Array([...entry, ...utf8('waldata1')]));
    expect(c).toBe(0xf0b705ba);
  });

  it('property: continuation over random splits — update(update(c, A), B) = update(c, A‖B)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, cuts, seed) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          let c = seed;
          let prev = 0;
          for (const p of [...points, data.length]) {
            c = crc32cUpdate(c, data.subarray(prev, p));
            prev = p;
          }
          expect(c).toBe(crc32cUpdate(seed, data));
          expect(c).toBe(crc32cRef(seed, data));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('JS path and native path agree at every length 0..200 (from 0 and from a running value; Buffer, Uint8Array, offset views)', () => {
    const backing = randomBytes(260, 7);
    for (let n = 0; n <= 200; n++) {
      for (const seed of [0, 0xffffffff, 0x741f6a05]) {
        const view = backing.subarray(37, 37 + n); // a view with a non-zero byteOffset
        const plain = view.slice(); // a plain Uint8Array at offset 0
        const buf = Buffer.from(plain);
        const ref = crc32cRef(seed, plain);
        const native = nativeCrc32c(buf, seed) >>> 0;
        expect(native, `native n=${n}`).toBe(ref);
        expect(jsPath(seed, plain), `js n=${n}`).toBe(ref);
        expect(jsPath(seed, plain, 19), `js 19-byte steps n=${n}`).toBe(ref);
        expect(crc32cUpdate(seed, plain), `crc32cUpdate(Uint8Array) n=${n}`).toBe(ref);
        expect(crc32cUpdate(seed, view), `crc32cUpdate(view at offset 37) n=${n}`).toBe(ref);
        expect(crc32cUpdate(seed, buf), `crc32cUpdate(Buffer) n=${n}`).toBe(ref);
        expect(crc32cPortable(seed, view), `crc32cPortable(view) n=${n}`).toBe(ref);
        expect(crc32cPortable(seed, backing, 37, 37 + n), `crc32cPortable(range) n=${n}`).toBe(ref);
        expect(crc32cUpdateRange(seed, backing, 37, 37 + n), `crc32cUpdateRange n=${n}`).toBe(ref);
      }
    }
  });

  it('large inputs (native path) match the reference', () => {
    for (const n of [4096, 65536 + 13, 1 << 20]) {
      const b = randomBytes(n, n);
      expect(crc32cUpdate(0x12345678, b)).toBe(crc32cRef(0x12345678, b));
      expect(crc32cPortable(0x12345678, b)).toBe(crc32cRef(0x12345678, b));
    }
  });

  it('uses @walnut/native on x86-64 Linux with SSE4.2 (the workspace builds it; CI must not silently fall back)', () => {
    const sse42 = process.platform === 'linux' && process.arch === 'x64' && /\bsse4_2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    if (sse42) expect(crc32cImplementation).toBe('@walnut/native');
    else expect(['@walnut/native', '@node-rs/crc32']).toContain(crc32cImplementation);
  });
});
