// Preallocation benchmark for @walnut/fs-node: how should `allocate` prepare a segment?
//
//   npx nx bench @walnut/fs-node            (builds, then runs this file)
//   node packages/fs-node/bench/prealloc-bench.mjs [--dir DIR] [--runs 3] [--commits 4000] [--no-enospc]
//
// Strategies (each prepares a fresh 64,000,000-byte segment, etcd's size):
//   none       no preallocation: commits append to a growing file (a tail after Repair)
//   extend     ftruncate to the size: a hole (etcd's fallback; walnut's `preallocation: 'extend'`)
//   zero-fill  zeros written in 1 MiB chunks + fdatasync (walnut's default, through NodeFileSystem)
//   fallocate  fallocate(2) mode 0 from a tiny C helper built here with cc: the syscall a native addon
//              (or etcd on Linux) makes; timed inside the helper, so the spawn is not counted
//
// Measured, medians over --runs (strategies interleaved within each run):
//   prepare    time to make one segment ready, as walnut/etcd would (only zero-fill syncs)
//   commits    write + fdatasync per commit, 100 B and 4 KiB, through NodeFileSystem handles
//              (node:fs callback forms on the libuv pool: what walnut uses), one segment per strategy,
//              interleaved in blocks of 250 commits so that every strategy sees the same (shared) disk
//   bulk       61 x 1 MiB writes + one fdatasync into the prepared segment
//   while prep 4 KiB commits into another (zero-filled) segment while this strategy prepares the next
//              one, as the WAL's background pipeline does: worst commit latency during the preparation
//   ENOSPC     on a small file system of its own (loop-mounted ext4, else tmpfs; needs root), where a
//              full disk shows up: preparing segment 2, or in the middle of commits into it
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NodeFileSystem } from '@walnut/fs-node';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string' },
    runs: { type: 'string', default: '3' },
    commits: { type: 'string', default: '6000' },
    'no-enospc': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const COMMITS = Number(opts.commits);
const SEGMENT = 64_000_000;
const MiB = 1 << 20;

const zeroFs = new NodeFileSystem();
const extendFs = new NodeFileSystem({ preallocation: 'extend' });

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const errnoName = (n) => Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log();
}

/** Builds the fallocate helper with the machine's cc; undefined (with the reason printed) if it cannot. */
function buildFallocateHelper(workDir) {
  const out = join(workDir, 'fallocate-helper');
  const cc = spawnSync('cc', ['-O2', '-o', out, join(here, 'fallocate.c')], { encoding: 'utf8' });
  if (cc.status !== 0) {
    console.log(`fallocate row skipped: cc -O2 -o ${out} bench/fallocate.c failed: ${cc.error?.message ?? cc.stderr}`);
    return undefined;
  }
  return out;
}

/** Runs the helper: { ms } or { error: 'ENOSPC', syscall }. */
function fallocateWithHelper(helper, path, size) {
  const r = spawnSync(helper, [path, String(size)], { encoding: 'utf8' });
  const [status, a, b] = r.stdout.trim().split(' ');
  if (status === 'ok') return { ms: Number(a) / 1e6 };
  if (status === 'err') return { error: errnoName(Number(b)), syscall: a };
  throw new Error(`fallocate helper: ${r.error?.message ?? r.stderr}`);
}

/** The strategies; prepare(path, size) leaves a file ready for commits and returns the time it took. */
function strategies(helper) {
  const viaFs = (fsys) => async (path, size) => {
    const h = await fsys.open(path, 'createTruncate');
    try {
      const t0 = performance.now();
      await h.allocate(size);
      return performance.now() - t0;
    } finally {
      await h.close();
    }
  };
  const list = [
    {
      name: 'none (growing file)',
      prepare: async (path) => {
        await (await zeroFs.open(path, 'createTruncate')).close();
        return 0;
      },
    },
    { name: 'extend (ftruncate)', prepare: viaFs(extendFs) },
    { name: 'zero-fill (default)', prepare: viaFs(zeroFs) },
  ];
  if (helper) {
    list.push({
      name: 'fallocate (C helper)',
      prepare: async (path, size) => {
        fs.rmSync(path, { force: true });
        const r = fallocateWithHelper(helper, path, size);
        if (r.error) throw Object.assign(new Error(`${r.syscall}: ${r.error}`), { code: r.error, syscall: r.syscall });
        return r.ms;
      },
    });
  }
  return list;
}

const rate = (lat) => lat.length / (lat.reduce((x, y) => x + y, 0) / 1000);

/**
 * `total` commits of `bytes` each into one freshly prepared segment per strategy, interleaved in
 * blocks of `block` commits (the order rotating every round), so that every strategy sees the same
 * disk: the machine is shared and its speed drifts. Latencies in ms, by strategy name.
 */
async function interleavedCommits(list, seg, bytes, total, block) {
  const files = [];
  for (const [i, s] of list.entries()) {
    const path = seg(`commits-${i}`);
    await s.prepare(path, SEGMENT);
    files.push({ s, path, h: await zeroFs.open(path, 'readWrite'), pos: 0, lat: [] });
  }
  const buf = new Uint8Array(bytes).fill(0x5a);
  for (let round = 0; round * block < total; round++) {
    for (let k = 0; k < files.length; k++) {
      const f = files[(k + round) % files.length];
      for (let i = 0; i < block; i++) {
        const t0 = performance.now();
        let off = 0;
        while (off < bytes) off += await f.h.write(buf, off, bytes - off, f.pos + off);
        await f.h.datasync();
        f.lat.push(performance.now() - t0);
        f.pos += bytes;
      }
    }
  }
  for (const f of files) {
    await f.h.close();
    fs.rmSync(f.path);
  }
  return new Map(files.map((f) => [f.s.name, f.lat]));
}

/** n commits of `bytes` each (write + fdatasync) appended from offset 0; latencies in ms. */
async function commitLoop(path, bytes, n, shouldStop) {
  const h = await zeroFs.open(path, 'readWrite');
  const buf = new Uint8Array(bytes).fill(0x5a);
  const lat = [];
  const starts = [];
  let pos = 0;
  try {
    for (let i = 0; i < n && !shouldStop?.(); i++) {
      const t0 = performance.now();
      let off = 0;
      while (off < bytes) off += await h.write(buf, off, bytes - off, pos + off);
      await h.datasync();
      starts.push(t0);
      lat.push(performance.now() - t0);
      pos += bytes;
    }
  } finally {
    await h.close();
  }
  return { lat, starts };
}

async function bulk(path) {
  const h = await zeroFs.open(path, 'readWrite');
  const buf = new Uint8Array(MiB).fill(0xa5);
  const chunks = Math.floor(SEGMENT / MiB);
  try {
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) {
      let off = 0;
      while (off < MiB) off += await h.write(buf, off, MiB - off, i * MiB + off);
    }
    await h.datasync();
    return (chunks * MiB) / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    await h.close();
  }
}

/** 4 KiB commits into `busy` (zero-filled) while `prepare` makes `next`: commit latencies during the preparation. */
async function whilePreparing(s, busy, next) {
  let prepStart = Infinity;
  let prepEnd = Infinity;
  let done = false;
  const loop = commitLoop(busy, 4096, 1_000_000, () => done);
  // Let the loop settle, then prepare the next segment beside it.
  await new Promise((r) => setTimeout(r, 150));
  prepStart = performance.now();
  await s.prepare(next, SEGMENT);
  prepEnd = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  done = true;
  const { lat, starts } = await loop;
  const during = lat.filter((l, i) => starts[i] + l >= prepStart && starts[i] <= prepEnd);
  const before = lat.filter((l, i) => starts[i] + l < prepStart);
  return { max: Math.max(...during), p50before: median(before), window: prepEnd - prepStart, n: during.length };
}

// ---------------------------------------------------------------------------------------------
// Zero-fill tuning: chunk size, writes in flight, fdatasync interval (raw node:fs, as src/preallocation.ts)
// ---------------------------------------------------------------------------------------------

function call(start) {
  return new Promise((resolve, reject) => start((err, v) => (err ? reject(err) : resolve(v))));
}

/** 64 MB of zeros in `chunk`-byte writes, `depth` in flight, fdatasync every `syncEvery` bytes (0: only at the end). */
async function rawZeroFill(path, chunk, depth, syncEvery) {
  const fd = fs.openSync(path, 'w+');
  const buf = new Uint8Array(chunk);
  let pos = 0;
  let unsynced = 0;
  const worker = async () => {
    while (pos < SEGMENT) {
      const at = pos;
      const n = Math.min(chunk, SEGMENT - at);
      pos += n;
      await call((cb) => fs.write(fd, buf, 0, n, at, cb));
      unsynced += n;
      if (syncEvery > 0 && unsynced >= syncEvery && pos < SEGMENT) {
        unsynced = 0;
        await call((cb) => fs.fdatasync(fd, cb));
      }
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  await call((cb) => fs.fdatasync(fd, cb));
  fs.closeSync(fd);
}

// ---------------------------------------------------------------------------------------------
// ENOSPC on a small file system of its own
// ---------------------------------------------------------------------------------------------

/** Mounts a small file system (loop ext4, else tmpfs); { dir, kind, unmount } or { reason }. */
function mountSmall(workDir, bytes) {
  if (process.platform !== 'linux') return { reason: `not Linux (${process.platform})` };
  if (process.getuid?.() !== 0) return { reason: 'mounting needs root (run as root for the ENOSPC table)' };
  const dir = join(workDir, 'small');
  fs.mkdirSync(dir, { recursive: true });
  const image = join(workDir, 'small.img');
  const tried = [];
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, bytes);
    // No journal and no reserved blocks: like the project's disk (ext4 without a journal), and every block usable.
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', image], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
    return { dir, kind: `ext4 (loop, ${bytes / MiB} MiB image, no journal)`, unmount: () => execFileSync('umount', [dir]) };
  } catch (err) {
    tried.push(`loop-mounted ext4: ${String(err.stderr ?? err.message).trim()}`);
    fs.rmSync(image, { force: true });
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir, kind: `tmpfs (size=${bytes / MiB} MiB)`, unmount: () => execFileSync('umount', [dir]) };
  } catch (err) {
    tried.push(`tmpfs: ${String(err.stderr ?? err.message).trim()}`);
  }
  return { reason: tried.join('; ') };
}

async function freeBytes(dir) {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Leaves about `leave` bytes free on the file system of `dir` (a filler written with real data). */
async function fillTo(dir, leave) {
  const h = await zeroFs.open(join(dir, 'filler'), 'createTruncate');
  const buf = new Uint8Array(4 * MiB).fill(1);
  let pos = 0;
  for (let free = await freeBytes(dir); free - leave > 0; free = await freeBytes(dir)) {
    const n = Math.min(buf.length, free - leave);
    pos += await h.write(buf, 0, n, pos);
    await h.datasync();
  }
  await h.close();
}

async function enospcCase(s, dir, segment) {
  const seg1 = join(dir, 'seg1');
  const seg2 = join(dir, 'seg2');
  await fillTo(dir, Math.floor(segment * 1.5));
  const freeAtStart = await freeBytes(dir);
  const step = 4096;
  const commitInto = async (path) => {
    const h = await zeroFs.open(path, 'readWrite');
    const buf = new Uint8Array(step).fill(7);
    let acked = 0;
    try {
      for (let pos = 0; pos + step <= segment; pos += step) {
        let phase = 'write';
        try {
          await h.write(buf, 0, step, pos);
          phase = 'fdatasync';
          await h.datasync();
        } catch (e) {
          return { acked, failure: `${e.code} at commit ${acked + 1} (${phase} at offset ${pos.toLocaleString('en-US')})` };
        }
        acked++;
      }
      return { acked };
    } finally {
      await h.close();
    }
  };
  const result = { free: freeAtStart };
  try {
    await s.prepare(seg1, segment);
  } catch (e) {
    result.where = `segment 1: ${e.code} when prepared`;
    return result;
  }
  const c1 = await commitInto(seg1);
  if (c1.failure) {
    result.where = `segment 1: ${c1.failure}`;
    return result;
  }
  try {
    await s.prepare(seg2, segment);
  } catch (e) {
    result.where = `segment 2: ${e.code ?? e.message} when prepared (after ${c1.acked} commits into segment 1)`;
    result.freeAfter = await freeBytes(dir);
    return result;
  }
  const c2 = await commitInto(seg2);
  result.where = c2.failure ? `segment 2 prepared; ${c2.failure}` : `no ENOSPC (${c1.acked + c2.acked} commits)`;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const base = opts.dir ?? tmpdir();
const work = await mkdtemp(join(base, 'walnut-prealloc-bench-'));
let mounted;
try {
  const fsInfo = spawnSync('findmnt', ['-no', 'SOURCE,FSTYPE,OPTIONS', '-T', work], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  console.log(`# walnut preallocation benchmark`);
  console.log(`node ${process.version}, Linux ${release()}, ${cpus().length} CPUs; files in ${work} (${fsInfo})`);
  console.log(
    `segment ${SEGMENT.toLocaleString('en-US')} B; ${COMMITS} commits per strategy and size, interleaved; other columns medians of ${RUNS} runs\n`,
  );

  const helper = buildFallocateHelper(work);
  const list = strategies(helper);
  const seg = (name) => join(work, name);

  const results = new Map(list.map((s) => [s.name, { prepare: [], bulk: [], during: [] }]));
  for (const [bytes, key] of [
    [100, 'c100'],
    [4096, 'c4k'],
  ]) {
    const lat = await interleavedCommits(list, seg, bytes, COMMITS, 250);
    for (const s of list) results.get(s.name)[key] = lat.get(s.name);
  }
  for (let run = 0; run < RUNS; run++) {
    for (const s of list) {
      const r = results.get(s.name);
      r.prepare.push(await s.prepare(seg('a'), SEGMENT));
      fs.rmSync(seg('a'));
      await s.prepare(seg('a'), SEGMENT);
      r.bulk.push(await bulk(seg('a')));
      fs.rmSync(seg('a'));
      if (s.name !== 'none (growing file)') {
        await zeroFs.open(seg('busy'), 'createTruncate').then(async (h) => {
          await h.allocate(SEGMENT);
          await h.close();
        });
        r.during.push(await whilePreparing(s, seg('busy'), seg('next')));
        fs.rmSync(seg('busy'));
        fs.rmSync(seg('next'));
      }
    }
  }

  console.log('## Commit rate, bulk throughput, preparation (this disk)\n');
  table(
    [
      'strategy',
      'prepare 64 MB',
      'commits/s 100 B',
      'commits/s 4 KiB',
      '4 KiB p50 / p99 µs',
      'bulk MB/s',
      'worst 4 KiB commit while preparing',
    ],
    list.map((s) => {
      const r = results.get(s.name);
      const d = r.during;
      return [
        s.name,
        s.name.startsWith('none') ? '-' : `${fmt(median(r.prepare), 2)} ms`,
        fmt(rate(r.c100)),
        fmt(rate(r.c4k)),
        `${fmt(median(r.c4k) * 1000)} / ${fmt(quantile(r.c4k, 0.99) * 1000)}`,
        fmt(median(r.bulk)),
        d.length === 0 ? '-' : `${fmt(median(d.map((x) => x.max)), 1)} ms (p50 before ${fmt(median(d.map((x) => x.p50before)) * 1000)} µs)`,
      ];
    }),
  );

  console.log('## Zero-fill tuning: 64 MB of zeros, by chunk, writes in flight and fdatasync interval;');
  console.log('## worst 4 KiB commit (write + fdatasync) into another segment meanwhile\n');
  const tuning = [];
  for (const [chunk, depth, syncEvery] of [
    [256 * 1024, 1, 0],
    [MiB, 1, 0],
    [MiB, 2, 0],
    [4 * MiB, 1, 0],
    [MiB, 1, 16 * MiB],
    [MiB, 1, 8 * MiB],
    [MiB, 1, 4 * MiB],
  ]) {
    const d = [];
    const variant = { prepare: (path) => rawZeroFill(path, chunk, depth, syncEvery) };
    for (let run = 0; run < RUNS; run++) {
      await zeroFs.open(seg('busy'), 'createTruncate').then(async (h) => {
        await h.allocate(SEGMENT);
        await h.close();
      });
      d.push(await whilePreparing(variant, seg('busy'), seg('next')));
      fs.rmSync(seg('busy'));
      fs.rmSync(seg('next'));
    }
    tuning.push([
      `${chunk / 1024} KiB`,
      depth,
      syncEvery === 0 ? 'at the end' : `every ${syncEvery / MiB} MiB`,
      `${fmt(median(d.map((x) => x.window)), 1)} ms`,
      `${fmt(median(d.map((x) => x.max)), 1)} ms`,
    ]);
  }
  table(['chunk', 'in flight', 'fdatasync', 'fill 64 MB', 'worst commit meanwhile'], tuning);

  if (opts['no-enospc']) {
    console.log('## ENOSPC: skipped (--no-enospc)');
  } else {
    const small = 48 * MiB;
    const segment = 8_000_000;
    mounted = mountSmall(work, small);
    if (mounted.reason) {
      console.log(`## ENOSPC: skipped: cannot mount a small file system here: ${mounted.reason}`);
      mounted = undefined;
    } else {
      console.log(`## ENOSPC: where a full disk shows up (${mounted.kind}; ${segment.toLocaleString('en-US')}-byte segments,`);
      console.log(`## 1.5 segments free; segment 1 is prepared and filled with 4 KiB commits, then segment 2)\n`);
      const rows = [];
      for (const s of list) {
        const dir = join(mounted.dir, 'case');
        fs.mkdirSync(dir);
        const r = await enospcCase(s, dir, segment);
        rows.push([
          s.name,
          `${(r.free / 1e6).toFixed(1)} MB`,
          r.where,
          r.freeAfter === undefined ? '-' : `${(r.freeAfter / 1e6).toFixed(1)} MB`,
        ]);
        fs.rmSync(dir, { recursive: true, force: true });
      }
      table(['strategy', 'free at start', 'where ENOSPC appears', 'free after the failed prepare'], rows);
    }
  }
} finally {
  if (mounted) {
    try {
      mounted.unmount();
    } catch (err) {
      console.error(`umount ${mounted.dir} failed: ${err.message}`);
    }
  }
  await rm(work, { recursive: true, force: true });
}
