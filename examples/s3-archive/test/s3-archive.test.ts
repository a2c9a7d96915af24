import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

it('archives released segments to S3, reads across both tiers and restores at a snapshot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walnut-s3-example-'));
  try {
    const prefix = `walnut-test/example-s3-archive/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/`;
    const { stdout } = await promisify(execFile)(process.execPath, [main, join(dir, 'node'), prefix], {
      env: { ...process.env, ...inject('s3') },
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`archiving ${join(dir, 'node')}/wal to s3://${inject('s3').S3_BUCKET}/${prefix}wal/`);
    const patterns = [
      /^saved 300 entries in \d+ segments, snapshots at 100, 200, 300$/,
      /^archive round: (\d+) segments archived \(\d+ bytes\), 1 left on local disk$/,
      /^verify --deep: (\d+) archived segments, (\d+) downloaded and checked, ok: true$/,
      /^read across both tiers: 300 entries \(1\.\.300\)$/,
      /^restored at 200:1: \d+ segments \(\d+ from the archive, \d+ bytes downloaded\)$/,
      /^restored WAL: 100 entries \(201\.\.300\), commit 300$/,
    ];
    expect(lines).toHaveLength(1 + patterns.length);
    patterns.forEach((p, k) => expect(lines[k + 1]).toMatch(p));
    const archived = Number(patterns[1]!.exec(lines[2]!)![1]);
    const [, listed, checked] = patterns[2]!.exec(lines[3]!)!;
    expect(archived).toBeGreaterThan(0);
    expect([Number(listed), Number(checked)]).toEqual([archived, archived]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
