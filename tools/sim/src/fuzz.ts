/**
 * Structure-aware fuzzing of WAL directories. A case number picks one of a few valid base WALs (written by
 * walnut itself, through the seeded raft-like workload, with small segments so there are many) and applies
 * 1–4 mutations that know the format: bit flips (mostly inside frames), truncation (often at or next to a
 * frame boundary), zeroed 512-byte sectors, absurd or off-by-one length words, duplicated, reordered or
 * dropped frames, removed or renamed segments (sequence jumps, changed indexes, lenient or garbage names,
 * `.broken`), garbage files (random, zeros, copies, empty) under tempting names, a directory where a segment
 * should be. Every reader then runs on its own copy of the directory:
 *
 * openForRead + readAll, verify, validSnapshotEntries, repair (twice when it changed something), and etcd's
 * start-up (open, readAll, on an unexpected EOF repair once and retry; then an append, a close and a reread;
 * without a repair, write mode must read what read mode read).
 *
 * Required of every outcome: success or a typed WalError (never another exception); no hang (watchdog and an
 * operation budget); no read larger than the file and no file grown past a limit (a corrupt length must never
 * become an allocation); no handle left open; entries contiguous from the snapshot; nothing returned that was
 * never written (entries, hard states, snapshots) unless a flip hit bytes no CRC covers (length words, record
 * headers, padding); repair either changes nothing (false) or keeps the whole old file as `.broken` and cuts the
 * last segment to a prefix that a second repair leaves alone; a start-up that succeeds accepts appends.
 */
import { Wal, WalError, tryParseSegmentName, type Entry, type FileSystem, type HardState, type Snapshot } from '@walnut/wal-core';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { checkTyped, SimFailure, withWatchdog } from './checker.js';
import { parseSegment, sameBytes, sameEntry, segmentName, type ParsedSegment } from './model.js';
import { fillBytes, SplitMix64 } from './prng.js';
import { SimFileSystem } from './sim-fs.js';
import { EMPTY_HS, makeConfig, RaftNode, sameHs, WorkloadGenerator } from './workload.js';

const DIR = '/wal';
const BASES = 12;
const CASE_SALT = 0x5eed_f022n;

export interface FuzzResult {
  readonly id: bigint;
  readonly ok: boolean;
  readonly failure?: string;
  /** The base and the mutations, in words. */
  readonly description: string;
  /** What each reader returned. */
  readonly outcomes: string[];
}

// ---------------------------------------------------------------------------------------------
// Base WALs
// ---------------------------------------------------------------------------------------------

interface Base {
  readonly name: string;
  readonly segmentSizeBytes: number;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly entries: readonly Entry[];
  readonly states: readonly HardState[];
  readonly snapshots: readonly Snapshot[];
}

let bases: Promise<Base[]> | undefined;

/** The base WALs (built once per process, deterministically). */
function getBases(): Promise<Base[]> {
  bases ??= (async () => {
    const out: Base[] = [];
    for (let k = 0; k < BASES; k++) out.push(await buildBase(k));
    return out;
  })();
  return bases;
}

async function buildBase(k: number): Promise<Base> {
  const rng = new SplitMix64(0xba5e0000n + BigInt(k));
  const fs = new MemoryFileSystem({ seed: k });
  const cfg = { ...makeConfig(rng, { steps: 12 + rng.int(16) }), big: false };
  const segmentSizeBytes = rng.pick([1024, 1024, 2048, 4096]);
  const gen = new WorkloadGenerator(rng, { ...cfg, segmentSizeBytes });
  const node = new RaftNode();
  node.recover({ index: 0n, term: 0n }, EMPTY_HS, []);
  const entries: Entry[] = [];
  const states: HardState[] = [];
  const snapshots: Snapshot[] = [{ index: 0n, term: 0n }];
  const wal = await Wal.create(fs, DIR, cfg.metadata, { segmentSizeBytes });
  for (let i = 0; i < cfg.steps; i++) {
    const op = gen.next(node);
    switch (op.op) {
      case 'save':
        entries.push(...op.entries);
        if (!sameHs(op.hardState, EMPTY_HS)) states.push(op.hardState);
        await wal.save(op.hardState, op.entries);
        break;
      case 'batch':
        for (const s of op.saves) {
          entries.push(...s.entries);
          if (!sameHs(s.hardState, EMPTY_HS)) states.push(s.hardState);
        }
        await Promise.all(op.saves.map((s) => wal.save(s.hardState, s.entries)));
        break;
      case 'snapshot':
        snapshots.push(op.snapshot);
        await wal.saveSnapshot(op.snapshot);
        if (op.release) await wal.releaseLockTo(op.snapshot.index);
        break;
      case 'release':
        await wal.releaseLockTo(op.index);
        break;
      case 'sync':
        await wal.sync();
        break;
      default:
        break; // crashes, restarts and purges are the simulation's business
    }
  }
  await wal.close();
  const files = new Map<string, Uint8Array>();
  for (const name of (await fs.readdir(DIR)).sort()) {
    if (!name.endsWith('.wal')) continue;
    const h = await fs.open(`${DIR}/${name}`, 'read');
    const st = await fs.stat(`${DIR}/${name}`);
    const buf = new Uint8Array(st.size);
    await h.read(buf, 0, st.size, 0);
    await h.close();
    files.set(name, buf);
  }
  return { name: `base${k}`, segmentSizeBytes, files, entries, states, snapshots };
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

type Files = Map<string, Uint8Array | 'dir'>;

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

const ABSURD_WORDS = [
  0x00ffffffffffffffn,
  1n << 53n,
  (1n << 53n) + 1n,
  0xffffffffffffffffn,
  0x87ffffffffffffffn,
  1n << 32n,
  (1n << 31n) - 1n,
  0x8000000000000000n,
  0x0100000000000000n,
  0x80000000000000ffn,
];

const GARBAGE_NAMES = [
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
  'ffffffffffffffff-ffffffffffffffff.wal',
  '0000000000000000-0000000000000000.wal.wal',
  '.wal',
  'zzzzzzzzzzzzzzzz-0000000000000000.wal',
];

interface Mutated {
  readonly files: Files;
  readonly words: string[];
  /** A flip hit bytes no CRC covers: the "never written" checks do not apply. */
  exempt: boolean;
}

function segmentsOf(files: Files): string[] {
  return [...files.keys()].filter((n) => segmentName(n) && files.get(n) !== 'dir').sort();
}

function framesOf(name: string, bytes: Uint8Array): ParsedSegment {
  return parseSegment(name, bytes);
}

/** Byte ranges covered by a CRC: the data of every frame. */
function protectedRanges(p: ParsedSegment): [number, number][] {
  const out: [number, number][] = [];
  for (const f of p.frames) {
    if (f.data && f.data.length > 0) {
      const start = f.data.byteOffset - p.bytes.byteOffset;
      out.push([start, start + f.data.length]);
    }
  }
  return out;
}

function mutate(rng: SplitMix64, m: Mutated): void {
  const files = m.files;
  const segs = segmentsOf(files);
  if (segs.length === 0) {
    m.words.push('(no segment left to mutate)');
    return;
  }
  // The last segment gets extra attention: it is where repair and torn-write rules apply.
  const name = rng.chance(40) ? segs[segs.length - 1]! : rng.pick(segs);
  const bytes = (files.get(name) as Uint8Array).slice();
  const parsed = framesOf(name, bytes);
  const frames = parsed.frames;
  const used = frames.length ? frames[frames.length - 1]!.end : 0;
  const put = (b: Uint8Array) => files.set(name, b);
  const kind = rng.weighted({
    flip: 22,
    truncate: 14,
    zeroSector: 10,
    word: 10,
    dup: 6,
    swap: 6,
    dropFrame: 5,
    remove: 6,
    rename: 8,
    garbage: 8,
    empty: 2,
    dir: 2,
    tail: 4,
  });
  switch (kind) {
    case 'flip': {
      const n = 1 + (rng.chance(70) ? 0 : rng.int(8));
      const limit = rng.chance(80) ? Math.max(1, Math.min(bytes.length, used + 16)) : Math.max(1, bytes.length);
      const ranges = protectedRanges(parsed);
      const at: number[] = [];
      for (let i = 0; i < n && bytes.length > 0; i++) {
        const pos = rng.int(limit);
        bytes[pos]! ^= 1 << rng.int(8);
        at.push(pos);
        if (!ranges.some(([a, b]) => pos >= a && pos < b)) m.exempt = true;
      }
      put(bytes);
      m.words.push(`flip ${name} @${at.join(',')}`);
      return;
    }
    case 'truncate': {
      let pos: number;
      if (frames.length && rng.chance(60)) {
        const f = rng.pick(frames);
        pos = Math.max(0, rng.pick([f.offset, f.end, f.offset + 8, f.end - 1, f.offset + 1 + rng.int(Math.max(1, f.end - f.offset - 1))]));
      } else pos = rng.int(bytes.length + 1);
      put(bytes.slice(0, pos));
      m.words.push(`truncate ${name} to ${pos}`);
      return;
    }
    case 'zeroSector': {
      const sectors = Math.max(1, Math.ceil(Math.min(bytes.length, used + 512) / 512));
      const s = rng.int(sectors);
      const count = 1 + (rng.chance(80) ? 0 : rng.int(3));
      bytes.fill(0, s * 512, (s + count) * 512);
      put(bytes);
      m.words.push(`zero ${count} sector(s) of ${name} from ${s * 512}`);
      return;
    }
    case 'word': {
      if (!frames.length) return mutate(rng, m);
      const f = rng.pick(frames);
      const n = f.end - f.offset - 8;
      const choice = rng.int(4);
      const word =
        choice === 0
          ? rng.pick(ABSURD_WORDS)
          : choice === 1
            ? BigInt(bytes.length - f.offset - 8 + 1) // one byte more than the file holds
            : choice === 2
              ? BigInt(Math.max(0, n - 1 - rng.int(8))) | (0x80n << 56n) | (BigInt(rng.int(8)) << 56n)
              : BigInt(n + 8 * (1 + rng.int(4)));
      new DataView(bytes.buffer, bytes.byteOffset + f.offset, 8).setBigUint64(0, BigInt.asUintN(64, word), true);
      put(bytes);
      m.words.push(`length word of ${name}@${f.offset} = 0x${word.toString(16)}`);
      return;
    }
    case 'dup':
    case 'swap':
    case 'dropFrame': {
      if (frames.length < 2) return mutate(rng, m);
      const parts = frames.map((f) => bytes.slice(f.offset, f.end));
      const a = rng.int(parts.length);
      const b = rng.int(parts.length);
      if (kind === 'dup') parts.splice(b, 0, parts[a]!);
      else if (kind === 'swap') [parts[a], parts[b]] = [parts[b]!, parts[a]!];
      else parts.splice(a, 1);
      put(concat([...parts, bytes.subarray(used)]));
      m.words.push(`${kind} frames ${a},${b} of ${name}`);
      return;
    }
    case 'remove':
      files.delete(name);
      m.words.push(`remove ${name}`);
      return;
    case 'rename': {
      const { seq, index } = segmentName(name)!;
      const how = rng.int(6);
      let to: string;
      if (how === 0) to = `${hex16(seq + 2n + BigInt(rng.int(5)))}-${hex16(index)}.wal`;
      else if (how === 1) to = `${hex16(seq)}-${hex16(BigInt(rng.int(1000)))}.wal`;
      else if (how === 2) to = `${seq.toString(16).toUpperCase()}-${index.toString(16)}.wal`;
      else if (how === 3) to = `${name}.broken`;
      else if (how === 4) to = `garbage-${rng.int(100)}`;
      else {
        const other = rng.pick(segs);
        if (other === name) return;
        const ob = files.get(other)!;
        files.set(other, files.get(name)!);
        files.set(name, ob);
        m.words.push(`swap names ${name} <-> ${other}`);
        return;
      }
      if (files.has(to)) return;
      files.delete(name);
      files.set(to, bytes);
      m.words.push(`rename ${name} -> ${to}`);
      return;
    }
    case 'garbage': {
      const g = rng.pick(GARBAGE_NAMES);
      if (files.has(g)) return;
      const c = rng.int(4);
      const content =
        c === 0
          ? new Uint8Array(0)
          : c === 1
            ? fillBytes(rng.next(), rng.int(2000))
            : c === 2
              ? new Uint8Array(rng.int(2000))
              : bytes.slice();
      files.set(g, content);
      m.words.push(`garbage file ${JSON.stringify(g)} (${content.length} B)`);
      return;
    }
    case 'empty':
      put(new Uint8Array(0));
      m.words.push(`empty ${name}`);
      return;
    case 'dir': {
      const seqName = `${hex16(BigInt(rng.int(segs.length + 2)))}-${hex16(0n)}.wal`;
      if (files.has(seqName)) return;
      files.set(seqName, 'dir');
      m.words.push(`directory ${seqName}`);
      return;
    }
    case 'tail': {
      // Junk after the last good frame of the last segment: leftovers a crash can leave.
      const last = segs[segs.length - 1]!;
      const lb = (files.get(last) as Uint8Array).slice();
      const lp = framesOf(last, lb);
      const end = lp.frames.length ? lp.frames[lp.frames.length - 1]!.end : 0;
      const junk = rng.chance(50) ? fillBytes(rng.next(), 1 + rng.int(700)) : lb.slice(Math.max(0, end - 200), end);
      const out = new Uint8Array(Math.max(lb.length, end + 8 + junk.length));
      out.set(lb);
      out.set(junk, end + (rng.chance(50) ? 8 : 0));
      files.set(last, out);
      m.words.push(`junk (${junk.length} B) after the last frame of ${last}`);
      return;
    }
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running the readers
// ---------------------------------------------------------------------------------------------

async function materialize(files: Files): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  await fs.mkdir(DIR, { recursive: true });
  for (const [name, content] of files) {
    const p = `${DIR}/${name}`;
    if (content === 'dir') {
      await fs.mkdir(p);
      continue;
    }
    const h = await fs.open(p, 'createExclusive');
    if (content.length) await h.write(content, 0, content.length, 0);
    await h.close();
  }
  return fs;
}

async function dump(fs: MemoryFileSystem): Promise<Map<string, Uint8Array | 'dir'>> {
  const out = new Map<string, Uint8Array | 'dir'>();
  for (const name of (await fs.readdir(DIR)).sort()) {
    const st = await fs.stat(`${DIR}/${name}`);
    if (st.isDirectory) {
      out.set(name, 'dir');
      continue;
    }
    const h = await fs.open(`${DIR}/${name}`, 'read');
    const buf = new Uint8Array(st.size);
    if (st.size) await h.read(buf, 0, st.size, 0);
    await h.close();
    out.set(name, buf);
  }
  return out;
}

function sameFile(a: Uint8Array | 'dir' | undefined, b: Uint8Array | 'dir' | undefined): boolean {
  if (a === 'dir' || b === 'dir') return a === b;
  return sameBytes(a, b);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WalError };

const HANG_MS = 20_000;

class Case {
  readonly outcomes: string[] = [];

  constructor(
    readonly base: Base,
    readonly disk: MemoryFileSystem,
    readonly exempt: boolean,
    readonly label: string,
  ) {}

  /**
   * Runs `op` on its own copy of the directory (`readOnly`: on the shared one, which it must not change);
   * checks the universal requirements.
   */
  async run<T>(
    what: string,
    op: (fs: FileSystem, sim: SimFileSystem) => Promise<T>,
    on?: MemoryFileSystem,
    readOnly = false,
  ): Promise<{ out: Outcome<T>; disk: MemoryFileSystem }> {
    const from = on ?? this.disk;
    const copy = readOnly ? from : from.crash({ mode: 'keep-all' });
    const sim = new SimFileSystem(copy, { opBudget: 200_000, maxFileBytes: 16 * 1024 * 1024 });
    let out: Outcome<T>;
    try {
      out = { ok: true, value: await withWatchdog(what, op(sim, sim), HANG_MS) };
    } catch (e) {
      out = { ok: false, error: checkTyped(what, e) };
    }
    if (sim.violations.length) throw new SimFailure(`${what}: ${sim.violations.join('; ')}`);
    if (sim.handles.size)
      throw new SimFailure(`${what}: ${sim.handles.size} file handle(s) left open: ${[...sim.handles].map((h) => h.path).join(', ')}`);
    this.outcomes.push(`${what}: ${out.ok ? 'ok' : out.error.code}`);
    return { out, disk: copy };
  }

  /** Entries contiguous from the snapshot, each one written; the hard state written (or empty). */
  checkRead(what: string, snap: Snapshot, r: { hardState: HardState; entries: readonly Entry[] }): void {
    r.entries.forEach((e, i) => {
      if (e.index !== snap.index + 1n + BigInt(i))
        throw new SimFailure(`${what}: entries not contiguous from ${snap.index + 1n}: [${i}] has index ${e.index}`);
    });
    if (this.exempt) return;
    for (const e of r.entries) {
      if (!this.base.entries.some((w) => sameEntry(w, e)))
        throw new SimFailure(`${what}: returned entry ${e.index}/${e.term} (${e.data?.length ?? 'absent'} B) that was never written`);
    }
    if (!sameHs(r.hardState, EMPTY_HS) && !this.base.states.some((s) => sameHs(s, r.hardState)))
      throw new SimFailure(`${what}: returned a hard state that was never written`);
  }

  checkSnapshots(what: string, list: readonly Snapshot[]): void {
    if (this.exempt) return;
    for (const s of list) {
      if (!this.base.snapshots.some((w) => w.index === s.index && w.term === s.term))
        throw new SimFailure(`${what}: snapshot ${s.index}/${s.term} was never written`);
    }
  }
}

async function readOnce(fs: FileSystem, snap: Snapshot, write: boolean, segmentSizeBytes: number) {
  const w = write ? await Wal.open(fs, DIR, snap, { segmentSizeBytes }) : await Wal.openForRead(fs, DIR, snap);
  try {
    return await w.readAll();
  } finally {
    await w.close().catch(() => {});
  }
}

const APPENDED: Entry = { index: 0n, term: 1000n, type: 0, data: new TextEncoder().encode('appended') };
const APPENDED_HS: HardState = { term: 1000n, vote: 7n, commit: 0n };

/** Appends one entry after what `w` read, then closes it; returns what a reread must find. */
async function appendAndClose(
  w: Wal,
  snap: Snapshot,
  r: { hardState: HardState; entries: Entry[] },
): Promise<{ read: typeof r; want: Entry[] }> {
  try {
    const next = (r.entries.length ? r.entries[r.entries.length - 1]!.index : snap.index) + 1n;
    const extra = { ...APPENDED, index: next };
    await w.save({ ...APPENDED_HS, commit: snap.index }, [extra]);
    return { read: r, want: [...r.entries, extra] };
  } finally {
    await w.close().catch(() => {});
  }
}

/** The reread after a successful append: the appended entry and hard state must be there. */
async function reread(c: Case, what: string, disk: MemoryFileSystem, snap: Snapshot, want: readonly Entry[]): Promise<void> {
  const again = await c.run(`${what}: reread after append`, (fs) => readOnce(fs, snap, false, c.base.segmentSizeBytes), disk, true);
  if (!again.out.ok)
    throw new SimFailure(`${what}: reread after a successful append failed: ${again.out.error.code}: ${again.out.error.message}`);
  const got = again.out.value;
  if (got.entries.length !== want.length || !got.entries.every((e, i) => sameEntry(e, want[i]!)))
    throw new SimFailure(`${what}: reread after append returned ${got.entries.length} entries, expected ${want.length}`);
  if (!sameHs(got.hardState, { ...APPENDED_HS, commit: snap.index }))
    throw new SimFailure(`${what}: reread after append lost the hard state`);
}

export async function runFuzzCase(id: bigint): Promise<FuzzResult> {
  const all = await getBases();
  const rng = new SplitMix64(id * 0x9e3779b97f4a7c15n + CASE_SALT);
  const base = rng.pick(all);
  const m: Mutated = { files: new Map(base.files), words: [], exempt: false };
  const n = rng.weighted({ one: 55, two: 25, three: 12, four: 8 });
  const count = { one: 1, two: 2, three: 3, four: 4 }[n];
  for (let i = 0; i < count; i++) mutate(rng, m);
  const snap = rng.pick(base.snapshots);
  const description = `${base.name} (${base.files.size} segments of ${base.segmentSizeBytes} B) at ${snap.index}/${snap.term}: ${m.words.join('; ') || 'no mutation'}`;
  const disk = await materialize(m.files);
  const c = new Case(base, disk, m.exempt, description);
  try {
    await readers(c, snap);
    return { id, ok: true, description, outcomes: c.outcomes };
  } catch (e) {
    const failure =
      e instanceof SimFailure
        ? e.message
        : `fuzzer error: ${e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack}` : String(e)}`;
    return { id, ok: false, failure, description, outcomes: c.outcomes };
  }
}

async function readers(c: Case, snap: Snapshot): Promise<void> {
  const size = c.base.segmentSizeBytes;

  // Read mode.
  const rd = await c.run('openForRead+readAll', (fs) => readOnce(fs, snap, false, size), undefined, true);
  if (rd.out.ok) c.checkRead('openForRead+readAll', snap, rd.out.value);

  // Verify.
  const vf = await c.run('verify', (fs) => Wal.verify(fs, DIR, snap), undefined, true);
  if (
    vf.out.ok &&
    !c.exempt &&
    !sameHs(vf.out.value, EMPTY_HS) &&
    !c.base.states.some((s) => sameHs(s, (vf.out as { value: HardState }).value))
  )
    throw new SimFailure('verify returned a hard state that was never written');

  // ValidSnapshotEntries.
  const vs = await c.run('validSnapshotEntries', (fs) => Wal.validSnapshotEntries(fs, DIR), undefined, true);
  if (vs.out.ok) c.checkSnapshots('validSnapshotEntries', vs.out.value);

  // Repair: false changes nothing; true keeps the old last segment as .broken and cuts it to a prefix.
  const before = await dump(c.disk);
  const rp = await c.run('repair', (fs) => Wal.repair(fs, DIR));
  if (rp.out.ok) {
    const after = await dump(rp.disk);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => !sameFile(before.get(k), after.get(k)));
    if (!rp.out.value) {
      if (changed.length) throw new SimFailure(`repair returned false but changed ${changed.join(', ')}`);
    } else if (changed.length) {
      const broken = changed.filter((k) => k.endsWith('.broken'));
      const segs = changed.filter((k) => !k.endsWith('.broken'));
      if (broken.length !== 1 || segs.length !== 1 || broken[0] !== `${segs[0]}.broken`)
        throw new SimFailure(`repair changed ${changed.join(', ')}`);
      const seg = segs[0]!;
      const old = before.get(seg);
      const now = after.get(seg);
      if (!sameFile(after.get(broken[0]!), old)) throw new SimFailure(`repair: ${broken[0]} is not a copy of the old ${seg}`);
      if (old === 'dir' || now === 'dir' || !old || !now || now.length > old.length || !sameBytes(now, old.subarray(0, now.length)))
        throw new SimFailure(`repair: ${seg} is not a prefix of the old file`);
      const second = await c.run('second repair', (fs) => Wal.repair(fs, DIR), rp.disk);
      if (!second.out.ok || second.out.value !== true) throw new SimFailure('a second repair did not return true');
      const again = await dump(second.disk);
      if ([...again.keys()].some((k) => !sameFile(again.get(k), after.get(k))))
        throw new SimFailure('a second repair changed the directory');
    }
  }

  // etcd's start-up: open + readAll; on an unexpected EOF, close, repair once, retry; then it must accept appends.
  const boot = await c.run('bootstrap', async (fs) => {
    const attempt = async () => {
      const w = await Wal.open(fs, DIR, snap, { segmentSizeBytes: size });
      let r;
      try {
        r = await w.readAll();
      } catch (e) {
        await w.close().catch(() => {});
        throw e;
      }
      return appendAndClose(w, snap, r);
    };
    try {
      return { ...(await attempt()), repaired: null };
    } catch (e) {
      if (!(e instanceof WalError) || e.code !== 'WAL_UNEXPECTED_EOF') throw e;
      // The last segment as walnut orders them: by sequence number (then name), lenient names included.
      const segs = (await fs.readdir(DIR))
        .map((n) => tryParseSegmentName(n, false))
        .filter((x) => x !== undefined)
        .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const last = segs[segs.length - 1]?.name;
      const repaired = await Wal.repair(fs, DIR);
      try {
        return { ...(await attempt()), repaired };
      } catch (e2) {
        if (repaired && e2 instanceof WalError && e2.code === 'WAL_UNEXPECTED_EOF' && e2.message.includes(`'${last}'`))
          throw new SimFailure(
            `bootstrap: repair returned true, yet readAll still ends in an unexpected EOF in the last segment: ${e2.message}`,
          );
        throw e2;
      }
    }
  });
  if (boot.out.ok) {
    const r = boot.out.value.read;
    c.checkRead('bootstrap', snap, r);
    // Without a repair, write mode reads what read mode read.
    if (boot.out.value.repaired === null && rd.out.ok) {
      const a = rd.out.value;
      if (a.entries.length !== r.entries.length || !sameHs(a.hardState, r.hardState))
        throw new SimFailure(`write mode read ${r.entries.length} entries, read mode ${a.entries.length}`);
    }
    await reread(c, 'bootstrap', boot.disk, snap, boot.out.value.want);
  } else if (rd.out.ok && boot.out.error.code !== 'WAL_UNEXPECTED_EOF') {
    // Read mode tolerates a torn tail; anything else that stops write mode must stop read mode too.
    if (!['WAL_CRC_MISMATCH', 'WAL_MALFORMED_RECORD'].includes(boot.out.error.code) && !c.exempt)
      c.outcomes.push(`note: read mode succeeded, start-up failed with ${boot.out.error.code}`);
  }
}
