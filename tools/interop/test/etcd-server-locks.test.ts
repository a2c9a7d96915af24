// Lock interop with a real etcd server (Debian's etcd-server 3.4, installed by the test setup when missing):
//
// - while etcd runs, walnut cannot open its live member/wal for writing: ELOCKED (both take
//   open-file-description locks on the segments, DESIGN §2);
// - an etcd started on a data directory whose WAL walnut holds open fails to start;
// - after etcd stops, walnut reads its WAL exactly as etcd's own code does (the etcdwal harness), as text:
//   the HardState's vote is a member id above 2^53.
//
// etcd listens on 127.0.0.1 ports of its own (free ones asked of the kernel), in a temporary data directory;
// every etcd started here is killed in afterAll.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFileSystem } from '@walnut/fs-node';
import { canonicalDump, formatCanonicalDump, LockedError, Wal } from '@walnut/wal-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapPosition } from '../src/etcdwal.js';
import { errorOf, etcdDump } from '../src/etcdwal.js';
import type { EtcdBinaries, EtcdProcess } from '../src/etcd-server.js';
import { ensureEtcdServer, etcdctl, freePort, startEtcd, waitHealthy } from '../src/etcd-server.js';
import { ensureReferenceHarness } from '../src/reference-harness.js';
import { copyDir, listFiles } from '../src/wal-dir.js';

const ZERO: SnapPosition = { index: 0n, term: 0n };
const KEYS = 25;
const fs = new NodeFileSystem();

let bins: EtcdBinaries;
let etcdwalBin: string;
let base: string;
let dataDir: string;
let walDir: string;
const started: EtcdProcess[] = [];

async function start(tag: string): Promise<EtcdProcess> {
  const p = startEtcd(bins.etcd, {
    dataDir,
    clientPort: await freePort(),
    peerPort: await freePort(),
    logFile: join(base, `etcd-${tag}.log`),
    name: 'walnut-locks',
    // No snapshot for this handful of writes: the WAL is read at 0:0.
    snapshotCount: 100_000,
  });
  started.push(p);
  return p;
}

async function logOf(p: EtcdProcess): Promise<string> {
  const [log, early] = await Promise.all([
    readFile(p.logFile, 'utf8').catch(() => ''),
    readFile(`${p.logFile}.stderr`, 'utf8').catch(() => ''),
  ]);
  return `${early}${log}`;
}

beforeAll(async () => {
  // apt-get install etcd-server etcd-client if missing (~20 s), and the etcdwal harness (Go build, cached).
  [bins, etcdwalBin] = await Promise.all([ensureEtcdServer(), ensureReferenceHarness()]);
  base = await mkdtemp(join(tmpdir(), 'walnut-etcd-locks-'));
  dataDir = join(base, 'data');
  walDir = join(dataDir, 'member', 'wal');
}, 600_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop(2_000)));
  if (base) await rm(base, { recursive: true, force: true });
});

describe('lock interop with a real etcd server', () => {
  let etcd: EtcdProcess;

  it(`etcd starts on 127.0.0.1 and takes ${KEYS} writes through etcdctl`, async () => {
    etcd = await start('first');
    await waitHealthy(etcd, 30_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await logOf(etcd)}`);
    });
    for (let i = 1; i <= KEYS; i++) await etcdctl(bins.etcdctl, etcd.endpoint, ['put', `walnut/key-${i}`, `value ${i} `.repeat(i)]);
    expect((await etcdctl(bins.etcdctl, etcd.endpoint, ['get', 'walnut/key-3', '--print-value-only'])).trim()).toBe(
      'value 3 value 3 value 3',
    );
  });

  it('walnut cannot open the live member/wal for writing: ELOCKED, and it leaves the directory as it was', async () => {
    const before = (await fs.readdir(walDir)).sort();
    expect(before.some((n) => n.endsWith('.wal'))).toBe(true);
    const e = await Wal.open(fs, walDir, ZERO).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LockedError);
    expect((e as LockedError).code).toBe('ELOCKED');
    expect((e as LockedError).path).toMatch(/\.wal$/);
    expect((await fs.readdir(walDir)).sort()).toEqual(before);
    // The same for a single segment, through the FileSystem directly.
    const segment = before.find((n) => n.endsWith('.wal'))!;
    const h = await fs.open(join(walDir, segment), 'readWrite');
    try {
      await expect(h.tryLock()).rejects.toMatchObject({ code: 'ELOCKED' });
    } finally {
      await h.close();
    }
    expect(etcd.child.exitCode).toBeNull(); // and etcd is still running
  });

  it('an etcd started on a WAL directory that walnut holds open fails to start', async () => {
    await etcd.stop();
    const held = await Wal.open(fs, walDir, ZERO);
    try {
      const second = await start('second');
      const outcome = await Promise.race([
        second.exited,
        waitHealthy(second, 30_000).then(
          () => 'healthy' as const,
          () => 'not healthy' as const,
        ),
      ]);
      const log = await logOf(second);
      expect(outcome, `etcd should have failed to start:\n${log}`).not.toBe('healthy');
      const exit = await Promise.race([second.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
      expect(exit, `etcd should have exited:\n${log}`).toBeDefined();
      expect(exit!.code === 0 && exit!.signal === null, `etcd's exit: ${JSON.stringify(exit)}`).toBe(false);
      // etcd's fileutil.ErrLocked, reported when its wal.Open cannot lock a segment.
      expect(log).toContain('file already locked');
    } finally {
      await held.close();
    }
  });

  it("after etcd stops, walnut reads its WAL exactly as etcd's own code does (etcdwal dump, as text)", async () => {
    const etcdText = await etcdDump(etcdwalBin, walDir, ZERO);
    expect(errorOf(etcdText), `etcdwal dump ${walDir} --snap 0:0`).toBeNull();
    const walnutText = formatCanonicalDump(await canonicalDump(fs, walDir, ZERO, { write: false }));
    expect(walnutText).toBe(etcdText);
    // What the dump holds: every put (plus raft's own entries), and a vote for a member id above 2^53.
    const entries = (etcdText.match(/"index": /g) ?? []).length;
    expect(entries).toBeGreaterThan(KEYS);
    const vote = /"vote": (\d+)/.exec(etcdText)?.[1];
    expect(vote).toBeDefined();
    expect(BigInt(vote!)).toBeGreaterThan(0n);
  });

  it('in write mode too (on copies): the same dump, and the same files afterwards', async () => {
    const a = join(base, 'copy-etcd');
    const b = join(base, 'copy-walnut');
    await copyDir(walDir, a);
    await copyDir(walDir, b);
    const etcdText = await etcdDump(etcdwalBin, a, ZERO, true);
    expect(errorOf(etcdText)).toBeNull();
    // etcdwal sets wal.SegmentSizeBytes to 64 KiB; walnut's write-mode open preallocates the same.
    const walnutText = formatCanonicalDump(await canonicalDump(fs, b, ZERO, { write: true, segmentSizeBytes: 64 * 1024 }));
    expect(walnutText).toBe(etcdText);
    expect(await listFiles(b)).toEqual(await listFiles(a));
  });
});
