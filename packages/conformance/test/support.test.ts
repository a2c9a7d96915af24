import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeededRandom, fill, goldenDatasets, goldenDir, sharedDir } from '../src/index.js';

// The suites' own tools must be right before they can judge a backend.
describe('conformance support', () => {
  it('finds ../shared from the repository root, whatever the working directory', () => {
    const before = process.cwd();
    try {
      process.chdir('/');
      expect(goldenDatasets()).toContain('basic');
    } finally {
      process.chdir(before);
    }
  });

  it('WALNUT_SHARED_DIR points the suite at a copy of shared/ (a backend outside this repository); a wrong one is refused', () => {
    const here = sharedDir();
    const before = process.env['WALNUT_SHARED_DIR'];
    try {
      process.env['WALNUT_SHARED_DIR'] = join(here, 'testdata', '..');
      expect(sharedDir()).toBe(here);
      process.env['WALNUT_SHARED_DIR'] = join(here, 'testdata');
      expect(() => sharedDir()).toThrow(/holds no testdata\/etcd34/);
    } finally {
      if (before === undefined) delete process.env['WALNUT_SHARED_DIR'];
      else process.env['WALNUT_SHARED_DIR'] = before;
    }
  });

  it("fill() is the reference harness's splitmix64 generator (its data hashes to etcd's dump)", () => {
    const ops = JSON.parse(readFileSync(join(goldenDir(), 'basic', 'ops.json'), 'utf8'));
    const expected = JSON.parse(readFileSync(join(goldenDir(), 'basic', 'expected.json'), 'utf8'));
    const entries = ops.ops.filter((o: { op: string }) => o.op === 'save').flatMap((o: { entries: unknown[] }) => o.entries);
    const hashes = entries.map((e: { seed: string; len: number }) =>
      createHash('sha256')
        .update(fill(BigInt(e.seed), e.len))
        .digest('hex'),
    );
    expect(hashes).toEqual(expected.read.entries.map((e: { dataSha256: string }) => e.dataSha256));
  });

  it('SeededRandom repeats for a seed and differs across seeds', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const xs = [a.next64(), a.next64(), a.int(1000)];
    expect([b.next64(), b.next64(), b.int(1000)]).toEqual(xs);
    expect(c.next64()).not.toBe(xs[0]);
  });
});
