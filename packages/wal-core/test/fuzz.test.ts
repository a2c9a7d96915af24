/**
 * Structure-aware fuzzing of the readers (fast-check).
 *
 * Valid multi-segment WALs are built on the in-test map file system with small segments, then mutated
 * (bit flips, truncation at any offset, zeroed 512-byte sectors, absurd length words, duplicated or
 * reordered frames, removed or renamed segments, garbage files and names, empty files), and every reader
 * runs on its own copy: Wal.openForRead+readAll, Wal.open+readAll (+append, reread), Wal.verify,
 * Wal.validSnapshotEntries, Wal.repair, and etcd's bootstrap (open, readAll, repair once on an
 * unexpected EOF, retry). Required of every outcome:
 *
 * - success, or an instance of WalError — never another exception type;
 * - no hang (a per-case timeout; the map FS yields a macrotask per operation so timers fire, and has an
 *   operation budget);
 * - no read request larger than the file (a corrupt length must never cause a large allocation);
 * - no file handle left open;
 * - on success, a consistent result: entries contiguous from snapshot+1, and — unless a bit flip hit a
 *   record's header (type, crc, data key), which no CRC covers — exactly what etcd's rules give for some prefix of the
 *   original record stream starting at some segment (the model in support/wal-model.ts);
 * - repair: false leaves the directory untouched; true leaves `<last>.broken` (the whole old file) and
 *   the last segment truncated to a prefix that a second repair does not touch.
 *
 * And: a WAL that was never corrupted reads back exactly what was written (random raft-like scripts).
 *
 * Budget: the default run count keeps this file well under a minute; raise it with WALNUT_FUZZ_RUNS
 * (runs per mutation family, default 40), and draw new inputs with WALNUT_FUZZ_SEED=random.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnexpectedEofError, WalError } from '../src/errors.js';
import { Wal } from '../src/wal.js';
import { compareSegments, tryParseSegmentName } from '../src/segment-name.js';
import type { Entry, HardState, Snapshot } from '../src/types.js';
import { MapFileSystem, OpBudgetExceeded, type ReadInfo } from './support/map-file-system.js';
import { concat, hex, parseFrames, wordBytes } from './support/wal-bytes.js';
import {
  Replayer,
  fingerprint,
  hsKey,
  replay,
  runScript,
  selectStart,
  snapsKey,
  typedStream,
  type Script,
  type ScriptOp,
  type SegmentInfo,
  type TypedRecord,
} from './support/wal-model.js';

const RUNS = Math.max(1, Number(process.env.WALNUT_FUZZ_RUNS ?? 40));
// The seed is fixed by default (test/fast-check-seed.ts); a failure prints the seed and path that replay
// it: WALNUT_FUZZ_SEED=<seed> WALNUT_FUZZ_PATH=<path>.
const FC_PARAMS: { path?: string } = process.env.WALNUT_FUZZ_PATH ? { path: process.env.WALNUT_FUZZ_PATH } : {};
const CASE_TIMEOUT_MS = 15_000;
const DIR = '/wal';

// ---------------------------------------------------------------------------------------------
// Base WALs and what is acceptable from them
// ---------------------------------------------------------------------------------------------

interface Base {
  readonly name: string;
  readonly fs: MapFileSystem;
  readonly segmentSizeBytes: number;
  readonly segs: SegmentInfo[];
  readonly snapshots: Snapshot[];
  /** Per snapshot index: fingerprints of acceptable ReadAll results. */
  readonly readOk: Map<bigint, Set<string>>;
  /** Per snapshot index: acceptable Verify results. */
  readonly verifyOk: Map<bigint, Set<string>>;
  /** Acceptable ValidSnapshotEntries results. */
  readonly validOk: Set<string>;
}

function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function baseScript(seed: number, segmentSizeBytes: number, nOps: number, metadata: Uint8Array | undefined, big: boolean): Script {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const ops: ScriptOp[] = [];
  for (let i = 0; i < nOps; i++) {
    const p = r();
    if (p < 0.65) {
      const sizes = Array.from({ length: 1 + int(3) }, () =>
        r() < 0.1 ? -1 : r() < 0.1 ? 0 : big && r() < 0.15 ? 900 + int(1200) : int(200),
      );
      ops.push({ kind: 'append', sizes, termBump: r() < 0.1, vote: r() < 0.1, commitStep: int(4) });
    } else if (p < 0.75) ops.push({ kind: 'snapshot', pick: int(1000), withConfState: r() < 0.7 });
    else if (p < 0.82) ops.push({ kind: 'overwrite', back: int(5), sizes: [int(100), int(100)] });
    else if (p < 0.95) ops.push({ kind: 'state', commitStep: 1 + int(3) });
    else ops.push({ kind: 'noop' });
  }
  return { segmentSizeBytes, metadata, ops };
}

async function buildBase(name: string, script: Script): Promise<Base> {
  const fs = new MapFileSystem();
  fs.ensureDir('/');
  const { log, snapshots } = await runScript(fs, DIR, script);
  for (const n of fs.list(DIR)) if (!n.endsWith('.wal')) fs.deletePath(`${DIR}/${n}`);
  const segs = typedStream(fs, DIR, script.metadata, log);
  const readOk = new Map<bigint, Set<string>>();
  const verifyOk = new Map<bigint, Set<string>>();
  const validOk = new Set<string>();
  for (const s of snapshots) {
    const rs = new Set<string>();
    const vs = new Set<string>();
    for (let j = 0; j < segs.length; j++) {
      const rp = new Replayer(s.index, s.term);
      const vp = new Replayer(s.index, s.term);
      const note = () => {
        const o = rp.outcome();
        if (o.ok) rs.add(fingerprint(o));
        const v = vp.outcome();
        if (v.ok) vs.add(hsKey(v.hardState));
      };
      note();
      for (const seg of segs.slice(j)) {
        for (const rec of seg.records) {
          rp.feed(rec);
          if (rec.kind !== 'entry') vp.feed(rec);
          note();
        }
      }
    }
    readOk.set(s.index, rs);
    verifyOk.set(s.index, vs);
  }
  for (let j = 0; j < segs.length; j++) {
    const snaps: Snapshot[] = [];
    let commit = 0n;
    const note = () => validOk.add(snapsKey(snaps.filter((x) => x.index <= commit)));
    note();
    for (const seg of segs.slice(j)) {
      for (const rec of seg.records) {
        if (rec.kind === 'snap') snaps.push(rec.snap);
        if (rec.kind === 'state') commit = rec.state.commit;
        note();
      }
    }
  }
  return { name, fs, segmentSizeBytes: script.segmentSizeBytes, segs, snapshots, readOk, verifyOk, validOk };
}

const bases: Base[] = [];

beforeAll(async () => {
  const enc = new TextEncoder();
  bases.push(await buildBase('small-segments', baseScript(11, 1024, 70, enc.encode('fuzz-metadata'), false)));
  bases.push(await buildBase('nil-metadata', baseScript(22, 2048, 60, undefined, false)));
  bases.push(await buildBase('big-records', baseScript(33, 4096, 50, enc.encode('m'), true)));
  for (const b of bases) {
    if (process.env.WALNUT_FUZZ_STATS)
      console.log(b.name, b.segs.map((s) => `${s.name}:${s.records.length}rec/${s.end}B`).join(' '), b.snapshots.length, 'snapshots');
    expect(b.segs.length, b.name).toBeGreaterThanOrEqual(4);
    expect(b.snapshots.length, b.name).toBeGreaterThanOrEqual(3);
  }
});

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

type Mutation =
  | { k: 'flip'; seg: number; pos: number; bit: number; inUse: boolean }
  | { k: 'truncate'; seg: number; pos: number; inUse: boolean }
  | { k: 'zeroSector'; seg: number; sector: number }
  | { k: 'word'; seg: number; frame: number; word: bigint | 'barely' | 'short' }
  | { k: 'dup'; seg: number; frame: number; to: number }
  | { k: 'swap'; seg: number; a: number; b: number }
  | { k: 'remove'; seg: number }
  | { k: 'rename'; seg: number; how: 'garbage' | 'seq-jump' | 'swap-next' | 'index' | 'lenient' | 'broken'; n: number }
  | { k: 'garbage'; name: string; content: 'empty' | 'random' | 'copy' | 'zeros'; bytes: Uint8Array; from: number }
  | { k: 'empty'; seg: number }
  | { k: 'dir'; seq: number };

const ABSURD_WORDS = [
  0x00ffffffffffffffn,
  2n ** 53n,
  2n ** 53n + 1n,
  0xffffffffffffffffn,
  0x87ffffffffffffffn,
  2n ** 32n,
  2n ** 31n - 1n,
  0x8000000000000000n,
  0x0100000000000000n,
];

const segIdx = fc.nat({ max: 1000 });
const mutationArb: Record<string, fc.Arbitrary<Mutation>> = {
  flip: fc.record({ k: fc.constant('flip' as const), seg: segIdx, pos: fc.nat(), bit: fc.nat({ max: 7 }), inUse: fc.boolean() }),
  truncate: fc.record({ k: fc.constant('truncate' as const), seg: segIdx, pos: fc.nat(), inUse: fc.boolean() }),
  zeroSector: fc.record({ k: fc.constant('zeroSector' as const), seg: segIdx, sector: fc.nat({ max: 64 }) }),
  word: fc.record({
    k: fc.constant('word' as const),
    seg: segIdx,
    frame: fc.nat({ max: 200 }),
    word: fc.oneof(fc.constantFrom(...ABSURD_WORDS), fc.constantFrom('barely' as const, 'short' as const)),
  }),
  dup: fc.record({ k: fc.constant('dup' as const), seg: segIdx, frame: fc.nat({ max: 200 }), to: fc.nat({ max: 200 }) }),
  swap: fc.record({ k: fc.constant('swap' as const), seg: segIdx, a: fc.nat({ max: 200 }), b: fc.nat({ max: 200 }) }),
  remove: fc.record({ k: fc.constant('remove' as const), seg: segIdx }),
  rename: fc.record({
    k: fc.constant('rename' as const),
    seg: segIdx,
    how: fc.constantFrom(
      'garbage' as const,
      'seq-jump' as const,
      'swap-next' as const,
      'index' as const,
      'lenient' as const,
      'broken' as const,
    ),
    n: fc.nat({ max: 1000 }),
  }),
  garbage: fc.record({
    k: fc.constant('garbage' as const),
    name: fc.constantFrom(
      'foo',
      '0.tmp',
      '1.tmp',
      'x.wal',
      '1-2.wal',
      ' 0-0.wal',
      '00000000000000FF-0000000000000000.wal',
      '0000000000000000-0000000000000000.wal.broken',
      '0000000000000099-0000000000000001.wal',
      '000000000000000a-ffffffffffffffff.wal',
      '0000000000000000-0000000000000000.wal.wal',
      '.wal',
      'zzzzzzzzzzzzzzzz-0000000000000000.wal',
    ),
    content: fc.constantFrom('empty' as const, 'random' as const, 'copy' as const, 'zeros' as const),
    bytes: fc.uint8Array({ maxLength: 600 }),
    from: segIdx,
  }),
  empty: fc.record({ k: fc.constant('empty' as const), seg: segIdx }),
  dir: fc.record({ k: fc.constant('dir' as const), seq: fc.nat({ max: 20 }) }),
};

/** Applies a mutation; returns false if it could not apply, and whether later strong checks stay valid. */
function applyMutation(fs: MapFileSystem, base: Base, m: Mutation, touched: Set<string>): { exempt: boolean } {
  const names = fs.list(DIR).filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(n));
  if (names.length === 0) return { exempt: false };
  const name = 'seg' in m ? names[m.seg % names.length]! : names[0]!;
  const path = `${DIR}/${name}`;
  const bytes = fs.getFile(path);
  const orig = base.segs.find((s) => s.name === name);
  const framesOf = (b: Uint8Array) => {
    try {
      return parseFrames(b);
    } catch {
      return [];
    }
  };
  switch (m.k) {
    case 'flip': {
      if (!bytes || bytes.length === 0) return { exempt: false };
      const limit = m.inUse && orig ? Math.min(bytes.length, orig.end + 16) : bytes.length;
      const pos = m.pos % limit;
      bytes[pos]! ^= 1 << m.bit;
      fs.putFile(path, bytes);
      // The record header (type, crc, data key) is covered by no CRC: a flip there may turn a record into
      // another valid one (e.g. an entry into a state, or any record into type 0 by changing the type's key).
      const exempt = touched.has(name) || !orig || orig.unprotected.some(([a, b]) => pos >= a && pos < b);
      touched.add(name);
      return { exempt };
    }
    case 'truncate': {
      if (!bytes) return { exempt: false };
      const limit = m.inUse && orig ? Math.min(bytes.length, orig.end + 16) + 1 : bytes.length + 1;
      fs.putFile(path, bytes.subarray(0, m.pos % limit));
      touched.add(name);
      return { exempt: false };
    }
    case 'zeroSector': {
      if (!bytes || bytes.length === 0) return { exempt: false };
      const sector = m.sector % Math.ceil(bytes.length / 512);
      bytes.fill(0, sector * 512, sector * 512 + 512);
      fs.putFile(path, bytes);
      touched.add(name);
      return { exempt: false };
    }
    case 'word': {
      if (!bytes) return { exempt: false };
      const frames = framesOf(bytes);
      if (frames.length === 0) return { exempt: false };
      const f = frames[m.frame % frames.length]!;
      // 'barely': one byte more than the file can hold after this word (the bound's edge); 'short': N − 1.
      const word =
        m.word === 'barely'
          ? BigInt(bytes.length - f.offset - 8 + 1)
          : m.word === 'short'
            ? BigInt(Math.max(1, f.n - 1)) | ((0x80n | 1n) << 56n)
            : m.word;
      bytes.set(wordBytes(word), f.offset);
      fs.putFile(path, bytes);
      touched.add(name);
      return { exempt: false };
    }
    case 'dup':
    case 'swap': {
      if (!bytes) return { exempt: false };
      const frames = framesOf(bytes);
      if (frames.length < 2) return { exempt: false };
      const parts = frames.map((f) => bytes.slice(f.offset, f.offset + f.size));
      const end = frames[frames.length - 1]!.offset + frames[frames.length - 1]!.size;
      if (m.k === 'dup') {
        parts.splice(m.to % (parts.length + 1), 0, parts[m.frame % parts.length]!);
      } else {
        const a = m.a % parts.length;
        const b = m.b % parts.length;
        [parts[a], parts[b]] = [parts[b]!, parts[a]!];
      }
      fs.putFile(path, concat(...parts, bytes.subarray(end)));
      touched.add(name);
      return { exempt: false };
    }
    case 'remove':
      fs.deletePath(path);
      return { exempt: false };
    case 'rename': {
      const i = names.indexOf(name);
      const seq = BigInt('0x' + name.slice(0, 16));
      const idx = BigInt('0x' + name.slice(17, 33));
      const h16 = (v: bigint) => v.toString(16).padStart(16, '0');
      let to: string;
      switch (m.how) {
        case 'garbage':
          to = `garbage-${m.n}`;
          break;
        case 'seq-jump':
          to = `${h16(seq + 2n + BigInt(m.n % 5))}-${h16(idx)}.wal`;
          break;
        case 'index':
          to = `${h16(seq)}-${h16(BigInt(m.n))}.wal`;
          break;
        case 'lenient':
          to = `${seq.toString(16).toUpperCase()}-${idx.toString(16)}.wal`;
          break;
        case 'broken':
          to = `${name}.broken`;
          break;
        case 'swap-next': {
          const other = names[(i + 1) % names.length]!;
          if (other === name) return { exempt: false };
          fs.renameFile(path, `${DIR}/tmp-swap`);
          fs.renameFile(`${DIR}/${other}`, path);
          fs.renameFile(`${DIR}/tmp-swap`, `${DIR}/${other}`);
          touched.add(name);
          touched.add(other);
          return { exempt: false };
        }
      }
      if (fs.getFile(`${DIR}/${to}`) !== undefined || to === name) return { exempt: false };
      fs.renameFile(path, `${DIR}/${to}`);
      touched.add(to);
      return { exempt: false };
    }
    case 'garbage': {
      const p = `${DIR}/${m.name}`;
      if (fs.getFile(p) !== undefined) return { exempt: false };
      const src = fs.getFile(`${DIR}/${names[m.from % names.length]!}`) ?? new Uint8Array(0);
      const content =
        m.content === 'empty'
          ? new Uint8Array(0)
          : m.content === 'random'
            ? m.bytes
            : m.content === 'zeros'
              ? new Uint8Array(m.bytes.length)
              : src;
      fs.putFile(p, content);
      touched.add(m.name);
      return { exempt: false };
    }
    case 'empty':
      fs.putFile(path, new Uint8Array(0));
      touched.add(name);
      return { exempt: false };
    case 'dir': {
      const seqName = `${m.seq.toString(16).padStart(16, '0')}-0000000000000000.wal`;
      if (fs.getFile(`${DIR}/${seqName}`) !== undefined) return { exempt: false };
      fs.deletePath(`${DIR}/${seqName}`);
      fs.ensureDir(`${DIR}/${seqName}`);
      return { exempt: false };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running the readers on a mutated directory
// ---------------------------------------------------------------------------------------------

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

class Violation extends Error {}

function instrument(fs: MapFileSystem, budget = 200_000): string[] {
  const problems: string[] = [];
  fs.opBudget = budget;
  fs.onRead = (i: ReadInfo) => {
    // A length-word read (8 bytes) on a file shorter than 8 bytes is allowed: nothing large is allocated.
    const limit = Math.max(i.fileSize, 8);
    if (i.length > limit || i.bufferLength > limit) {
      problems.push(`read of ${i.length} bytes (buffer ${i.bufferLength}) from ${i.path} of ${i.fileSize} bytes at ${i.position}`);
    }
  };
  return problems;
}

async function withTimeout<T>(what: string, p: Promise<T>, ms = CASE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Violation(`${what}: no result after ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Outcome counts per operation (printed with WALNUT_FUZZ_STATS=1). */
const stats = new Map<string, number>();
function count(what: string, out: Outcome<unknown>): void {
  const key = `${what.split(' ')[0]} ${out.ok ? 'ok' : (out.error as WalError).code}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
}
afterAll(() => {
  if (process.env.WALNUT_FUZZ_STATS)
    console.log(
      [...stats.entries()]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n'),
    );
});

/** Runs `op` on its own copy of `fs`; checks the universal requirements; returns the outcome and the copy. */
async function run<T>(
  what: string,
  fs: MapFileSystem,
  op: (fs: MapFileSystem) => Promise<T>,
  limits: { timeoutMs?: number; budget?: number } = {},
): Promise<{ out: Outcome<T>; fs: MapFileSystem }> {
  const copy = fs.clone();
  const problems = instrument(copy, limits.budget);
  let out: Outcome<T>;
  try {
    out = { ok: true, value: await withTimeout(what, op(copy), limits.timeoutMs) };
  } catch (error) {
    if (error instanceof Violation) throw error;
    out = { ok: false, error };
  }
  if (!out.ok) {
    const e = out.error;
    if (e instanceof OpBudgetExceeded) throw new Violation(`${what}: operation budget exceeded (livelock)`);
    if (!(e instanceof WalError)) {
      throw new Violation(
        `${what}: threw a non-WalError: ${e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : String(e)}`,
      );
    }
  }
  count(what, out);
  if (problems.length) throw new Violation(`${what}: ${problems.join('; ')}`);
  if (copy.openHandles.size)
    throw new Violation(
      `${what}: ${copy.openHandles.size} file handle(s) left open: ${[...copy.openHandles].map((h) => h.path).join(', ')}`,
    );
  copy.onRead = undefined;
  copy.opBudget = Number.POSITIVE_INFINITY;
  return { out, fs: copy };
}

function checkContiguous(what: string, snap: Snapshot, entries: readonly Entry[]): void {
  entries.forEach((e, i) => {
    if (e.index !== snap.index + 1n + BigInt(i))
      throw new Violation(`${what}: entries not contiguous from ${snap.index + 1n}: [${i}] has index ${e.index}`);
  });
}

interface ReadResult {
  metadata: Uint8Array | undefined;
  hardState: HardState;
  entries: Entry[];
}

async function readOnce(fs: MapFileSystem, snap: Snapshot, write: boolean, segmentSizeBytes: number): Promise<ReadResult> {
  const w = write ? await Wal.open(fs, DIR, snap, { segmentSizeBytes }) : await Wal.openForRead(fs, DIR, snap);
  try {
    return await w.readAll();
  } finally {
    await w.close();
  }
}

async function fuzzCase(base: Base, muts: Mutation[], snapPick: number): Promise<void> {
  const fs = base.fs.clone();
  const touched = new Set<string>();
  let exempt = false;
  for (const m of muts) exempt = applyMutation(fs, base, m, touched).exempt || exempt;
  const snap = base.snapshots[snapPick % base.snapshots.length]!;
  const label = `${base.name} ${JSON.stringify(muts, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? hex(v).slice(0, 32) : v))} at {${snap.index},${snap.term}}`;
  const strong = (what: string, ok: boolean) => {
    if (!exempt && !ok)
      throw new Violation(`${what}: result is not what etcd's rules give for any prefix of the original record stream (${label})`);
  };

  // Read mode.
  const rd = await run(`openForRead+readAll ${label}`, fs, (c) => readOnce(c, snap, false, base.segmentSizeBytes));
  if (rd.out.ok) {
    checkContiguous(`openForRead ${label}`, snap, rd.out.value.entries);
    strong(`openForRead`, base.readOk.get(snap.index)!.has(fingerprint(rd.out.value)));
  }

  // Write mode, then append one entry and reread.
  const wr = await run(`open+readAll ${label}`, fs, async (c) => {
    const w = await Wal.open(c, DIR, snap, { segmentSizeBytes: base.segmentSizeBytes });
    let r: ReadResult;
    try {
      r = await w.readAll();
      const next = (r.entries.length ? r.entries[r.entries.length - 1]!.index : snap.index) + 1n;
      const extra: Entry = { index: next, term: 1000n, type: 0, data: new TextEncoder().encode('appended') };
      await w.save({ term: 1000n, vote: 7n, commit: snap.index }, [extra]);
      r = { ...r, entries: [...r.entries, extra] };
    } finally {
      await w.close();
    }
    return r;
  });
  if (wr.out.ok) {
    const r = wr.out.value;
    checkContiguous(`open ${label}`, snap, r.entries);
    strong('open', base.readOk.get(snap.index)!.has(fingerprint({ ...r, entries: r.entries.slice(0, -1) })));
    if (rd.out.ok)
      expect(fingerprint({ ...r, entries: r.entries.slice(0, -1) }), `write mode read what read mode read (${label})`).toBe(
        fingerprint(rd.out.value),
      );
    const again = await run(`reread after append ${label}`, wr.fs, (c) => readOnce(c, snap, false, base.segmentSizeBytes));
    if (!again.out.ok)
      throw new Violation(`reread after a successful open+readAll+save failed: ${(again.out.error as Error).message} (${label})`);
    expect(
      again.out.value.entries.map((e) => `${e.index}/${e.term}`),
      `reread after append (${label})`,
    ).toEqual(r.entries.map((e) => `${e.index}/${e.term}`));
    expect(again.out.value.hardState).toEqual({ term: 1000n, vote: 7n, commit: snap.index });
  }

  // Verify.
  const vf = await run(`verify ${label}`, fs, (c) => Wal.verify(c, DIR, snap));
  if (vf.out.ok) strong('verify', base.verifyOk.get(snap.index)!.has(hsKey(vf.out.value)));

  // ValidSnapshotEntries.
  const vs = await run(`validSnapshotEntries ${label}`, fs, (c) => Wal.validSnapshotEntries(c, DIR));
  if (vs.out.ok) {
    const list = vs.out.value;
    for (const s of list) {
      if (!base.snapshots.some((o) => o.index === s.index && o.term === s.term) && !exempt)
        throw new Violation(`validSnapshotEntries returned a snapshot never written: {${s.index},${s.term}} (${label})`);
    }
    strong('validSnapshotEntries', base.validOk.has(snapsKey(list)));
  }

  // Repair.
  const before = fs.dump();
  const rp = await run(`repair ${label}`, fs, (c) => Wal.repair(c, DIR));
  if (rp.out.ok) {
    const after = rp.fs.dump();
    const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
    if (!rp.out.value) {
      if (changed.length) throw new Violation(`repair returned false but changed ${changed.join(', ')} (${label})`);
    } else if (changed.length) {
      const broken = changed.filter((k) => k.endsWith('.broken'));
      const segs = changed.filter((k) => !k.endsWith('.broken'));
      if (broken.length !== 1 || segs.length !== 1 || broken[0] !== `${segs[0]}.broken`)
        throw new Violation(`repair changed ${changed.join(', ')} (${label})`);
      const seg = segs[0]!;
      if (after[broken[0]!] !== before[seg]) throw new Violation(`repair: ${broken[0]} is not a copy of the old ${seg} (${label})`);
      if (!before[seg]!.startsWith(after[seg]!)) throw new Violation(`repair: ${seg} is not a prefix of the old file (${label})`);
      const second = await run(`second repair ${label}`, rp.fs, (c) => Wal.repair(c, DIR));
      if (!second.out.ok || second.out.value !== true) throw new Violation(`second repair did not return true (${label})`);
      const again = second.fs.dump();
      if (Object.keys(again).some((k) => again[k] !== after[k])) throw new Violation(`second repair changed the directory (${label})`);
    }
  }

  // etcd's bootstrap: open + readAll; on an unexpected EOF, repair once and retry.
  const boot = await run(`bootstrap ${label}`, fs, async (c) => {
    try {
      return { first: await readOnce(c, snap, true, base.segmentSizeBytes), repaired: undefined, second: undefined };
    } catch (e) {
      if (!(e instanceof UnexpectedEofError)) throw e;
      // The last segment in walnut's order (by sequence number, then name), the one repair looks at.
      const last = c
        .list(DIR)
        .map((n) => tryParseSegmentName(n))
        .filter((n) => n !== undefined)
        .sort(compareSegments)
        .pop()?.name;
      const repaired = await Wal.repair(c, DIR);
      try {
        return { first: undefined, repaired, second: await readOnce(c, snap, true, base.segmentSizeBytes) };
      } catch (e2) {
        if (repaired && e2 instanceof UnexpectedEofError && e2.location.file === last) {
          throw new Violation(
            `repair returned true, yet readAll still ends in an unexpected EOF in the last segment ${last}: ${e2.message} (${label})`,
          );
        }
        throw e2;
      }
    }
  });
  if (boot.out.ok) {
    const r = boot.out.value.first ?? boot.out.value.second!;
    checkContiguous(`bootstrap ${label}`, snap, r.entries);
    // Repair only cuts the last segment at a frame boundary: what is read afterwards is still a prefix.
    strong('bootstrap', base.readOk.get(snap.index)!.has(fingerprint(r)));
  }
}

async function fuzzProperty(arb: fc.Arbitrary<Mutation[]>, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 2 }), arb, fc.nat({ max: 100 }), async (b, muts, snapPick) => {
      await fuzzCase(bases[b % bases.length]!, muts, snapPick);
    }),
    { numRuns, endOnFailure: true, ...FC_PARAMS },
  );
}

describe('the fuzz harness itself catches what it is meant to', () => {
  const fs = new MapFileSystem();
  fs.putFile('/wal/f', new Uint8Array(100));
  it('a non-WalError', async () => {
    await expect(run('t', fs, async () => JSON.parse('{'))).rejects.toThrow(/non-WalError: SyntaxError/);
  });
  it('a read larger than the file', async () => {
    await expect(run('t', fs, async (c) => (await c.open('/wal/f', 'read')).read(new Uint8Array(101), 0, 101, 0))).rejects.toThrow(
      /read of 101 bytes/,
    );
  });
  it('a livelock over the file system (operation budget)', async () => {
    await expect(
      run(
        't',
        fs,
        async (c) => {
          for (;;) await c.stat('/wal/f');
        },
        { budget: 1000 },
      ),
    ).rejects.toThrow(/budget/);
  });
  it('a hang (timeout)', async () => {
    await expect(run('t', fs, () => new Promise(() => {}), { timeoutMs: 50 })).rejects.toThrow(/hang/);
  });
  it('a handle left open', async () => {
    await expect(run('t', fs, async (c) => c.open('/wal/f', 'read'))).rejects.toThrow(/left open/);
  });
});

describe('fuzz: mutated WAL directories', () => {
  for (const [family, arb] of Object.entries(mutationArb)) {
    it(`${family}`, async () => {
      await fuzzProperty(
        arb.map((m) => [m]),
        RUNS,
      );
    });
  }

  it('combinations of 2–4 mutations', async () => {
    await fuzzProperty(fc.array(fc.oneof(...Object.values(mutationArb)), { minLength: 2, maxLength: 4 }), 2 * RUNS);
  });

  it('every absurd length word on every frame of the first and last segment', async () => {
    for (const base of bases) {
      for (const seg of [0, base.segs.length - 1]) {
        for (let frame = 0; frame < base.segs[seg]!.frameOffsets.length; frame += 3) {
          for (const word of ABSURD_WORDS.slice(0, 4)) await fuzzCase(base, [{ k: 'word', seg, frame, word }], frame);
        }
      }
    }
  });

  it('truncation at every 8th offset of the last segment', async () => {
    const base = bases[0]!;
    const last = base.segs[base.segs.length - 1]!;
    for (let pos = 0; pos <= last.end + 8; pos += 8) {
      await fuzzCase(base, [{ k: 'truncate', seg: base.segs.length - 1, pos, inUse: false }], 0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The uncorrupted round trip
// ---------------------------------------------------------------------------------------------

const sizeArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: -1, max: 250 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }) },
);
const opArb: fc.Arbitrary<ScriptOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      sizes: fc.array(sizeArb, { maxLength: 4 }),
      termBump: fc.boolean(),
      vote: fc.boolean(),
      commitStep: fc.nat({ max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('overwrite' as const),
      back: fc.nat({ max: 10 }),
      sizes: fc.array(sizeArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), pick: fc.nat(), withConfState: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('state' as const), commitStep: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'noop' as const }) },
);
const scriptArb: fc.Arbitrary<Script> = fc.record({
  segmentSizeBytes: fc.constantFrom(256, 1024, 2048, 8192, 1_000_000),
  metadata: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: undefined }),
  ops: fc.array(opArb, { maxLength: 45 }),
});

describe('an uncorrupted WAL reads back exactly what was written', () => {
  it('property: random raft-like scripts; readAll (both modes) at every saved snapshot, verify, validSnapshotEntries, repair', async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, async (script) => {
        const fs = new MapFileSystem();
        const { log, snapshots } = await runScript(fs, DIR, script);
        // The bytes on disk are exactly the script's records, framed, with a correct CRC chain and cut heads.
        const segs = typedStream(fs, DIR, script.metadata, log);
        const all: TypedRecord[] = segs.flatMap((s) => s.records);
        for (const snap of snapshots) {
          const start = selectStart(segs, snap.index);
          expect(typeof start).toBe('number');
          const want = replay(
            segs.slice(start as number).flatMap((s) => s.records),
            snap.index,
            snap.term,
          );
          expect(want.ok, `the model reads the script's WAL at {${snap.index},${snap.term}}`).toBe(true);
          if (!want.ok) return;
          for (const write of [false, true]) {
            const r = await run(`readAll write=${write}`, fs, (c) => readOnce(c, snap, write, script.segmentSizeBytes));
            if (!r.out.ok) throw r.out.error;
            expect(r.out.value.metadata === undefined ? undefined : hex(r.out.value.metadata)).toBe(
              want.metadata === undefined ? undefined : hex(want.metadata),
            );
            expect(r.out.value.hardState).toEqual(want.hardState);
            expect(r.out.value.entries.length).toBe(want.entries.length);
            expect(fingerprint(r.out.value)).toBe(fingerprint(want));
            r.out.value.entries.forEach((e, i) => {
              const w = want.entries[i]!;
              expect({ ...e, data: e.data && hex(e.data) }).toEqual({ ...w, data: w.data && hex(w.data) });
            });
          }
          const v = await run('verify', fs, (c) => Wal.verify(c, DIR, snap));
          if (!v.out.ok) throw v.out.error;
          expect(v.out.value).toEqual(want.hardState);
        }
        // The last state of the whole directory decides which snapshots are valid.
        const states = all.filter((r) => r.kind === 'state');
        const commit = states.length ? (states[states.length - 1] as { state: HardState }).state.commit : 0n;
        const vs = await run('validSnapshotEntries', fs, (c) => Wal.validSnapshotEntries(c, DIR));
        if (!vs.out.ok) throw vs.out.error;
        expect(snapsKey(vs.out.value)).toBe(snapsKey(snapshots.filter((s) => s.index <= commit)));
        expect(vs.out.value).toEqual(snapshots.filter((s) => s.index <= commit));
        const before = fs.dump();
        const rp = await run('repair', fs, (c) => Wal.repair(c, DIR));
        expect(rp.out).toEqual({ ok: true, value: true });
        expect(rp.fs.dump()).toEqual(before);
      }),
      { numRuns: Math.max(10, RUNS * 2), ...FC_PARAMS },
    );
  });
});
