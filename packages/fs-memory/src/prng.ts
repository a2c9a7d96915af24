/**
 * The one source of randomness of this package: splitmix64, seeded explicitly. Nothing here reads
 * the clock or calls `Math.random`, so a seed replays exactly on any machine and Node version.
 *
 * Booleans are drawn one bit at a time from a 64-bit output (a tearing decision per 512-byte sector
 * of a multi-MiB write would otherwise cost one BigInt multiplication per sector).
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/** A seed as the API accepts it, as an unsigned 64-bit bigint; throws RangeError on a non-integer number. */
export function toSeed(seed: number | bigint, what = 'seed'): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`${what} must be an integer, got ${seed}`);
  if (typeof seed !== 'number' && typeof seed !== 'bigint') throw new RangeError(`${what} must be a number or a bigint`);
  return BigInt(seed);
}

/** splitmix64's output function: a well-mixed 64-bit value of `x`. */
export function mix64(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** A seed derived from `seed` and a counter (e.g. the n-th crash of a file system). */
export function deriveSeed(seed: bigint, counter: number | bigint): bigint {
  return mix64((BigInt.asUintN(64, seed) ^ mix64(BigInt(counter) * GOLDEN)) + GOLDEN);
}

/** splitmix64 (Steele, Lea, Flood 2014): small, fast enough, and identical everywhere. */
export class SplitMix64 {
  #state: bigint;
  #bits = 0n;
  #bitsLeft = 0;

  constructor(seed: number | bigint) {
    this.#state = BigInt.asUintN(64, toSeed(seed));
  }

  /** The next 64-bit value. */
  next(): bigint {
    this.#state = (this.#state + GOLDEN) & MASK64;
    return mix64(this.#state);
  }

  /** An integer in [0, n), for 0 < n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`SplitMix64.int(${n})`);
    return Number((this.next() >> 32n) % BigInt(n));
  }

  /** A number in [0, 1) with 53 random bits. */
  float(): number {
    return Number(this.next() >> 11n) / 2 ** 53;
  }

  /** True with probability 1/2 (one bit of a cached 64-bit output). */
  bool(): boolean {
    if (this.#bitsLeft === 0) {
      this.#bits = this.next();
      this.#bitsLeft = 64;
    }
    const bit = (this.#bits & 1n) === 1n;
    this.#bits >>= 1n;
    this.#bitsLeft--;
    return bit;
  }

  /** True with probability `p` (0 never, 1 always). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }
}
