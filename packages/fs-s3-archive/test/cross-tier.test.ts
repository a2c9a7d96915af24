// etcd's own WALs read across both tiers: every golden etcd 3.4 dataset, with every segment but the
// newest archived, must read, verify and list snapshots exactly as the same files all on local disk —
// the same records, or the same typed error.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal, canonicalDump, isWalError, writeFully, type FileSystem } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { goldenDatasets, goldenDir } from '@walnut/conformance';
import { MemoryObjectStore, S3ArchiveFileSystem, archiveSegments } from '../src/index.js';

const DIR = '/etcd/member/wal';

async function load(dataset: string): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem({ seed: 1 });
  await fs.mkdir(DIR, { recursive: true });
  const from = join(goldenDir(), dataset, 'wal');
  for (const name of readdirSync(from).sort()) {
    const bytes = readFileSync(join(from, name));
    const h = await fs.open(`${DIR}/${name}`, 'createExclusive');
    await writeFully(h, bytes, 0, bytes.length, 0);
    await h.sync();
    await h.close();
  }
  await fs.syncDir(DIR);
  return fs;
}

/** An outcome comparable across tiers: the value, or the error's code. */
async function outcome<T>(f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    if (!isWalError(e)) throw e;
    return { ok: false, code: e.code };
  }
}

async function everything(fs: FileSystem, snap: { index: bigint; term: bigint }) {
  return {
    read: await outcome(() => canonicalDump(fs, DIR, snap, { write: false })),
    verify: await outcome(() => Wal.verify(fs, DIR, snap)),
    snapshots: await outcome(() => Wal.validSnapshotEntries(fs, DIR)),
  };
}

describe('golden etcd 3.4 WALs, older segments archived', () => {
  let archivedSomewhere = 0;
  for (const dataset of goldenDatasets()) {
    it(`${dataset}: the same reads, verify and snapshots from both tiers as from local disk`, async () => {
      const expected = JSON.parse(readFileSync(join(goldenDir(), dataset, 'expected.json'), 'utf8')) as {
        snap: { index: number; term: number };
        alsoAt?: { snap: { index: number; term: number } }[];
      };
      const local = await load(dataset);
      const mem = await load(dataset);
      const store = new MemoryObjectStore();
      const fs = new S3ArchiveFileSystem(mem, store, { prefix: 'etcd/', root: '/etcd' });
      // A segment that does not decode is never archived: the round stops there with a typed error (those
      // before it stay archived).
      const round = await outcome(() => archiveSegments(fs, DIR, { max: 1, concurrency: 1 }));
      if (round.ok) expect(store.keys()).toEqual(round.value.archived.map((n) => `etcd/member/wal/${n}`));
      else expect(round.code).toBe('ARCHIVE_CORRUPT');
      archivedSomewhere += store.keys().length;
      expect((await fs.readdir(DIR)).sort()).toEqual((await local.readdir(DIR)).sort());

      const snaps = [expected.snap, ...(expected.alsoAt ?? []).map((a) => a.snap)].map((s) => ({
        index: BigInt(s.index),
        term: BigInt(s.term),
      }));
      for (const snap of snaps) expect(await everything(fs, snap), `${dataset} at ${snap.index}`).toEqual(await everything(local, snap));
    });
  }

  it('(the datasets above did archive segments)', () => {
    expect(archivedSomewhere).toBeGreaterThan(3);
  });
});
