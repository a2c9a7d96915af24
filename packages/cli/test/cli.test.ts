/** Text output, hints, usage errors, exit codes, exact uint64, the demo. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Wal } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { NodeFileSystem } from '@walnut/fs-node';
import { cleanupTemp, cli, copyWal, loadExpected, tempDir } from './helpers.js';

afterAll(cleanupTemp);

describe('dump (text)', () => {
  it('lists metadata, hard state, one line per entry and the error line', async () => {
    const r = await cli(['dump', copyWal('basic')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^WAL .*wal {2}\(read mode, from snapshot 0:0\)$/);
    expect(r.stdout).toContain('metadata:   6574636477616c2d7265663a6261736963  "etcdwal-ref:basic"');
    expect(r.stdout).toContain('hard state: term=1 vote=1 commit=5\n');
    expect(r.stdout).toContain('entries:    5 (index 1 to 5)\n');
    expect(lines.filter((l) => /^\s+1\s+\d\s+normal\s+\d+\s+\S/.test(l))).toHaveLength(5);
    expect(r.stdout.endsWith('error:      none\n')).toBe(true);
  });

  it('torn tail in write mode: exit 1, the detailed message and the repair hint on stderr', async () => {
    const dir = copyWal('torn-cut');
    const r = await cli(['dump', dir, '--write']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error:      unexpected EOF\n');
    const err = r.stderr.split('\n');
    expect(err[0]).toMatch(/^walnut: unexpected EOF/);
    expect(err[1]).toBe(
      `hint: the last segment has a torn tail: run \`walnut repair ${dir}\` (it keeps the original as <segment>.wal.broken)`,
    );
    expect(err).toHaveLength(3);
  });

  it('torn tail: --json prints the canonical dump and the same stderr', async () => {
    const dir = copyWal('torn-zero');
    const r = await cli(['dump', dir, '--write', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toBe('unexpected EOF');
    expect(r.stderr).toMatch(/^walnut: unexpected EOF.*\nhint: .*walnut repair/);
  });

  it('crc mismatch: exit 1 and a hint that repair does not help', async () => {
    const r = await cli(['dump', copyWal('crcflip')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error:      walpb: crc mismatch\n');
    expect(r.stderr).toMatch(/^walnut: .*crc mismatch.*\nhint: a record is corrupt/);
  });

  it('snapshot not found: shows what etcd returns with it and points at `walnut snapshots`', async () => {
    const r = await cli(['dump', copyWal('snapshots'), '--snap', '100000:1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('hard state: term=4 vote=1 commit=473\n');
    expect(r.stdout).toContain('error:      wal: snapshot not found\n');
    expect(r.stderr).toMatch(/\nhint: .*walnut snapshots /);
  });

  it('a directory that does not exist is a WAL error (exit 1), not a crash', async () => {
    const dir = join(tempDir(), 'nope');
    for (const args of [
      ['dump', dir],
      ['dump', dir, '--json'],
      ['verify', dir],
      ['snapshots', dir, '--json'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^walnut: /);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});

describe('verify, snapshots, repair (text)', () => {
  it('verify prints the hard state when ok', async () => {
    const r = await cli(['verify', copyWal('snapshots'), '--snap', '390:4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: .* verifies from snapshot 390:4; hard state: term=4 vote=1 commit=473\n/);
    expect(r.stdout).toContain('status:   ok: ');
  });

  it('verify reports a snapshot mismatch with exit 1', async () => {
    const r = await cli(['verify', copyWal('snapshots'), '--snap', '390:11']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error: wal: snapshot mismatch\n/);
    expect(r.stderr).toMatch(/^walnut: wal: snapshot mismatch/);
  });

  it('snapshots lists INDEX:TERM pairs', async () => {
    const r = await cli(['snapshots', copyWal('snapshots')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('5 valid snapshots (INDEX:TERM, usable with --snap):\n  0:0\n  60:1\n  150:2\n  260:3\n  390:4\n');
  });

  it('repair fixes a torn tail; afterwards the write-mode dump is clean', async () => {
    const dir = copyWal('torn-cut');
    const r = await cli(['repair', dir, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nrepaired: cut the torn tail of .*0000000000000004-0000000000000174\.wal at offset 9712 /);
    expect(r.stdout).toContain('.wal.broken');
    const again = await cli(['repair', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^plan: change nothing: .*\nok: .* no torn tail, nothing to repair\n/);
    expect((await cli(['dump', dir, '--write'])).code).toBe(0);
  });

  it('repair that cannot help exits 1 with a hint', async () => {
    const r = await cli(['repair', copyWal('crcflip-last')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^plan: refuse: .*CRC mismatch at offset 4504.*\nfailed: /);
    expect(r.stderr).toMatch(/^walnut: .*crc mismatch.*\nhint: only a torn tail of the last segment is repairable/);
  });
});

describe('a WAL held open for writing by another holder', () => {
  it('dump --write and repair fail fast with ELOCKED (exit 1) instead of waiting', async () => {
    const dir = copyWal('basic');
    const held = await Wal.open(new NodeFileSystem(), dir, { index: 0n, term: 0n }, { segmentSizeBytes: 64 * 1024 });
    try {
      await held.readAll();
      for (const args of [
        ['dump', dir, '--write'],
        ['dump', dir, '--write', '--json'],
        ['repair', dir],
      ]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(/^walnut: .*ELOCKED.*\nhint: another process holds the WAL open for writing/);
      }
      // Read mode takes no lock.
      expect((await cli(['dump', dir])).code).toBe(0);
    } finally {
      await held.close();
    }
  });
});

describe('usage errors exit 2, help and version exit 0', () => {
  const cases: Array<[string, string[]]> = [
    ['no command', []],
    ['unknown command', ['frobnicate']],
    ['missing DIR', ['dump']],
    ['unknown option', ['dump', 'x', '--bogus']],
    ['extra argument', ['verify', 'a', 'b']],
    ['malformed --snap', ['dump', 'x', '--snap', 'abc']],
    ['--snap with three parts', ['verify', 'x', '--snap', '1:2:3']],
    ['--snap above uint64', ['dump', 'x', '--snap', '18446744073709551616:1']],
    ['--snap without a value', ['dump', 'x', '--snap']],
  ];
  for (const [what, argv] of cases) {
    it(what, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.length).toBeGreaterThan(0);
    });
  }

  it('--help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: walnut');
    expect(r.stdout).toContain('Exit codes:');
    for (const c of ['dump', 'verify', 'snapshots', 'repair', 'demo']) expect(r.stdout).toContain(c);
  });

  it('dump --help', async () => {
    const r = await cli(['dump', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--snap <INDEX:TERM>');
  });

  it('--version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('a max uint64 --snap is accepted', async () => {
    const r = await cli(['verify', copyWal('basic'), '--snap', '18446744073709551615:18446744073709551615', '--json']);
    expect(r.code).toBe(1); // no such snapshot, but the argument parsed
    expect(r.stdout).not.toBe('');
  });
});

describe('exact uint64 in JSON', () => {
  const BIG_VOTE = 10351854194737052131n; // a real etcd member id, above 2^53
  const BIG_TERM = 18446744073709551615n;

  async function writeBig(fs: MemoryFileSystem | NodeFileSystem, dir: string): Promise<void> {
    const wal = await Wal.create(fs, dir, new TextEncoder().encode('big'), { noFsync: true });
    await wal.save({ term: BIG_TERM, vote: BIG_VOTE, commit: 2n }, [
      { index: 1n, term: BIG_TERM, type: 0, data: new Uint8Array([1, 2, 3]) },
      { index: 2n, term: BIG_TERM, type: 1 },
    ]);
    await wal.close();
  }

  it('dump --json prints hardState.vote and term digit for digit (MemoryFileSystem via options.fs)', async () => {
    const fs = new MemoryFileSystem();
    await writeBig(fs, '/wal');
    const r = await cli(['dump', '/wal', '--json'], { fs });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`"vote": ${BIG_VOTE},`);
    expect(r.stdout).toContain(`"term": ${BIG_TERM},`);
    expect(r.stdout).toContain('"dataLen": 0\n');
    const text = await cli(['dump', '/wal'], { fs });
    expect(text.stdout).toContain(`hard state: term=${BIG_TERM} vote=${BIG_VOTE} commit=2\n`);
    expect(text.stdout).toMatch(/confchange\s+0\s+\(nil\)\n/);
    expect(text.stdout).toMatch(/normal\s+3\s+010203\n/);
  });

  it('the same on local disk', async () => {
    const dir = join(tempDir(), 'wal');
    await writeBig(new NodeFileSystem(), dir);
    const r = await cli(['dump', dir, '--json']);
    expect(r.stdout).toContain(`"vote": ${BIG_VOTE},`);
  });
});

describe('demo', () => {
  it('writes a multi-segment WAL, reopens it at the snapshot and dumps it, quickly', async () => {
    const data = tempDir('walnut-demo-');
    const t0 = performance.now();
    const r = await cli(['demo', data]);
    const ms = performance.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const segs = readdirSync(join(data, 'wal')).filter((n) => n.endsWith('.wal'));
    expect(segs.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toContain(`segments (${segs.length}):`);
    expect(r.stdout).toContain('reopened at snapshot 120:1: 180 entries read (index 121 to 300), hard state term=2 vote=1 commit=300');
    expect(r.stdout).toContain('valid snapshots: 0:0 120:1');
    expect(r.stdout).toContain('error:      none\n');
    expect(ms).toBeLessThan(10_000);
    // Running it again replaces the previous demo WAL.
    const again = await cli(['demo', data]);
    expect(again.code).toBe(0);
    expect(readdirSync(join(data, 'wal')).filter((n) => n.endsWith('.wal'))).toHaveLength(segs.length);
    // And what it wrote is an ordinary WAL the other commands read.
    expect((await cli(['verify', join(data, 'wal'), '--snap', '120:1'])).code).toBe(0);
  });

  it('leaves the golden data alone (sanity check of the helpers)', () => {
    expect(existsSync(join(copyWal('basic'), '0000000000000000-0000000000000000.wal'))).toBe(true);
    expect(loadExpected('basic').scenario).toBe('basic');
  });
});

describe('hints that look around', () => {
  it('a data directory instead of its WAL directory: suggests DIR/member/wal', async () => {
    const { mkdirSync, readdirSync: ls, copyFileSync } = await import('node:fs');
    const data = tempDir();
    const wal = join(data, 'member', 'wal');
    mkdirSync(wal, { recursive: true });
    const src = copyWal('basic');
    for (const n of ls(src)) copyFileSync(join(src, n), join(wal, n));
    const r = await cli(['dump', data, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toBe('wal: file not found');
    expect(r.stderr).toContain(`hint: did you mean ${wal}?`);
  });
});

describe('internal errors exit 3', () => {
  it('a failure that is not a WalError (a bug) prints the stack and exits 3, in every mode', async () => {
    const mem = new MemoryFileSystem();
    const broken = new Proxy(mem, {
      get(target, prop, receiver) {
        if (prop === 'readdir') return () => Promise.reject(new TypeError('boom: not a WalError'));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    for (const args of [
      ['dump', '/wal', '--json'],
      ['dump', '/wal'],
      ['verify', '/wal'],
      ['snapshots', '/wal', '--json'],
    ]) {
      const r = await cli(args, { fs: broken });
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr, args.join(' ')).toMatch(/^walnut: internal error: TypeError: boom: not a WalError\n\s+at /);
    }
  });
});
