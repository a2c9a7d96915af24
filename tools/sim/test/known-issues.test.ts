/**
 * The walnut bugs the simulation and the fuzzer found (KNOWN_ISSUES in runner.ts, FUZZ_KNOWN_ISSUES in
 * fuzz.ts), each reproduced directly. The simulator works around them so that CI keeps searching for new
 * bugs; these tests assert that each one still reproduces. When one of them fails, walnut has fixed the bug:
 * delete the test, the issue's entry and its workaround (then `npm run sim -- --strict` must pass).
 */
import { describe, expect, it } from 'vitest';
import { Wal, type Entry } from '@walnut/wal-core';
import { FaultInjectingFileSystem, MemoryFileSystem } from '@walnut/fs-memory';
import { FUZZ_KNOWN_ISSUES } from '../src/fuzz.js';
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
  it('open-dir-not-synced: after a cut whose directory sync failed, saves acknowledged in the new segment are lost', async () => {
    expect(KNOWN_ISSUES['open-dir-not-synced']).toBeTruthy();
    const mem = await disk();
    const fi = new FaultInjectingFileSystem(mem, { seed: 1 });
    const w = await Wal.create(fi, DIR, undefined, { segmentSizeBytes: 4096 });
    fi.addFault({ kind: 'syncDir', path: DIR, error: 'EIO' });
    let i = 1n;
    await expect(
      (async () => {
        for (; i < 100n; i++) await w.save({ term: 1n, vote: 1n, commit: i - 1n }, [entry(i, 300)]);
      })(),
    ).rejects.toMatchObject({ code: 'EIO' }); // the cut renamed the new segment; its directory sync failed
    await w.close();
    const segments = await names(mem);
    expect(segments).toHaveLength(2);
    // The process restarts (no reboot): open, read, append — acknowledged, into the second segment.
    const w2 = await Wal.open(mem, DIR, { index: 0n, term: 0n }, { segmentSizeBytes: 4096 });
    const { entries } = await w2.readAll();
    const next = entries[entries.length - 1]!.index + 1n;
    await w2.save({ term: 1n, vote: 1n, commit: next - 1n }, [entry(next)]);
    // A power cut: the second segment's name was never made durable.
    const after = mem.crash({ mode: 'durable-only' });
    expect(await names(after)).toEqual([segments[0]]);
    const w3 = await Wal.open(after, DIR, { index: 0n, term: 0n });
    const back = await w3.readAll();
    await w3.close();
    expect(back.entries.some((e) => e.index === next)).toBe(false);
  });

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

  it('lenient-name-sort: walnut appends to a WAL with a lenient tail name, then cannot reopen it', async () => {
    expect(FUZZ_KNOWN_ISSUES['lenient-name-sort']).toBeTruthy();
    const fs = await disk();
    const w = await Wal.create(fs, DIR, undefined, { segmentSizeBytes: 1024 });
    for (let i = 1n; i <= 12n; i++) await w.save({ term: 1n, vote: 1n, commit: i }, [entry(i, 150)]);
    await w.close();
    const all = await names(fs);
    const last = all[all.length - 1]!;
    const lenient = `${BigInt(`0x${last.slice(0, 16)}`)
      .toString(16)
      .toUpperCase()}-${BigInt(`0x${last.slice(17, 33)}`).toString(16)}.wal`;
    await fs.rename(`${DIR}/${last}`, `${DIR}/${lenient}`);
    const w2 = await Wal.open(fs, DIR, { index: 0n, term: 0n }, { segmentSizeBytes: 1024 });
    const { entries } = await w2.readAll();
    let i = entries[entries.length - 1]!.index;
    while ((await names(fs)).length === all.length) {
      i++;
      await w2.save({ term: 1n, vote: 1n, commit: i }, [entry(i, 150)]); // until it cuts
    }
    await w2.close();
    await expect(Wal.openForRead(fs, DIR, { index: 0n, term: 0n })).rejects.toMatchObject({ code: 'WAL_SEQUENCE_GAP' });
  });

  it('the simulator finds them when its workarounds are off', async () => {
    // Seeds that hit each issue with only that workaround off (see the README); the trace says which.
    const cases = [
      { seed: 585n, issue: 'open-dir-not-synced', match: /acknowledged records lost/ },
      { seed: 147n, issue: 'byte-torn-tail', match: /damaged at a byte offset/ },
    ] as const;
    for (const c of cases) {
      const r = await runSeed(c.seed, { strict: [c.issue] });
      expect(r.ok, `seed ${c.seed} no longer shows ${c.issue}: find another with npm run sim -- --strict-only ${c.issue}`).toBe(false);
      expect(r.failure).toMatch(c.match);
      const fine = await runSeed(c.seed);
      expect(fine.ok, fine.failure).toBe(true);
    }
  });
});
