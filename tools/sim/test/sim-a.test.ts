/**
 * The simulation in CI, first half: seeds 0..999 (sim-b.test.ts runs 1000..1999; vitest runs the two files
 * in parallel). Every seed must pass; a failure prints its replay command and the end of its trace.
 * A known failing seed may be excluded only with a comment pointing to its report (none are).
 */
import { describe, expect, it } from 'vitest';
import { simulateRange } from './support.js';

describe('simulation, seeds 0..999', () => {
  it('every seed passes', async () => {
    const failures = await simulateRange(0, 1000);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});
