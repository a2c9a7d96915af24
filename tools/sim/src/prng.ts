/**
 * splitmix64: the simulation's only source of randomness (no Math.random, no clock), so a seed replays
 * exactly on any machine. `fork` derives an independent stream, so that adding a draw to one concern (say,
 * the scheduler) does not shift every later decision of another (the workload).
 */

const MASK64 = (1n << 64n) - 1n;

export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint | number) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  /** The next 64-bit value. */
  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }

  /** An integer in [0, n), n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`int(${n})`);
    return Number((this.next() >> 32n) % BigInt(n));
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `percent`/100. */
  chance(percent: number): boolean {
    return this.int(10_000) < percent * 100;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One key of a table of weights. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += Math.max(0, weights[k]);
    let r = this.int(Math.max(1, Math.ceil(total)));
    for (const k of keys) {
      const w = Math.max(0, weights[k]);
      if (r < w) return k;
      r -= w;
    }
    return keys[keys.length - 1]!;
  }

  /** An independent stream derived from this one. */
  fork(): SplitMix64 {
    return new SplitMix64(this.next());
  }
}

/** `n` pseudo-random bytes from `seed` (mulberry32 over the seed's low 32 bits; fast for 1 MiB payloads). */
export function fillBytes(seed: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = Number(BigInt.asUintN(32, seed ^ (seed >> 32n))) | 0;
  let i = 0;
  while (i < n) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    t = (t ^ (t >>> 14)) >>> 0;
    for (let k = 0; k < 4 && i < n; k++, i++) out[i] = (t >>> (8 * k)) & 0xff;
  }
  return out;
}
