/** The same seed gives the same trace hash (and trace); the same fuzz case gives the same case and outcomes. */
import { describe, expect, it } from 'vitest';
import { runFuzzCase } from '../src/fuzz.js';
import { runSeed } from '../src/runner.js';

describe('determinism', () => {
  // A spread of seeds: with and without seeded I/O latencies, background purges, short writes, faults, crashes.
  const seeds = [0n, 1n, 7n, 24n, 98n, 111n, 173n, 193n, 585n, 2n ** 64n - 1n];

  it.each(seeds)('seed %s: same trace hash twice', async (seed) => {
    const a = await runSeed(seed, { verbose: true });
    const b = await runSeed(seed, { verbose: true });
    expect(a.ok, a.failure).toBe(true);
    expect(b.hash).toBe(a.hash);
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    expect(a.trace.length).toBeGreaterThan(10);
  });

  it('different seeds give different traces', async () => {
    const hashes = new Set<string>();
    for (const seed of seeds) hashes.add((await runSeed(seed)).hash);
    expect(hashes.size).toBe(seeds.length);
  });

  it('a fuzz case is the same case with the same outcomes every time', async () => {
    for (const id of [0n, 1n, 708n, 12345n]) {
      const a = await runFuzzCase(id);
      const b = await runFuzzCase(id);
      expect(b).toEqual(a);
    }
  });
});
