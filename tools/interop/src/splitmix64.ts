/**
 * splitmix64, bit for bit the generator of `../shared/reference/etcdwal` (and its README), so that
 * workloads are reproducible from a seed alone, on any machine (no Math.random).
 */

const MASK64 = (1n << 64n) - 1n;

export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  /** The next 64-bit value. */
  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }

  /** Uniform-enough integer in [0, n) (`next() % n`, like etcdwal's intn). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`int(${n})`);
    return Number(this.next() % BigInt(n));
  }

  /** True with probability `percent`/100. */
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** etcdwal's `fill(seed, n)`: the first n bytes of the little-endian stream of a generator seeded with `seed`. */
export function fill(seed: bigint, n: number): Uint8Array {
  const rng = new SplitMix64(seed);
  const words = Math.ceil(n / 8);
  const out = new Uint8Array(words * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words; i++) view.setBigUint64(i * 8, rng.next(), true);
  return out.subarray(0, n);
}
