// The built etcdwal must reproduce the published etcd 3.4 datasets' `read` dumps: proves the binary in
// .reference-bin is the real harness against the real etcd sources before anything is compared with it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { etcdDump, stringifyLikeGo } from '../src/etcdwal.js';
import { ensureReferenceHarness, sharedDir } from '../src/reference-harness.js';

let bin: string;

beforeAll(async () => {
  bin = await ensureReferenceHarness();
}, 600_000);

describe('etcdwal reference harness', async () => {
  const root = join(await sharedDir(), 'testdata', 'etcd34');
  const datasets: string[] = [];
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const text = await readFile(join(root, d.name, 'expected.json'), 'utf8').catch(() => undefined);
    // Only datasets whose numbers JSON.parse keeps exact (real-server's member ids exceed 2^53).
    if (text && !/[:,[] *\d{16,}/.test(text)) datasets.push(d.name);
  }

  it('finds the datasets', () => expect(datasets).toContain('basic'));

  for (const name of datasets) {
    it(`dumps ${name} as expected.json's read`, async () => {
      const expected = JSON.parse(await readFile(join(root, name, 'expected.json'), 'utf8')) as {
        snap: { index: number; term: number };
        read: unknown;
      };
      const snap = { index: BigInt(expected.snap.index), term: BigInt(expected.snap.term) };
      expect(await etcdDump(bin, join(root, name, 'wal'), snap)).toBe(stringifyLikeGo(expected.read));
    });
  }
});
