// The archive commands (archive ls | verify | push | prune, restore) over an in-memory object store and
// fs-memory, injected through runCli's options: output, --json, exit codes, hints, progress only on a TTY.
import { describe, expect, it } from 'vitest';
import { EntryType, Wal, type Entry } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore } from '@walnut/fs-s3-archive';
import { runCli, type ArchiveLocation, type CliOptions } from '../src/index.js';

const DIR = '/data/wal';
const PREFIX = 'node-1/wal/';

function entry(i: number): Entry {
  const data = new Uint8Array(700 + ((i * 37) % 900));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

/** A closed WAL of 120 entries in ~16 KiB segments with snapshots every 20 entries, on fs-memory. */
async function liveWal(): Promise<MemoryFileSystem> {
  const mem = new MemoryFileSystem({ seed: 11 });
  await mem.mkdir('/data', { recursive: true });
  const wal = await Wal.create(mem, DIR, new TextEncoder().encode('meta'), { segmentSizeBytes: 16 * 1024 });
  for (let i = 1; i <= 120; i++) {
    await wal.save({ term: 1n, vote: 2n, commit: BigInt(i) }, [entry(i)]);
    if (i % 20 === 0) await wal.saveSnapshot({ index: BigInt(i), term: 1n });
  }
  await wal.close();
  return mem;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function harness(mem: MemoryFileSystem, store: MemoryObjectStore, env: Record<string, string> = { S3_BUCKET: 'backups' }) {
  const seen: ArchiveLocation[] = [];
  const options: CliOptions = {
    fs: mem,
    env,
    objectStore: (loc) => {
      seen.push(loc);
      return store;
    },
  };
  const run = async (argv: string[], tty = false): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: tty }, options);
    return { code, stdout, stderr };
  };
  return { run, seen };
}

const live = async (mem: MemoryFileSystem) => (await mem.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort();

describe('walnut archive push / ls / verify', () => {
  it('push archives the released segments (keeping --max), ls lists them with index ranges, verify (and --deep) passes', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run, seen } = harness(mem, store);
    const before = await live(mem);

    const push = await run([
      'archive',
      'push',
      DIR,
      '--prefix',
      'node-1/wal',
      '--max',
      '2',
      '--endpoint',
      'http://127.0.0.1:9',
      '--path-style',
    ]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    expect(seen[0]).toEqual({
      bucket: 'backups',
      prefix: PREFIX,
      endpoint: 'http://127.0.0.1:9',
      region: undefined,
      forcePathStyle: true,
      credentials: undefined,
    });
    expect(push.stdout).toMatch(new RegExp(`^archived ${before.length - 2} segment\\(s\\) of /data/wal to s3://backups/node-1/wal/`));
    expect(await live(mem)).toEqual(before.slice(-2));
    expect(store.keys()).toEqual(before.slice(0, -2).map((n) => PREFIX + n));

    const ls = await run(['archive', 'ls', '--prefix', PREFIX]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^archive s3://backups/node-1/wal/: ${before.length - 2} segment\\(s\\), `));
    expect(lines[1]).toMatch(/^ {2}segment\s+seq\s+indexes\s+bytes\s+crc32c$/);
    expect(lines[2]).toMatch(/^ {2}0000000000000000-0000000000000000\.wal\s+0\s+0\.\.\d+\s+\d+\s+[0-9a-f]{8}$/);
    expect(lines).toHaveLength(2 + before.length - 2);

    const json = JSON.parse((await run(['archive', 'ls', '--prefix', PREFIX, '--json'])).stdout);
    expect(json.segments.map((s: { name: string }) => s.name)).toEqual(before.slice(0, -2));
    expect(json.segments[1].firstIndex).toBe(json.segments[0].lastIndex + 1);
    expect(json.segments.at(-1).lastIndex).toBeNull();
    expect(json.problems).toEqual([]);

    const v = await run(['archive', 'verify', '--prefix', PREFIX]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ok: \d+ archived segment\(s\) .* metadata and CRC chain consistent \(use --deep/);
    const deep = await run(['archive', 'verify', '--prefix', PREFIX, '--deep', '--json']);
    expect(deep.code).toBe(0);
    expect(JSON.parse(deep.stdout)).toMatchObject({ ok: true, deep: true, checked: before.length - 2, problems: [] });
    expect(deep.stderr).toBe(''); // no TTY, no progress

    // The archive is transparent: the CLI's own dump over the live directory still sees the local part only.
    expect((await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2'])).stdout).toMatch(/^nothing to archive/);
  });

  it('verify --deep finds a tampered object: exit 1, the problem on stdout, message and hint on stderr; progress only on a TTY', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    const key = store.keys()[2]!;
    store.tamper(key, (b) => {
      b[b.length - 10]! ^= 2;
      return b;
    });
    expect((await run(['archive', 'verify', '--prefix', PREFIX])).code).toBe(0);
    const r = await run(['archive', 'verify', '--prefix', PREFIX, '--deep'], true);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `problem: ARCHIVE_CORRUPT: archived segment '${key}' is corrupt: its CRC-32C is ${r.stdout.match(/is ([0-9a-f]{8}),/)![1]}, its metadata says ${r.stdout.match(/says ([0-9a-f]{8})/)![1]}\n`,
    );
    expect(r.stderr).toContain('\r\u001b[2Kverify [');
    expect(r.stderr).toMatch(/verify \[#+\] \d+\/\d+ segments/);
    const err = r.stderr.split('\n').filter((l) => !l.includes('\r'));
    expect(err[0]).toMatch(/^walnut: archived segment .* is corrupt/);
    expect(err[1]).toMatch(/^hint: an archived object is not what walnut stored: `walnut archive verify --deep`/);
    const j = JSON.parse((await run(['archive', 'verify', '--prefix', PREFIX, '--deep', '--json'])).stdout);
    expect(j).toMatchObject({ ok: false, problems: [{ code: 'ARCHIVE_CORRUPT', key }] });
  });

  it('ls reports a gap with exit 1', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    await store.delete(store.keys()[3]!);
    const r = await run(['archive', 'ls', '--prefix', PREFIX]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\nproblem: ARCHIVE_SEQUENCE_GAP: archive memory:\/\/archive: segments are missing between /);
    expect(r.stderr).toMatch(/\nhint: archived segments are missing: `walnut archive ls` shows the gap/);
  });
});

describe('walnut restore', () => {
  it('restores at a snapshot (with the live directory), verifies the result, and resumes with nothing to download', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    const r = await run(['restore', '--prefix', PREFIX, '--to', '/restore/wal', '--snap', '60:1', '--live', DIR], true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^restored \d+ segment\(s\) from s3:\/\/backups\/node-1\/wal\/ to \/restore\/wal: \d+ downloaded \(.*\), 2 copied from \/data\/wal; checksums and CRC chain verified\n/,
    );
    expect(r.stdout).toMatch(/\nok: \/restore\/wal verifies from snapshot 60:1; hard state: term=1 vote=2 commit=120\n$/);
    expect(r.stderr).toMatch(/restore \[#+\]/);
    const w = await Wal.openForRead(mem, '/restore/wal', { index: 60n, term: 1n });
    expect((await w.readAll()).entries.map((e) => Number(e.index))).toEqual(Array.from({ length: 60 }, (_, i) => i + 61));
    await w.close();

    const again = JSON.parse(
      (await run(['restore', '--prefix', PREFIX, '--to', '/restore/wal', '--snap', '60:1', '--live', DIR, '--json'])).stdout,
    );
    expect(again.downloadedBytes).toBe(0);
    expect(again.segments.every((s: { action: string }) => s.action === 'kept')).toBe(true);
    expect(again.verify).toEqual({ error: null });
  });

  it('a snapshot of the wrong term: restored, but the WAL does not verify there (exit 1, hint)', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    const r = await run(['restore', '--prefix', PREFIX, '--to', '/r', '--snap', '60:7', '--live', DIR]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^walnut: .*snapshot/);
  });

  it('refuses a missing segment and a target holding another WAL (exit 1 with a hint); without --snap it restores everything', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    const all = await run(['restore', '--prefix', PREFIX, '--to', '/full']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/\nit opens at snapshots from index 0 on: list them with `walnut snapshots \/full`\n$/);
    const intoOther = await run(['restore', '--prefix', PREFIX, '--to', DIR]);
    expect(intoOther.code).toBe(1);
    expect(intoOther.stderr).toMatch(/^walnut: restore target '\/data\/wal' holds segments that are not part of this restore/);
    expect(intoOther.stderr).toMatch(/\nhint: restore into an empty directory/);

    await store.delete(store.keys()[2]!);
    const gap = await run(['restore', '--prefix', PREFIX, '--to', '/r2', '--json']);
    expect(gap.code).toBe(1);
    expect(JSON.parse(gap.stdout).error.code).toBe('ARCHIVE_SEQUENCE_GAP');
    expect(gap.stderr).toMatch(/^walnut: archive memory:\/\/archive .*segments are missing between/);
  });
});

describe('walnut archive prune', () => {
  it('is a dry run without --yes, deletes with it, and refuses on an inconsistent archive', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const { run } = harness(mem, store);
    await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    const keys = store.keys();

    const dry = await run(['archive', 'prune', '--prefix', PREFIX, '--before', '60']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would remove \d+ archived segment\(s\) .* all entries below 60\n/);
    expect(dry.stdout).toMatch(/\nkept: \S+ \(first index \d+\), which a restore at index 60 starts from, and \d+ later\n/);
    expect(dry.stdout).toMatch(/\ndry run: nothing was deleted; run again with --yes to delete\n$/);
    expect(store.keys()).toEqual(keys);

    const dryJson = JSON.parse((await run(['archive', 'prune', '--prefix', PREFIX, '--before', '60', '--json'])).stdout);
    expect(dryJson.dryRun).toBe(true);
    const n = dryJson.removed.length;
    expect(n).toBeGreaterThan(0);

    const yes = await run(['archive', 'prune', '--prefix', PREFIX, '--before', '60', '--yes', '--json']);
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({ dryRun: false, removed: dryJson.removed, remaining: keys.length - n });
    expect(store.keys()).toEqual(keys.slice(n));
    expect((await run(['restore', '--prefix', PREFIX, '--to', '/r', '--snap', '60:1', '--live', DIR])).code).toBe(0);

    await store.delete(store.keys()[1]!);
    const refused = await run(['archive', 'prune', '--prefix', PREFIX, '--before', '100', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^walnut: archive .*prune refused: .*nothing was deleted\nhint: run `walnut archive verify`/);
  });
});

describe('where the archive is: flags, environment, usage errors', () => {
  it('flags win over the environment; S3 keys from the environment; a missing bucket or prefix is a usage error (exit 2)', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    const env = {
      S3_BUCKET: 'env-bucket',
      S3_ENDPOINT: 'http://env:1',
      S3_REGION: 'eu-west-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'AKID',
      S3_SECRET_ACCESS_KEY: 'secret',
    };
    const { run, seen } = harness(mem, store, env);
    expect((await run(['archive', 'ls', '--prefix', '', '--bucket', 'flag-bucket', '--region', 'us-west-2'])).code).toBe(0);
    expect(seen[0]).toEqual({
      bucket: 'flag-bucket',
      prefix: '',
      endpoint: 'http://env:1',
      region: 'us-west-2',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });

    const none = harness(mem, store, {});
    const noBucket = await none.run(['archive', 'ls', '--prefix', PREFIX]);
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toMatch(/^walnut: no bucket: pass --bucket NAME or set S3_BUCKET\n/);
    const noPrefix = await none.run(['archive', 'verify', '--bucket', 'b']);
    expect(noPrefix.code).toBe(2);
    expect(noPrefix.stderr).toMatch(/^walnut: no archive prefix/);
    const half = await harness(mem, store, { S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'x' }).run(['archive', 'ls', '--prefix', PREFIX]);
    expect(half.code).toBe(2);
    expect(half.stderr).not.toContain('x\n');
    expect((await none.run(['archive', 'prune', '--prefix', PREFIX, '--bucket', 'b'])).code).toBe(2); // --before is required
    expect((await none.run(['archive', 'prune', '--prefix', PREFIX, '--bucket', 'b', '--before', '-1'])).code).toBe(2);
    expect((await none.run(['archive', 'push', DIR, '--prefix', PREFIX, '--bucket', 'b', '--max', '0'])).code).toBe(2);
    expect((await none.run(['restore', '--prefix', PREFIX, '--bucket', 'b'])).code).toBe(2); // --to is required
  });

  it('the store unreachable: exit 1 with the hint, and push leaves every local segment in place', async () => {
    const mem = await liveWal();
    const store = new MemoryObjectStore();
    store.failNext(1000);
    const { run } = harness(mem, store);
    const before = await live(mem);
    const r = await run(['archive', 'push', DIR, '--prefix', PREFIX, '--max', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^walnut: archive memory:\/\/archive is unreachable: .*\nhint: check --endpoint \(or S3_ENDPOINT\)/);
    expect(await live(mem)).toEqual(before);
  });

  it('the help lists the archive commands', async () => {
    const { run } = harness(new MemoryFileSystem(), new MemoryObjectStore());
    const top = await run(['--help']);
    expect(top.stdout).toMatch(/\n {2}archive +the S3 archive of released WAL segments/);
    expect(top.stdout).toMatch(/\n {2}restore \[options\] +download what a WAL needs/);
    const sub = await run(['archive', '--help']);
    for (const c of ['ls', 'verify', 'push', 'prune']) expect(sub.stdout).toMatch(new RegExp(`\\n {2}${c}\\b`));
    expect(sub.stdout).toContain('S3_ACCESS_KEY_ID');
  });
});
