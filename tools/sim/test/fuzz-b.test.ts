/**
 * Structure-aware fuzzing in CI, second half: cases 10000..19999 (fuzz-a.test.ts runs 0..9999). Zero uncaught
 * exceptions, hangs, oversized allocations, leaked handles, or results the checks reject. The long run is
 * `npm run sim -- --fuzz 1000000` (README).
 */
import { describe, expect, it } from 'vitest';
import { fuzzRange } from './support.js';

describe('fuzz, cases 10000..19999', () => {
  it('every case passes', async () => {
    const failures = await fuzzRange(10_000, 10_000);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});
