import { runFuzzCase, type FuzzResult } from '../src/fuzz.js';
import { runSeed, type RunOptions, type SeedResult } from '../src/runner.js';

/** Runs seeds from..from+n-1, skipping `exclude`; returns the failures, each formatted for the test report. */
export async function simulateRange(
  from: number,
  n: number,
  exclude: ReadonlySet<number> = new Set(),
  options: RunOptions = {},
): Promise<string[]> {
  const failures: string[] = [];
  for (let s = from; s < from + n; s++) {
    if (exclude.has(s)) continue;
    const r: SeedResult = await runSeed(BigInt(s), options);
    if (!r.ok) {
      failures.push(
        `seed ${s}: ${r.failure}\n  replay: npm run sim -- --seeds 1 --from ${s} --verbose\n  ${r.trace.slice(-30).join('\n  ')}`,
      );
    }
  }
  return failures;
}

/** Runs fuzz cases from..from+n-1; returns the failures, formatted. */
export async function fuzzRange(from: number, n: number): Promise<string[]> {
  const failures: string[] = [];
  for (let c = from; c < from + n; c++) {
    const r: FuzzResult = await runFuzzCase(BigInt(c));
    if (!r.ok) failures.push(`case ${c}: ${r.failure}\n  ${r.description}\n  replay: npm run sim -- --fuzz 1 --from ${c} --verbose`);
  }
  return failures;
}
