/**
 * The simulation in CI, second half: seeds 1000..1999 (sim-a.test.ts runs 0..999; vitest runs the two files
 * in parallel). Every seed must pass; a failure prints its replay command and the end of its trace.
 * A known failing seed may be excluded only with a comment pointing to its report (none are).
 */
import { describe, expect, it } from 'vitest';
import { simulateRange } from './support.js';

describe('simulation, seeds 1000..1999', () => {
  it('every seed passes', async () => {
    const failures = await simulateRange(1000, 1000);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});
