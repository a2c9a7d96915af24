#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [--rounds N] [--settle MS] [--json FILE] [--only a,b,c,d,e,f,h] [--s3] [--no-etcd] [--no-sqlite]`
 *
 * Runs each workload for walnut (fs-node), etcd's Go WAL (the reference harness) and the raw disk in
 * Node — and better-sqlite3 on a and b — alternating implementations round by round (A B A B, so drift
 * and noise hit both), each run in a fresh process, and prints medians and ratios. Absolute numbers vary
 * between machines and runs; the ratios, measured side by side in one run, are the result.
 *
 * h (save latency while segments are archived to S3, with vs without the archiver) runs only with
 * `--only h` or `--s3`. It uses the S3 server in S3_ENDPOINT etc. if set; otherwise it starts its own
 * instance of `<repo>/../shared/s3/s3-server.sh` (Ceph RGW; state in `<tmp>/walnut-bench-s3lab`, port
 * 17583; S3LAB_DIR, S3LAB_PORT, S3LAB_MON_PORT, S3LAB_STORE override) and stops it at the end if it started it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureReferenceHarness, repositoryRoot } from '@walnut/interop';
import type { ArchiveRunResult } from './archive-workload.js';
import type { RunResult } from './workloads.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const rounds = Number(opt('--rounds') ?? (quick ? 1 : 3));
const settleMs = Number(opt('--settle') ?? (quick ? 200 : 1000));
const only = (opt('--only') ?? `a,b,c,d,e,f${flag('--s3') ? ',h' : ''}`).split(',');
if (flag('--s3') && !only.includes('h')) only.push('h');
const withEtcd = !flag('--no-etcd') && only.some((w) => ['a', 'b', 'c', 'd'].includes(w));
const withSqlite = !flag('--no-sqlite');
const jsonOut = opt('--json');
// fs-node's data-path I/O form (NodeFileSystemOptions.io), for the child processes.
if (opt('--io')) process.env['WALNUT_BENCH_IO'] = opt('--io');
const here = dirname(fileURLToPath(import.meta.url));

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/**
 * The S3 server for h: the caller's (S3_ENDPOINT etc. set), or the bench's own s3-server.sh instance, started
 * if it is not running. Returns a function that stops it if this run started it.
 */
function ensureS3(root: string): () => void {
  if (process.env['S3_ENDPOINT']) {
    process.stderr.write(`h: using the S3 server at ${process.env['S3_ENDPOINT']} (from the environment)\n`);
    return () => {};
  }
  const script = join(root, '..', 'shared', 's3', 's3-server.sh');
  // No FORCE_COLOR: the script compares HTTP statuses its `node -e` helper prints with console.log, which
  // colours numbers when FORCE_COLOR is set.
  const { FORCE_COLOR: _forceColor, ...inherited } = process.env;
  const env = {
    ...inherited,
    NO_COLOR: '1',
    S3LAB_DIR: process.env['S3LAB_DIR'] ?? join(tmpdir(), 'walnut-bench-s3lab'),
    S3LAB_PORT: process.env['S3LAB_PORT'] ?? '17583',
    S3LAB_MON_PORT: process.env['S3LAB_MON_PORT'] ?? '13383',
  };
  const run = (args: string[], timeout: number) =>
    execFileSync('bash', [script, ...args], { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'inherit'] });
  let running: boolean;
  try {
    run(['status'], 30_000);
    running = true;
  } catch {
    running = false;
  }
  Object.assign(process.env, JSON.parse(run(['start', '--json'], 300_000)) as Record<string, string>);
  process.stderr.write(`h: S3 server ${process.env['S3_ENDPOINT']} (${running ? 'already running' : 'started for this run'})\n`);
  return running ? () => {} : () => void run(['stop'], 120_000);
}

/**
 * Before every measured run: write back everything (sync(1)) and wait `--settle` ms (default 1,000), so a
 * run does not start while the disk still works off the previous run's writes and the deletion of its
 * files (the virtio disk here is mounted with `discard`). Observed without it: in rounds that followed a
 * round's c/d/e/f (about 1.5 GB written and deleted), walnut's b took 0.43–0.45 s against 0.28–0.35 s in
 * nine rounds of b alone; its segment zero-fill competes with that backlog, etcd's fallocate writes nothing.
 */
async function settle(): Promise<void> {
  execFileSync('sync');
  await new Promise((resolve) => setTimeout(resolve, settleMs));
}

async function node(impl: string, workload: string, dir: string): Promise<RunResult> {
  await settle();
  const out = await exec(process.execPath, [join(here, 'run-one.js'), impl, workload, dir, ...(quick ? ['--quick'] : [])]);
  return JSON.parse(out.trim().split('\n').pop()!) as RunResult;
}

async function etcd(bin: string, workload: string, dir: string): Promise<RunResult> {
  await settle();
  const r = JSON.parse((await exec(bin, ['bench', dir, workload])).trim()) as {
    saves: number;
    entries: number;
    payloadBytes: number;
    seconds: number;
    entriesPerSec: number;
    MBps: number;
  };
  return {
    impl: 'etcd',
    workload,
    saves: r.saves,
    entries: r.entries,
    payloadBytes: r.payloadBytes,
    seconds: r.seconds,
    entriesPerSec: r.entriesPerSec,
    savesPerSec: r.saves / r.seconds,
    MBps: r.MBps,
    peakRssMB: NaN,
  };
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** h's medians per side (with / without the archiver) and their ratios. */
function archiveSummary(runs: RunResult[]) {
  const side = (impl: string) => {
    const rs = runs.filter((r): r is ArchiveRunResult => r.workload === 'h' && r.impl === impl);
    const m = (pick: (r: ArchiveRunResult) => number) => median(rs.map(pick));
    return {
      runs: rs.length,
      p50: m((r) => r.latencyMs.p50),
      p99: m((r) => r.latencyMs.p99),
      p999: m((r) => r.latencyMs.p999),
      max: m((r) => r.latencyMs.max),
      savesPerSec: m((r) => r.savesPerSec),
      archivedBytes: m((r) => r.archivedBytes),
      archivedSegments: m((r) => r.archivedSegments),
      peakRssMB: m((r) => r.peakRssMB),
      eventLoopDelayMaxMs: m((r) => r.eventLoopDelayMaxMs),
    };
  };
  const w = side('walnut+archiver');
  const wo = side('walnut');
  const first = runs.find((r): r is ArchiveRunResult => r.workload === 'h');
  return {
    runs: w.runs,
    saves: first?.saves ?? NaN,
    segmentSizeBytes: first?.segmentSizeBytes ?? NaN,
    with: w,
    without: wo,
    ratio: {
      p50: w.p50 / wo.p50,
      p99: w.p99 / wo.p99,
      p999: w.p999 / wo.p999,
      max: w.max / wo.max,
      savesPerSec: w.savesPerSec / wo.savesPerSec,
      peakRssMB: w.peakRssMB / wo.peakRssMB,
      eventLoopDelayMaxMs: w.eventLoopDelayMaxMs / wo.eventLoopDelayMaxMs,
    },
  };
}

async function main(): Promise<void> {
  const root = await repositoryRoot();
  const base = join(root, '.bench');
  mkdirSync(base, { recursive: true });
  const bin = withEtcd ? await ensureReferenceHarness() : undefined;
  const stopS3 = only.includes('h') ? ensureS3(root) : () => {};
  try {
    await runRounds(base, bin);
  } finally {
    stopS3();
  }
}

async function runRounds(base: string, bin: string | undefined): Promise<void> {
  const runs: RunResult[] = [];
  let n = 0;
  const fresh = () => {
    const d = join(base, `run-${process.pid}-${++n}`);
    rmSync(d, { recursive: true, force: true });
    return d;
  };
  let currentRound = 0;
  const record = (r: RunResult) => {
    r.round = currentRound;
    runs.push(r);
    process.stderr.write(
      `  ${r.impl.padEnd(6)} ${r.workload}  ${r.seconds.toFixed(2)} s  ${Math.round(r.savesPerSec)} saves/s  ${Math.round(r.entriesPerSec)} entries/s  ${r.MBps.toFixed(1)} MB/s\n`,
    );
  };

  for (let round = 0; round < rounds; round++) {
    currentRound = round;
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
    const flip = round % 2 === 1;
    for (const w of ['a', 'b'].filter((x) => only.includes(x))) {
      const order: Array<() => Promise<RunResult>> = [];
      order.push(async () => {
        const d = fresh();
        mkdirSync(d);
        const r = await node('walnut', w, join(d, 'wal'));
        rmSync(d, { recursive: true, force: true });
        return r;
      });
      if (bin)
        order.push(async () => {
          const d = fresh();
          const r = await etcd(bin, w, d);
          rmSync(d, { recursive: true, force: true });
          return r;
        });
      if (flip) order.reverse();
      order.push(async () => {
        const d = fresh();
        mkdirSync(d);
        const r = await node('raw', w, d);
        rmSync(d, { recursive: true, force: true });
        return r;
      });
      if (withSqlite)
        order.push(async () => {
          const d = fresh();
          mkdirSync(d);
          const r = await node('sqlite', w, d);
          rmSync(d, { recursive: true, force: true });
          return r;
        });
      for (const f of order) record(await f());
    }
    if (only.includes('c') || only.includes('d') || only.includes('f')) {
      const dw = fresh();
      mkdirSync(dw);
      const walDir = join(dw, 'wal');
      const de = fresh();
      const steps: Array<() => Promise<void>> = [async () => record(await node('walnut', 'c', walDir))];
      if (bin) steps.push(async () => record(await etcd(bin, 'c', de)));
      if (flip) steps.reverse();
      for (const s of steps) await s();
      if (only.includes('d')) {
        const reads: Array<() => Promise<void>> = [async () => record(await node('walnut', 'd', walDir))];
        if (bin) reads.push(async () => record(await etcd(bin, 'd', de)));
        if (flip) reads.reverse();
        reads.push(async () => record(await node('raw', 'd', walDir)));
        for (const s of reads) await s();
      }
      if (only.includes('f')) {
        // f: replay c's directory and a 16 MiB one, each in its own process; compare peak RSS.
        const small = join(dw, 'small');
        await node('walnut', 'c16', small);
        const big = await node('walnut', 'f', walDir);
        const little = await node('walnut', 'f', small);
        record(big);
        runs.push({ ...little, workload: 'f16' });
        process.stderr.write(`  walnut f16 peak RSS ${little.peakRssMB.toFixed(0)} MB vs f ${big.peakRssMB.toFixed(0)} MB\n`);
      }
      rmSync(dw, { recursive: true, force: true });
      rmSync(de, { recursive: true, force: true });
    }
    if (only.includes('e')) {
      const d = fresh();
      mkdirSync(d);
      record(await node('walnut', 'e', join(d, 'wal')));
      rmSync(d, { recursive: true, force: true });
    }
    if (only.includes('h')) {
      const impls = flip ? ['walnut', 'walnut+archiver'] : ['walnut+archiver', 'walnut'];
      for (const impl of impls) {
        const d = fresh();
        mkdirSync(d);
        const r = (await node(impl, 'h', join(d, 'wal'))) as ArchiveRunResult;
        rmSync(d, { recursive: true, force: true });
        record(r);
        const l = r.latencyMs;
        process.stderr.write(
          `         save ms p50 ${l.p50.toFixed(2)}  p99 ${l.p99.toFixed(2)}  p99.9 ${l.p999.toFixed(2)}  max ${l.max.toFixed(1)}; event loop blocked ≤ ${r.eventLoopDelayMaxMs.toFixed(1)} ms; archived ${r.archivedSegments} segments, ${(r.archivedBytes / 1e6).toFixed(1)} MB; peak RSS ${r.peakRssMB.toFixed(0)} MB\n`,
        );
      }
    }
  }

  const med = (impl: string, w: string, key: 'savesPerSec' | 'entriesPerSec' | 'MBps' | 'peakRssMB') => {
    const xs = runs.filter((r) => r.impl === impl && r.workload === w).map((r) => r[key]);
    return xs.length ? median(xs) : NaN;
  };
  // The issue's definition: the median over rounds of each round's ratio. Runs of one round ran minutes
  // apart at most, so the pair sees the same machine; a ratio of medians could pair a fast round's walnut
  // with a slow round's etcd.
  const ratio = (a: string, b: string, w: string, key: 'savesPerSec' | 'entriesPerSec' | 'MBps') => {
    const xs: number[] = [];
    for (const ra of runs.filter((r) => r.impl === a && r.workload === w)) {
      const rb = runs.find((r) => r.impl === b && r.workload === w && r.round === ra.round);
      if (rb) xs.push(ra[key] / rb[key]);
    }
    return xs.length ? median(xs) : NaN;
  };
  const metric: Record<string, 'savesPerSec' | 'entriesPerSec' | 'MBps'> = {
    a: 'savesPerSec',
    b: 'entriesPerSec',
    c: 'MBps',
    d: 'MBps',
    e: 'savesPerSec',
    f: 'MBps',
  };
  const unit: Record<string, string> = { a: 'saves/s', b: 'entries/s', c: 'MB/s', d: 'MB/s', e: 'saves/s', f: 'MB/s' };
  const rows = only
    .filter((w) => w !== 'h')
    .map((w) => {
      const k = metric[w]!;
      const walnut = med('walnut', w, k);
      const etcdV = med('etcd', w, k);
      const raw = med('raw', w, k);
      const sqlite = med('sqlite', w, k);
      return {
        workload: w,
        unit: unit[w],
        walnut,
        etcd: etcdV,
        raw,
        sqlite,
        walnutPerEtcd: ratio('walnut', 'etcd', w, k),
        walnutPerRaw: ratio('walnut', 'raw', w, k),
        walnutPerSqlite: ratio('walnut', 'sqlite', w, k),
        eOverA: w === 'e' ? walnut / med('walnut', 'a', 'savesPerSec') : NaN,
        fRssGrowthMB: w === 'f' ? med('walnut', 'f', 'peakRssMB') - med('walnut', 'f16', 'peakRssMB') : NaN,
        walnutPeakRssMB: med('walnut', w, 'peakRssMB'),
      };
    });
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const g = (x: number) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1)) : '—');
  const lines = [
    `walnut benchmarks — ${quick ? 'quick, ' : ''}fs-node io ${process.env['WALNUT_BENCH_IO'] ?? 'sync'}, ${rounds} round(s); ratios: median of the rounds' ratios, figures: medians; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  ];
  if (rows.length)
    lines.push(
      '',
      '| workload | walnut/etcd | walnut/raw | walnut/sqlite | walnut | etcd | raw | sqlite | unit | walnut peak RSS MB |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.workload}${r.workload === 'e' ? ` (×${f(r.eOverA, 1)} a)` : ''}${r.workload === 'f' ? ` (RSS +${f(r.fRssGrowthMB, 0)} MB vs 16 MiB)` : ''} | ${f(r.walnutPerEtcd)} | ${f(r.walnutPerRaw)} | ${f(r.walnutPerSqlite)} | ${g(r.walnut)} | ${g(r.etcd)} | ${g(r.raw)} | ${g(r.sqlite)} | ${r.unit} | ${f(r.walnutPeakRssMB, 0)} |`,
      ),
    );
  const archive = only.includes('h') ? archiveSummary(runs) : undefined;
  if (archive) {
    const { with: w, without: wo, ratio } = archive;
    const row = (label: string, a: number, b: number, r: number, d = 2) => `| ${label} | ${f(a, d)} | ${f(b, d)} | ${f(r)} |`;
    lines.push(
      '',
      `h: save latency while released segments are archived to S3 (${f(archive.segmentSizeBytes / 2 ** 20, 0)} MiB segments, ${archive.saves.toLocaleString('en-US')} saves of 1 × 1 KiB + HardState, datasync each; median of ${archive.runs} run(s) each)`,
      '',
      '| h | with archiver | without | with/without |',
      '|---|---|---|---|',
      row('save p50 ms', w.p50, wo.p50, ratio.p50, 3),
      row('save p99 ms', w.p99, wo.p99, ratio.p99),
      row('save p99.9 ms', w.p999, wo.p999, ratio.p999),
      row('save max ms', w.max, wo.max, ratio.max, 1),
      row('event-loop delay max ms', w.eventLoopDelayMaxMs, wo.eventLoopDelayMaxMs, ratio.eventLoopDelayMaxMs, 1),
      `| saves/s | ${g(w.savesPerSec)} | ${g(wo.savesPerSec)} | ${f(ratio.savesPerSec)} |`,
      `| archived during the run | ${f(w.archivedBytes / 1e6, 1)} MB (${f(w.archivedSegments, 0)} segments) | — | |`,
      row('peak RSS MB', w.peakRssMB, wo.peakRssMB, ratio.peakRssMB, 0),
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (jsonOut)
    writeFileSync(
      jsonOut,
      JSON.stringify({ quick, rounds, node: process.version, cores: cpus().length, rows, ...(archive ? { archive } : {}), runs }, null, 2) +
        '\n',
    );
  if (existsSync(base)) rmSync(base, { recursive: true, force: true });
}

await main();
