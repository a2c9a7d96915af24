/**
 * The walnut bugs the simulation found and that are not fixed yet (KNOWN_ISSUES in runner.ts), each
 * reproduced directly. The simulator works around them so that CI keeps searching for new
 * bugs; these tests assert that each one still reproduces. When one of them fails, walnut has fixed the bug:
 * delete the test, the issue's entry and its workaround (then `npm run sim -- --strict` must pass).
 */
import { describe, expect, it } from 'vitest';
import { Wal, type Entry } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { KNOWN_ISSUES, runSeed } from '../src/runner.js';

const DIR = '/data/wal';
const entry = (index: bigint, size = 100): Entry => ({
  index,
  term: 1n,
  type: 0,
  data: new Uint8Array(size).fill(Number(index % 250n) + 1),
});

async function disk(): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ seed: 1 });
  await fs.mkdir('/data');
  await fs.syncDir('/');
  return fs;
}

async function names(fs: MemoryFileSystem): Promise<string[]> {
  return (await fs.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort();
}

describe('known walnut issues still reproduce', () => {
  it('byte-torn-tail: a record cut at a byte offset, not a sector, makes the WAL unstartable', async () => {
    expect(KNOWN_ISSUES['byte-torn-tail']).toBeTruthy();
    const fs = await disk();
    const w = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 1 << 16 });
    await w.save({ term: 1n, vote: 1n, commit: 0n }, [entry(1n, 300), entry(2n, 300)]);
    await w.close();
    // What a short write followed by a crash leaves: the last record's final bytes never written (zeros),
    // less than a 512-byte sector, so no all-zero sector chunk.
    const [seg] = await names(fs);
    const h = await fs.open(`${DIR}/${seg}`, 'readWrite');
    const size = (await fs.stat(`${DIR}/${seg}`)).size;
    const buf = new Uint8Array(size);
    await h.read(buf, 0, size, 0);
    let end = size;
    while (end > 0 && buf[end - 1] === 0) end--; // end of the last record
    await h.write(new Uint8Array(40), 0, 40, end - 40);
    await h.close();
    const w2 = await Wal.open(fs, DIR, { index: 0n, term: 0n });
    await expect(w2.readAll()).rejects.toMatchObject({ code: 'WAL_CRC_MISMATCH' });
    await w2.close();
    expect(await Wal.repair(fs, DIR)).toBe(false);
  });

  it('the simulator finds them when its workarounds are off', async () => {
    // Seeds that hit each issue with only that workaround off (see the README); the trace says which.
    const cases = [{ seed: 147n, issue: 'byte-torn-tail', match: /damaged at a byte offset/ }] as const;
    for (const c of cases) {
      const r = await runSeed(c.seed, { strict: [c.issue] });
      expect(r.ok, `seed ${c.seed} no longer shows ${c.issue}: find another with npm run sim -- --strict-only ${c.issue}`).toBe(false);
      expect(r.failure).toMatch(c.match);
      const fine = await runSeed(c.seed);
      expect(fine.ok, fine.failure).toBe(true);
    }
  });
});
