/**
 * dump's decoding and filters, dump --raw, the verify report, repair's plan and confirmation, stat,
 * demo --json and progress bars, on real files: the WAL a real etcd 3.4.23 wrote (examples/etcd-wal/wal)
 * and temporary copies of the golden datasets.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { cleanupTemp, cli, copyWal, goJson, loadExpected, repoRoot, tempDir } from './helpers.js';

afterAll(cleanupTemp);

const ETCD_WAL = join(repoRoot(), 'examples', 'etcd-wal', 'wal');
/** The member id of the etcd that wrote examples/etcd-wal (above 2^53: JSON.parse would round it). */
const MEMBER_ID = '13668033151171901709';

function dirHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort())
    out[n] = createHash('sha256')
      .update(readFileSync(join(dir, n)))
      .digest('hex');
  return out;
}

/** The data column of the text dump, by entry index. */
function dataByIndex(stdout: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const x = /^\s+\d+\s+(\d+)\s+\S+\s+\d+\s+(.*)$/.exec(line);
    if (x) m.set(Number(x[1]), x[2]!);
  }
  return m;
}

describe('dump decodes what the etcdctl calls of examples/etcd-wal/README.md proposed', () => {
  it('every entry, in order', async () => {
    const r = await cli(['dump', ETCD_WAL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `metadata:   088df2f48ec1f7a6d7bd0110aaf4e5f599f3ebe7d101  (etcd member bdae9bbc11dd390d (${MEMBER_ID}) of cluster`,
    );
    expect(r.stdout).toContain(`hard state: term=2 vote=${MEMBER_ID} commit=41\n`);
    const d = dataByIndex(r.stdout);
    expect(d.size).toBe(41);
    // Bootstrap: the member adds itself; its first v2 proposals publish its attributes and the cluster version.
    expect(d.get(1)).toMatch(new RegExp(`^ConfChangeAddNode node_id=${MEMBER_ID} context=.*peerURLs.*walnut-demo`));
    expect(d.get(2)).toBe('(nil)');
    expect(d.get(3)).toMatch(/^v2 PUT Path="\/0\/members\/bdae9bbc11dd390d\/attributes" Val=/);
    expect(d.get(4)).toMatch(/^v2 PUT Path="\/0\/version" Val="3\.4\.0"/);
    // etcdctl put /app/config/key1 value-1 ... key12
    for (let k = 1; k <= 12; k++)
      expect(d.get(4 + k)).toMatch(new RegExp(`^put key="/app/config/key${k}" value="value-${k}" \\(id \\d+\\)$`));
    // etcdctl lease grant 60, then a put with the lease
    const grant = /^lease_grant TTL=60 ID=(\d+) /.exec(d.get(17)!);
    expect(grant).not.toBeNull();
    expect(d.get(18)).toMatch(new RegExp(`^put key="/app/session/alive" value="yes" lease=${grant![1]} `));
    // etcdctl del /app/config/key3
    expect(d.get(19)).toMatch(/^delete_range key="\/app\/config\/key3" /);
    // etcdctl txn: if key1 = value-1 then put key1 value-1b, put /app/txn/ok 1
    expect(d.get(20)).toMatch(
      /^txn compare=\[\{target=VALUE key="\/app\/config\/key1" value="value-1"\}\] success=\[\{request_put=\{key="\/app\/config\/key1" value="value-1b"\}\}, \{request_put=\{key="\/app\/txn\/ok" value="1"\}\}\]/,
    );
    // etcdctl member add --learner walnut-learner --peer-urls http://127.0.0.1:23802
    expect(d.get(21)).toMatch(/^ConfChangeAddLearnerNode id=\d+ node_id=\d+ context=".*23802.*isLearner/);
    // etcdctl compaction 5
    expect(d.get(22)).toMatch(/^compaction revision=5 /);
    for (let k = 13; k <= 30; k++) expect(d.get(10 + k)).toMatch(new RegExp(`^put key="/app/config/key${k}" value="v${k}" `));
    // etcdctl lease revoke <the lease granted above>
    expect(d.get(41)).toMatch(new RegExp(`^lease_revoke ID=${grant![1]} `));
  });

  it('--from/--to select an inclusive index range, exact uint64', async () => {
    const r = await cli(['dump', ETCD_WAL, '--from', '17', '--to', '19']);
    expect(r.code).toBe(0);
    expect([...dataByIndex(r.stdout).keys()]).toEqual([17, 18, 19]);
    expect(r.stdout).toContain('entries:    3 shown of 41 (filter: index 17..19)');
    // 2^64-1 is a valid bound (nothing is that high); 2^53+1 must not be rounded down to 2^53.
    expect(dataByIndex((await cli(['dump', ETCD_WAL, '--from', '18446744073709551615'])).stdout).size).toBe(0);
    expect(dataByIndex((await cli(['dump', ETCD_WAL, '--to', '9007199254740993'])).stdout).size).toBe(41);
  });

  it('--type takes entry types and request kinds', async () => {
    const conf = dataByIndex((await cli(['dump', ETCD_WAL, '--type', 'confchange'])).stdout);
    expect([...conf.keys()]).toEqual([1, 21]);
    const some = dataByIndex((await cli(['dump', ETCD_WAL, '--type', 'txn,lease_grant,lease_revoke,v2'])).stdout);
    expect([...some.keys()]).toEqual([3, 4, 17, 20, 41]);
    const puts = dataByIndex((await cli(['dump', ETCD_WAL, '--type', 'PUT', '--from', '10'])).stdout);
    expect(puts.size).toBe(7 + 1 + 18); // key6..key12, /app/session/alive, key13..key30 (index 10..16, 18, 23..40)
    expect(puts.has(17)).toBe(false);
  });

  it('--json with a filter keeps the canonical shape and drops the other entries', async () => {
    const all = await cli(['dump', ETCD_WAL, '--json']);
    const some = await cli(['dump', ETCD_WAL, '--json', '--type', 'confchange', '--to', '20']);
    expect(some.code).toBe(0);
    const entries = (s: string) => s.slice(s.indexOf('"entries"'), s.indexOf('"error"'));
    expect(some.stdout.startsWith(all.stdout.slice(0, all.stdout.indexOf('"entries"')))).toBe(true);
    expect(entries(some.stdout)).toBe(
      '"entries": [\n    {\n      "index": 1,\n      "term": 1,\n      "type": 1,\n' + entries(some.stdout).split('"type": 1,\n')[1],
    );
    expect(JSON.parse(some.stdout).entries).toHaveLength(1);
    expect(some.stdout).toContain(`"vote": ${MEMBER_ID}`);
  });

  it('HardStates and snapshot records from the replay, in WAL order, by commit / snapshot index', async () => {
    const r = await cli(['dump', ETCD_WAL, '--type', 'snapshot,hardstate,confchange', '--from', '20', '--to', '22']);
    expect(r.code).toBe(0);
    expect([...dataByIndex(r.stdout).keys()]).toEqual([21]);
    expect(r.stdout).toContain(
      [
        'records:    4 (in WAL order, from the segment holding snapshot 0:0; `--raw` adds file offsets)',
        `  hardstate  term=2 vote=${MEMBER_ID} commit=20`,
        `  hardstate  term=2 vote=${MEMBER_ID} commit=21`,
        '  snapshot   index=21 term=2 conf_state=(none)',
        `  hardstate  term=2 vote=${MEMBER_ID} commit=22`,
        'error:      none',
      ].join('\n'),
    );
    // At a snapshot, the replay reads the segments a member opening there reads: here the only one.
    const at = await cli(['dump', ETCD_WAL, '--snap', '21:2', '--type', 'snapshot']);
    expect(at.stdout).toContain(
      'records:    2 (in WAL order, from the segment holding snapshot 21:2; `--raw` adds file offsets)\n' +
        '  snapshot   index=0 term=0 conf_state=(none)\n  snapshot   index=21 term=2 conf_state=(none)\nerror:      none\n',
    );
  });

  it('--json --from/--to on a golden dataset: the etcd dump with the entries outside the range left out', async () => {
    const exp = loadExpected('multiseg');
    const r = await cli(['dump', copyWal('multiseg'), '--json', '--from', '100', '--to', '200']);
    expect(r.code).toBe(0);
    const inRange = exp.read.entries.filter((e) => {
      const i = (e as { index: number }).index;
      return i >= 100 && i <= 200;
    });
    expect(inRange).toHaveLength(101);
    expect(r.stdout).toBe(goJson({ ...exp.read, entries: inRange }));
  });

  it('usage errors: metadata/crc without --raw, a record type with --json, an unknown type, a bound beyond uint64, --raw with --write', async () => {
    for (const args of [
      ['dump', ETCD_WAL, '--type', 'crc'],
      ['dump', ETCD_WAL, '--type', 'metadata,normal'],
      ['dump', ETCD_WAL, '--type', 'snapshot', '--json'],
      ['dump', ETCD_WAL, '--type', 'bogus'],
      ['dump', ETCD_WAL, '--from', '18446744073709551616'],
      ['dump', ETCD_WAL, '--to', '-1'],
      ['dump', ETCD_WAL, '--raw', '--write'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect((await cli(['dump', ETCD_WAL, '--type', 'crc'])).stderr).toMatch(/\nhint: .*`walnut dump DIR --raw`/);
    expect((await cli(['dump', ETCD_WAL, '--type', 'hardstate', '--json'])).stderr).toMatch(/\nhint: .*`walnut dump DIR --raw --json`/);
  });
});

describe('dump --raw', () => {
  it('lists every record with its offset, including HardStates and the snapshot record', async () => {
    const r = await cli(['dump', ETCD_WAL, '--raw', '--type', 'snapshot,hardstate', '--from', '21', '--to', '21']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0000000000000000-0000000000000000.wal:\n');
    expect(r.stdout).toMatch(
      /\n\s+2632 {2}hardstate {2}term=2 vote=13668033151171901709 commit=21\n\s+2672 {2}snapshot {3}index=21 term=2 conf_state=\(none\)\n/,
    );
    expect(r.stdout).toContain('86 record(s) read, 2 shown, 0 damaged, 0 unreadable segment tail(s)\n');
  });

  it('crcflip: keeps going past the CRC mismatch, marks exactly that record, reads all the others', async () => {
    const r = await cli(['dump', copyWal('crcflip'), '--raw']);
    expect(r.code).toBe(1);
    const damaged = r.stdout.split('\n').filter((l) => l.includes('DAMAGED'));
    expect(damaged).toHaveLength(1);
    expect(damaged[0]).toMatch(
      /^\s+32720 {2}entry {6}DAMAGED \(walpb: crc mismatch: .* in file '0000000000000002-00000000000000c0\.wal' at offset 32720\)/,
    );
    // The records after it (and in the later segments) are read and not marked.
    expect(r.stdout).toContain('0000000000000004-0000000000000174.wal:\n');
    expect(r.stdout).toContain('428 record(s) read, 428 shown, 1 damaged, 0 unreadable segment tail(s)\n');
    expect(r.stderr).toMatch(/^walnut: walpb: crc mismatch.*\nhint: a record is corrupt/);
  });

  it('crcflip-last, --json: the damaged record carries the typed error', async () => {
    const r = await cli(['dump', copyWal('crcflip-last'), '--raw', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.damagedRecords).toBe(1);
    expect(j.errors).toEqual([]);
    const bad = j.records.filter((x: { damage: unknown }) => x.damage !== null);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({
      file: '0000000000000004-0000000000000174.wal',
      offset: 4504,
      type: 'entry',
      damage: { code: 'WAL_CRC_MISMATCH' },
    });
    expect(j.records).toHaveLength(428);
  });

  it.each(['torn-cut', 'torn-zero'])('%s: the torn tail is an ERROR line at offset 9712 of the last segment', async (ds) => {
    const r = await cli(['dump', copyWal(ds), '--raw']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /\n\s+9712 {2}ERROR {6}unexpected EOF .*\(torn tail\); the rest of 0000000000000004-0000000000000174\.wal is unreadable\n/,
    );
    expect(r.stdout).toContain('427 record(s) read, 427 shown, 0 damaged, 1 unreadable segment tail(s)\n');
    expect(r.stderr).toMatch(/\nhint: the last segment has a torn tail: run `walnut repair /);
  });

  it('a healthy WAL: no mark, exit 0, the same entries as the replayed dump', async () => {
    const dir = copyWal('multiseg');
    const r = await cli(['dump', dir, '--raw', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.damagedRecords).toBe(0);
    const exp = loadExpected('multiseg');
    const rawEntries = j.records
      .filter((x: { type: string }) => x.type === 'entry')
      .map((x: { entry: { index: number } }) => x.entry.index);
    // multiseg has no overwritten entries: the raw entry records are the replayed entries.
    expect(rawEntries).toEqual(exp.read.entries.map((e) => (e as { index: number }).index));
  });
});

describe('verify report', () => {
  it('torn tail: file, offset, and the truncation repair would make', async () => {
    const dir = copyWal('torn-cut');
    const r = await cli(['verify', dir]);
    // etcd's verify tolerates a torn tail; the report does not.
    expect(r.stdout).toMatch(/^ok: .* verifies from snapshot 0:0; hard state: term=2 vote=3 commit=382\n/);
    expect(r.stdout).toContain(
      'status:   torn tail: the last segment 0000000000000004-0000000000000174.wal ends in a partly written record at offset 9712',
    );
    expect(r.stdout).toContain(
      `repair:   would truncate ${join(dir, '0000000000000004-0000000000000174.wal')} at offset 9712 (11230 -> 9712 bytes, 1518 bytes and 1 record(s) dropped`,
    );
    expect(r.stdout).toContain('keeping the original as 0000000000000004-0000000000000174.wal.broken');
    expect(r.code).toBe(1);
    const j = await cli(['verify', dir, '--json', '--report']);
    const rep = JSON.parse(j.stdout);
    expect(rep.error).toBeNull();
    expect(rep.report.health).toBe('torn-tail');
    expect(rep.report.firstBadRecord).toMatchObject({
      file: '0000000000000004-0000000000000174.wal',
      offset: 9712,
      code: 'WAL_UNEXPECTED_EOF',
      tornTail: true,
    });
    expect(rep.report.repair).toMatchObject({
      action: 'truncate',
      currentSize: 11230,
      newSize: 9712,
      droppedBytes: 1518,
      droppedRecords: 1,
    });
    // Plain --json stays etcd's verdict, byte for byte.
    expect((await cli(['verify', dir, '--json'])).stdout).toBe(goJson({ error: null }));
  });

  it('corruption in an earlier segment: the first bad record, and repair would not help', async () => {
    const r = await cli(['verify', copyWal('crcflip'), '--json', '--report']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep.error).toBe('walpb: crc mismatch');
    expect(rep.report.health).toBe('corrupt');
    expect(rep.report.firstBadRecord).toMatchObject({
      file: '0000000000000002-00000000000000c0.wal',
      offset: 32720,
      code: 'WAL_CRC_MISMATCH',
      tornTail: false,
    });
    expect(rep.report.repair).toMatchObject({ action: 'none' });
    const t = await cli(['verify', copyWal('crcflip')]);
    expect(t.stdout).toMatch(/repair: {3}would change nothing: .*cannot fix the damage in 0000000000000002-00000000000000c0\.wal/);
  });

  it('corruption in an earlier segment and a torn last segment: repair would cut the tail but is not advised', async () => {
    const dir = copyWal('crcflip');
    truncateSync(join(dir, '0000000000000004-0000000000000174.wal'), 11230); // a record cut in the last segment
    const rep = JSON.parse((await cli(['verify', dir, '--json', '--report'])).stdout);
    expect(rep.report.health).toBe('corrupt');
    expect(rep.report.repair).toMatchObject({ action: 'truncate' });
    const t = await cli(['verify', dir]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/repair: {3}would truncate .*; that would not fix the damage in 0000000000000002-00000000000000c0\.wal/);
    expect(t.stdout).not.toContain('run `walnut repair');
  });

  it('corruption in the last segment: repair would refuse', async () => {
    const r = await cli(['verify', copyWal('crcflip-last')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('status:   corrupt: first bad record in 0000000000000004-0000000000000174.wal at offset 4504');
    expect(r.stdout).toMatch(/repair: {3}would refuse: .*CRC mismatch at offset 4504, which is corruption, not a torn tail/);
  });

  it('a segment missing from the sequence is named', async () => {
    const dir = copyWal('multiseg');
    rmSync(join(dir, '0000000000000002-00000000000000a9.wal'));
    const r = await cli(['verify', dir, '--json', '--report']);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep.report.missingSegments).toEqual([
      { after: '0000000000000001-0000000000000067.wal', next: '0000000000000003-00000000000000ee.wal', missingSeqs: [2] },
    ]);
    // The chain break at the segment after the hole is the hole's doing, not corruption.
    expect(rep.report.health).toBe('ok');
    expect(rep.report.firstBadRecord).toBeNull();
    expect(rep.error).toBe('wal: file not found');
    const t = await cli(['verify', dir]);
    expect(t.stdout).toContain(
      'missing:  segment(s) between 0000000000000001-0000000000000067.wal and 0000000000000003-00000000000000ee.wal (sequence number(s) 0000000000000002)',
    );
    // dump --raw reads past the hole without marking the next segment's CRC record.
    const raw = await cli(['dump', dir, '--raw']);
    expect(raw.code).toBe(1);
    expect(raw.stdout).toContain(
      'missing segment(s) between 0000000000000001-0000000000000067.wal and 0000000000000003-00000000000000ee.wal\n',
    );
    expect(raw.stdout).not.toContain('DAMAGED');
    expect(raw.stderr).toMatch(/^walnut: segments are missing from the sequence/);
  });

  it('a healthy WAL: ok, exit 0, repair would change nothing', async () => {
    const r = await cli(['verify', copyWal('multiseg')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('status:   ok: 483 records read to the end, every CRC matches, entries 1..432');
    expect(r.stdout).toContain('repair:   would change nothing');
  });
});

describe('repair: the plan first, then confirmation', () => {
  it('without a terminal and without --yes: prints the plan, changes nothing, exits 4 with a hint', async () => {
    const dir = copyWal('torn-cut');
    const before = dirHashes(dir);
    const r = await cli(['repair', dir]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^plan: truncate .*0000000000000004-0000000000000174\.wal at offset 9712 \(11230 -> 9712 bytes/);
    expect(r.stderr).toMatch(/^walnut: repair would change a file and needs confirmation.*nothing was changed\nhint: .*pass --yes/);
    expect(dirHashes(dir)).toEqual(before);
    const j = await cli(['repair', dir, '--json']);
    expect(j.code).toBe(4);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, notConfirmed: true, plan: { action: 'truncate', newSize: 9712 } });
    expect(dirHashes(dir)).toEqual(before);
  });

  it('on a terminal: asks; "n" changes nothing, "y" repairs and keeps the .broken copy', async () => {
    const dir = copyWal('torn-zero');
    const before = dirHashes(dir);
    const questions: string[] = [];
    const run = async (answer: string) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['repair', dir], {
        stdout: (s) => void (stdout += s),
        stderr: (s) => void (stderr += s),
        interactive: true,
        prompt: async (q) => {
          questions.push(q);
          return answer;
        },
      });
      return { code, stdout, stderr };
    };
    const no = await run('n');
    expect(no.code).toBe(4);
    expect(no.stderr).toBe('walnut: repair not confirmed; nothing was changed\n');
    expect(dirHashes(dir)).toEqual(before);
    const yes = await run('y');
    expect(yes.code).toBe(0);
    expect(questions).toEqual(['Apply this repair? [y/N] ', 'Apply this repair? [y/N] ']);
    expect(yes.stdout).toContain('repaired: cut the torn tail');
    const last = '0000000000000004-0000000000000174.wal';
    expect(readFileSync(join(dir, `${last}.broken`)).length).toBe(65536);
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, `${last}.broken`)))
        .digest('hex'),
    ).toBe(before[last]);
    expect(readFileSync(join(dir, last)).length).toBe(9712);
  });

  it('a plan that changes nothing is not asked about', async () => {
    for (const ds of ['multiseg', 'crcflip-last']) {
      const code = await runCli(['repair', copyWal(ds)], {
        stdout: () => undefined,
        stderr: () => undefined,
        interactive: true,
        prompt: () => Promise.reject(new Error('must not ask')),
      });
      expect(code, ds).toBe(ds === 'multiseg' ? 0 : 1);
    }
  });
});

describe('stat', () => {
  it('examples/etcd-wal: segments, records by type, requests, snapshots, hard state, metadata', async () => {
    const r = await cli(['stat', ETCD_WAL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('WAL ' + ETCD_WAL + ': 1 segment(s), 8192 bytes (8.0 KiB), no gap in the sequence\n');
    expect(r.stdout).toMatch(/\n {2}0000000000000000-0000000000000000\.wal +0 +0 {2}1\.\.41 +86 +8192\n/);
    expect(r.stdout).toContain('records:    86 (crc 1, metadata 1, snapshot 2, entry 41, hardstate 41)\n');
    expect(r.stdout).toContain('entries:    index 1..41, term 1..2; confchange 2, normal 39\n');
    expect(r.stdout).toContain('requests:   empty 1, v2 2, put 31, lease_grant 1, delete_range 1, txn 1, compaction 1, lease_revoke 1\n');
    expect(r.stdout).toContain('snapshots:  2 (0:0 21:2)');
    expect(r.stdout).toContain(`hard state: term=2 vote=${MEMBER_ID} commit=41 (the last record)\n`);
    expect(r.stdout).toContain('problems:   none\n');
  });

  it('--json: exact uint64, per-segment ranges, counts', async () => {
    const r = await cli(['stat', copyWal('multiseg'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.segments).toHaveLength(6);
    expect(j.segments[1]).toMatchObject({ name: '0000000000000001-0000000000000067.wal', seq: 1, firstIndex: 103, size: 72800 });
    expect(j.indexRange).toEqual({ first: 1, last: 432 });
    expect(j.totalBytes).toBe(432360);
    expect(j.recordsByType.entry).toBe(432);
    const e = await cli(['stat', ETCD_WAL, '--json']);
    expect(e.stdout).toContain(`"vote": ${MEMBER_ID}`);
    expect(e.stdout).toContain(`"nodeID": ${MEMBER_ID}`);
  });

  it('a damaged WAL: still counted, exit 1 with a hint to verify', async () => {
    const r = await cli(['stat', copyWal('crcflip')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('problems:   1 damaged record(s), 0 unreadable segment tail(s), 0 gap(s)\n');
    expect(r.stderr).toMatch(/^walnut: .*1 damaged record.*\nhint: `walnut verify /);
  });

  it('a data directory instead of the WAL directory: one line and a hint naming the right one', async () => {
    const base = tempDir();
    const r = await cli(['stat', base]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(3);
    expect(r.stderr).toMatch(/^walnut: wal: no segment files found in .*\nhint: /);
  });
});

describe('demo --json', () => {
  it('summarises the WAL it wrote', async () => {
    const base = tempDir();
    const r = await cli(['demo', base, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.walDir).toBe(join(base, 'wal'));
    expect(j.segments.length).toBeGreaterThan(1);
    expect(j.read).toMatchObject({ entries: 180, firstIndex: 121, lastIndex: 300, hardState: { term: 2, vote: 1, commit: 300 } });
    expect(j.validSnapshots).toContainEqual({ index: 120, term: 1 });
    expect(existsSync(join(base, 'wal', j.segments[0].name))).toBe(true);
  });
});

describe('progress bars', () => {
  async function run(args: string[], tty: boolean) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stderrIsTTY: tty });
    return { code, stdout, stderr };
  }

  it('drawn on a terminal for a directory of more than 4 segments, then erased; never in stdout', async () => {
    const dir = copyWal('multiseg');
    for (const cmd of [
      ['verify', dir],
      ['stat', dir],
      ['dump', dir, '--raw'],
      ['dump', dir],
    ]) {
      const r = await run(cmd, true);
      expect(r.code, cmd.join(' ')).toBe(0);
      // The terminal's erase-line sequence (ESC [ 2 K) precedes every redraw.
      // eslint-disable-next-line no-control-regex
      expect(r.stderr, cmd.join(' ')).toMatch(/^\r\x1b\[2K(verify|stat|dump) \[[#-]+\] \d\/6 segments, [\d.]+ (B|KiB) of 422\.2 KiB/);
      expect(r.stderr.endsWith('\r\x1b[2K'), cmd.join(' ')).toBe(true);
      expect(r.stdout).not.toContain('\r');
    }
  });

  it('not drawn when stderr is not a terminal, nor with --json, nor for a small directory', async () => {
    const dir = copyWal('multiseg');
    expect((await run(['verify', dir], false)).stderr).toBe('');
    expect((await run(['stat', dir, '--json'], true)).stderr).toBe('');
    expect((await run(['verify', dir, '--json', '--report'], true)).stderr).toBe('');
    expect((await run(['stat', ETCD_WAL], true)).stderr).toBe('');
    expect((await run(['dump', dir, '--json'], true)).stderr).toBe('');
    expect((await run(['dump', dir], false)).stderr).toBe('');
  });
});
