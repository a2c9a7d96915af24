// End to end against the real S3 server (Ceph RGW, started by fs-s3-archive's global setup): the archive
// commands as an operator runs them, on local disk (fs-node) with the default S3ObjectStore built from the
// S3_* environment: push, ls, verify --deep, restore at a snapshot, prune.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { EntryType, Wal, type Entry } from '@walnut/wal-core';
import { NodeFileSystem } from '@walnut/fs-node';
import { runCli } from '../src/index.js';
import { cleanupTemp, tempDir } from './helpers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running test server's settings (S3_ENDPOINT, S3_BUCKET, ...), from fs-s3-archive's test/s3-server.ts. */
    s3: Record<string, string>;
  }
}

afterAll(cleanupTemp);

function entry(i: number): Entry {
  const data = new Uint8Array(700 + ((i * 37) % 900));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

async function run(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }, { env });
  return { code, stdout, stderr };
}

describe('walnut archive / restore against a real S3 server', () => {
  it('push, ls, verify --deep, restore --snap --live, prune --yes', async () => {
    const env = inject('s3');
    expect(env.S3_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const fs = new NodeFileSystem();
    const dir = join(tempDir('walnut-cli-s3-'), 'wal');
    const wal = await Wal.create(fs, dir, new TextEncoder().encode('meta'), { segmentSizeBytes: 16 * 1024 });
    for (let i = 1; i <= 120; i++) {
      await wal.save({ term: 1n, vote: 2n, commit: BigInt(i) }, [entry(i)]);
      if (i % 20 === 0) await wal.saveSnapshot({ index: BigInt(i), term: 1n });
    }
    await wal.close();
    const loc = ['--prefix', `walnut-test/cli/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/wal/`];

    const push = await run(['archive', 'push', dir, ...loc, '--max', '2', '--json'], env);
    expect(push.stderr).toBe('');
    const pushed = JSON.parse(push.stdout) as { archived: string[] };
    expect(pushed.archived.length).toBeGreaterThan(5);

    const ls = JSON.parse((await run(['archive', 'ls', ...loc, '--json'], env)).stdout) as {
      segments: { name: string }[];
      problems: unknown[];
    };
    expect(ls.segments.map((s) => s.name)).toEqual(pushed.archived);
    expect(ls.problems).toEqual([]);

    const deep = await run(['archive', 'verify', ...loc, '--deep'], env);
    expect(deep.code).toBe(0);
    expect(deep.stdout).toMatch(/^ok: .*; all \d+ downloaded/);

    const to = join(tempDir('walnut-cli-s3-restore-'), 'wal');
    const restore = await run(['restore', ...loc, '--to', to, '--snap', '60:1', '--live', dir], env);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/\nok: .* verifies from snapshot 60:1; hard state: term=1 vote=2 commit=120\n$/);
    const w = await Wal.openForRead(fs, to, { index: 60n, term: 1n });
    expect((await w.readAll()).entries.map((e) => Number(e.index))).toEqual(Array.from({ length: 60 }, (_, i) => i + 61));
    await w.close();

    const prune = JSON.parse((await run(['archive', 'prune', ...loc, '--before', '60', '--yes', '--json'], env)).stdout) as {
      removed: { name: string }[];
      remaining: number;
    };
    expect(prune.removed.length).toBeGreaterThan(0);
    expect(prune.remaining).toBe(pushed.archived.length - prune.removed.length);
    expect((await run(['archive', 'verify', ...loc], env)).code).toBe(0);
  });
});
