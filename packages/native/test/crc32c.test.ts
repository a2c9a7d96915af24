/**
 * The addon against a bit-at-a-time reference: the check value, Go's continuation semantics, every
 * length around the three-stream block boundaries at every alignment, views into shared buffers, and
 * the argument errors. Both paths (hardware and the table-driven fallback) are checked.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cSoftware, hardware } from '../src/index.js';

/** CRC-32C one bit at a time: slow, obviously right. */
function reference(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function bytes(n: number, seed: number): Uint8Array {
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

const paths = [
  ['crc32c', crc32c],
  ['crc32cSoftware', crc32cSoftware],
] as const;

describe.each(paths)('%s', (_name, f) => {
  it('check value: CRC-32C("123456789") = 0xE3069283; the CRC of nothing is 0', () => {
    expect(f(0, new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(f(0, new Uint8Array(0))).toBe(0);
    expect(f(0xdeadbeef, new Uint8Array(0))).toBe(0xdeadbeef);
  });

  it('matches the reference at every length around the block boundaries, at every alignment', () => {
    const big = bytes(3 * 8192 * 2 + 64, 7);
    const lengths = new Set<number>();
    for (const edge of [0, 8, 3 * 256, 3 * 8192, 2 * 3 * 8192]) for (let d = -9; d <= 9; d++) if (edge + d >= 0) lengths.add(edge + d);
    for (const n of [1, 2, 3, 5, 7, 100, 255, 1000, 4096, 30000]) lengths.add(n);
    for (const n of lengths) {
      for (let align = 0; align < 8; align++) {
        const view = big.subarray(align, align + n);
        const want = reference(0x12345678, view);
        expect(f(0x12345678, view)).toBe(want);
        // The same bytes by range, without a view.
        expect(f(0x12345678, big, align, align + n)).toBe(want);
      }
    }
  });

  it('continues like Go crc32.Update: f(f(0, a), b) = f(0, a ‖ b)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 30000 }), fc.nat(0xffffffff), (a, b, seed) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        expect(f(f(seed, a), b)).toBe(f(seed, ab));
        expect(f(seed, ab)).toBe(reference(seed, ab));
      }),
      { numRuns: 200 },
    );
  });

  it('reads a Buffer from the shared pool at its own offset', () => {
    const buf = Buffer.from('walnut writes etcd-compatible logs');
    expect(buf.byteOffset).toBeGreaterThanOrEqual(0);
    expect(f(0, buf)).toBe(reference(0, new Uint8Array(buf)));
    expect(f(0, new Uint8ClampedArray(buf) as unknown as Uint8Array)).toBe(reference(0, new Uint8Array(buf)));
  });

  it('refuses what is not a CRC, bytes or a range, with typed errors', () => {
    const d = new Uint8Array(10);
    for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity, '1', undefined, 1n]) {
      expect(() => f(bad as number, d)).toThrow(TypeError);
    }
    for (const bad of [new Uint16Array(4), new ArrayBuffer(4), [1, 2], 'abc', null, new DataView(new ArrayBuffer(4))]) {
      expect(() => f(0, bad as unknown as Uint8Array)).toThrow(TypeError);
    }
    expect(() => f(0, d, 5, 4)).toThrow(RangeError);
    expect(() => f(0, d, 0, 11)).toThrow(RangeError);
    expect(() => f(0, d, -1, 3)).toThrow(RangeError);
    expect(() => (f as (c: number, d: Uint8Array, s: number) => number)(0, d, 3)).toThrow(TypeError);
    expect(f(0, d, 10, 10)).toBe(0);
  });
});

describe('hardware', () => {
  it('is used on x86-64 CPUs with SSE4.2', () => {
    const sse42 = process.arch === 'x64' && /\bsse4_2\b/.test(safeRead('/proc/cpuinfo'));
    if (process.platform === 'linux') expect(hardware).toBe(sse42);
    else expect(typeof hardware).toBe('boolean');
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
