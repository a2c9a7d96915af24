/**
 * The model of what a WAL directory must hold, written independently of wal-core's readers.
 *
 * - {@link WalModel} logs every record the workload's calls produce, in call order (entries, then the
 *   HardState, of each save; snapshot records), and how much of that stream is acknowledged as durable: a
 *   save that resolved and needed a sync (raft's MustSync against the WAL's remembered HardState), a
 *   saveSnapshot, sync or close that resolved. It also knows what each cut writes at the head of a new
 *   segment (CRC, metadata, the remembered HardState if any).
 * - {@link parseWalDir} reads a directory's segments with the simulator's own frame and record parser and
 *   {@link matchStream} lines the frames up with the model's stream: the directory must hold exactly a
 *   prefix of the stream (heads aside), covering at least every acknowledged record; a damaged frame may
 *   only be a torn tail of the last segment.
 * - {@link replayEtcd} applies etcd's ReadAll rules (etcd-wal-format.md §2.5, including issue 22442: an
 *   overwrite at or below the start snapshot is ignored) to the records from the segment a reader opens.
 */
import {
  crc32cUpdate,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  type Entry,
  type FileSystem,
  type HardState,
  type Snapshot,
} from '@walnut/wal-core';
import { EMPTY_HS, sameHs } from './workload.js';

/** A record as the model knows it. */
export type TypedRecord =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'state'; readonly state: HardState }
  | { readonly kind: 'snap'; readonly snap: Snapshot };

const TYPE_OF = { entry: 2, state: 3, snap: 5 } as const;
const TYPE_METADATA = 1;
const TYPE_CRC = 4;

interface ModelRecord {
  readonly rec: TypedRecord;
  readonly type: number;
  readonly bytes: Uint8Array;
  /** The WAL's tail when the record was issued: where it most likely went (a hint for matching). */
  readonly tag: string;
  /** Where a physical parse found it (name of the segment). */
  seg?: string;
}

export function describe(r: TypedRecord): string {
  switch (r.kind) {
    case 'entry':
      return `entry ${r.entry.index}/${r.entry.term}${r.entry.data === undefined ? ' (absent)' : ` (${r.entry.data.length} B)`}`;
    case 'state':
      return `state ${hsText(r.state)}`;
    case 'snap':
      return `snapshot ${r.snap.index}/${r.snap.term}`;
  }
}

export function hsText(s: HardState): string {
  return `t${s.term} v${s.vote} c${s.commit}`;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameEntry(a: Entry, b: Entry): boolean {
  return a.index === b.index && a.term === b.term && a.type === b.type && sameBytes(a.data, b.data);
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** Parses a canonical segment name (the only kind walnut writes). */
export function segmentName(name: string): { seq: bigint; index: bigint } | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? { seq: BigInt(`0x${m[1]}`), index: BigInt(`0x${m[2]}`) } : undefined;
}

export const FIRST_SEGMENT = '0000000000000000-0000000000000000.wal';

export class WalModel {
  private recs: ModelRecord[] = [];
  /** Records [0, durable) are acknowledged as durable. */
  durable = 0;
  /** Head HardState written by the cut that created each segment (undefined: none). */
  readonly heads = new Map<string, HardState | undefined>();
  /** The WAL handle's remembered HardState (etcd w.state; empty after create and open). */
  remembered: HardState = EMPTY_HS;
  /** Every snapshot ever passed to saveSnapshot (etcd writes the .snap file first), 0:0 included. */
  readonly snapFiles: Snapshot[] = [];
  /** The WAL's tail segment, as far as the model knows. */
  tail = FIRST_SEGMENT;
  /**
   * Records a process restart did not read back (a tail walnut truncated after a failed write or datasync,
   * or cut short by the restart), from stream position `at` on. The truncation is not durable until the next
   * datasync of the tail, so until then a power cut may bring them back — legitimately: they were written,
   * never acknowledged, and the disk would then hold a prefix of everything written.
   */
  ghosts: { readonly at: number; readonly recs: ModelRecord[] } | undefined;

  constructor(readonly metadata: Uint8Array | undefined) {}

  /** Wal.create: a fresh stream holding the 0:0 snapshot record. */
  reset(): void {
    this.recs = [];
    this.durable = 0;
    this.heads.clear();
    this.heads.set(FIRST_SEGMENT, undefined);
    this.remembered = EMPTY_HS;
    this.tail = FIRST_SEGMENT;
    this.ghosts = undefined;
    this.snapFiles.length = 0;
    this.snapFiles.push({ index: 0n, term: 0n });
    this.push({ kind: 'snap', snap: { index: 0n, term: 0n } });
  }

  get length(): number {
    return this.recs.length;
  }

  record(i: number): TypedRecord {
    return this.recs[i]!.rec;
  }

  private push(rec: TypedRecord): void {
    const bytes =
      rec.kind === 'entry' ? encodeEntry(rec.entry) : rec.kind === 'state' ? encodeHardState(rec.state) : encodeSnapshot(rec.snap);
    this.recs.push({ rec, type: TYPE_OF[rec.kind], bytes, tag: this.tail });
  }

  /** A save is issued: its records join the stream. Returns [end of its records, whether it must sync]. */
  save(hs: HardState, entries: readonly Entry[]): { end: number; mustSync: boolean } {
    const empty = sameHs(hs, EMPTY_HS);
    if (empty && entries.length === 0) return { end: this.recs.length, mustSync: false };
    const mustSync = entries.length > 0 || hs.vote !== this.remembered.vote || hs.term !== this.remembered.term;
    for (const e of entries) this.push({ kind: 'entry', entry: e });
    if (!empty) {
      this.push({ kind: 'state', state: hs });
      this.remembered = hs;
    }
    return { end: this.recs.length, mustSync };
  }

  /** saveSnapshot is issued. */
  snapshot(s: Snapshot): number {
    this.snapFiles.push({ index: s.index, term: s.term });
    this.push({ kind: 'snap', snap: s });
    return this.recs.length;
  }

  /** Records up to `end` are acknowledged as durable. */
  ack(end: number): void {
    if (end > this.durable) this.durable = end;
  }

  /** The WAL renamed a prepared file into `name`: a cut, whose head holds the remembered HardState. */
  cut(name: string): void {
    this.heads.set(name, sameHs(this.remembered, EMPTY_HS) ? undefined : this.remembered);
    this.tail = name;
  }

  /** A new WAL handle was opened (its remembered HardState is empty). */
  opened(): void {
    this.remembered = EMPTY_HS;
  }

  /**
   * After a physical parse of the directory: the first `survivors` records are what the disk holds; the
   * rest never reached it. `crashed`: the parse is of a post-crash disk, so what it holds is durable.
   */
  settle(m: StreamMatch, crashed: boolean): void {
    if (m.resurrected > 0 && this.ghosts) {
      // Records a restart had dropped came back after a power cut: they are the stream again.
      this.recs = [...this.recs.slice(0, this.ghosts.at), ...this.ghosts.recs];
    }
    this.locate(m);
    const dropped = this.recs.slice(m.survivors);
    this.recs.length = m.survivors;
    if (crashed || this.durable > m.survivors) this.durable = m.survivors;
    this.ghosts = !crashed && dropped.length > 0 ? { at: m.survivors, recs: dropped } : crashed ? undefined : this.ghosts;
    if (m.tail !== undefined) this.tail = m.tail;
  }

  /** The tail was datasynced: whatever a restart dropped can no longer come back. */
  synced(): void {
    this.ghosts = undefined;
  }

  /** Where a parse of a run starting at segment `seg` most likely begins in the stream. */
  hint(seg: string): number {
    for (let i = 0; i < this.recs.length; i++) {
      const r = this.recs[i]!;
      if ((r.seg ?? r.tag) >= seg) return i;
    }
    return this.recs.length;
  }

  /**
   * Where a run whose first record frame is `f` may start, given the hint: the hint itself, or an earlier
   * position holding an equal record when every record from there up to the hint has never been located by a
   * parse (a tag is the tail when the record was issued; in a batch a cut can move later records of the same
   * batch to the next segment, so tags may be early — never late). Nearest first.
   */
  candidates(f: Frame, hint: number): number[] {
    const out: number[] = [];
    for (let i = Math.min(hint, this.recs.length - 1); i >= 0; i--) {
      const r = this.recs[i]!;
      if (i < hint && r.seg !== undefined) break;
      if (r.type === f.type && sameBytes(r.bytes, f.data)) out.push(i);
    }
    return out;
  }

  /** Notes where a parse found records, without changing the stream. */
  locate(m: StreamMatch): void {
    for (const [i, seg] of m.located) this.recs[i]!.seg = seg;
  }

  /** @internal for matchStream */
  raw(i: number): ModelRecord | undefined {
    return this.recs[i];
  }
}

// ---------------------------------------------------------------------------------------------
// The simulator's own parser
// ---------------------------------------------------------------------------------------------

export interface Frame {
  readonly offset: number;
  readonly type: number;
  readonly crc: number;
  readonly data: Uint8Array | undefined;
  readonly end: number;
}

export interface ParsedSegment {
  readonly name: string;
  readonly seq: bigint;
  readonly index: bigint;
  readonly size: number;
  readonly frames: Frame[];
  /** Why the frames end: a zero length word or the end of the file (`clean`), or a frame that does not parse. */
  readonly stop:
    { readonly kind: 'clean' } | { readonly kind: 'bad'; readonly offset: number; readonly why: string; readonly torn: boolean };
  readonly bytes: Uint8Array;
}

export interface ParsedDir {
  readonly segments: ParsedSegment[];
  readonly others: string[];
}

function readVarint(b: Uint8Array, pos: number, end: number): [bigint, number] | undefined {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const x = b[pos++]!;
    v |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return [v, pos];
    shift += 7n;
  }
  return undefined;
}

/** walpb.Record {1: type, 2: crc, 3: data}; undefined if it does not parse. */
function parseRecord(b: Uint8Array, start: number, end: number): { type: number; crc: number; data: Uint8Array | undefined } | undefined {
  let pos = start;
  let type = 0;
  let crc = 0;
  let data: Uint8Array | undefined;
  while (pos < end) {
    const key = readVarint(b, pos, end);
    if (!key) return undefined;
    pos = key[1];
    const field = Number(key[0] >> 3n);
    const wire = Number(key[0] & 7n);
    if ((field === 1 || field === 2) && wire === 0) {
      const v = readVarint(b, pos, end);
      if (!v) return undefined;
      pos = v[1];
      if (field === 1) type = Number(BigInt.asIntN(64, v[0]));
      else crc = Number(v[0] & 0xffffffffn);
    } else if (field === 3 && wire === 2) {
      const len = readVarint(b, pos, end);
      if (!len || len[0] > BigInt(end - len[1])) return undefined;
      const n = Number(len[0]);
      data = b.subarray(len[1], len[1] + n);
      pos = len[1] + n;
    } else return undefined;
  }
  return { type, crc, data };
}

/** etcd's torn check: some 512-byte-aligned chunk of the frame body is all zeros. */
function hasZeroSector(b: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  while (pos < end) {
    const chunkEnd = Math.min(end, (Math.floor(pos / 512) + 1) * 512);
    let zero = true;
    for (let i = pos; i < chunkEnd; i++)
      if (b[i] !== 0) {
        zero = false;
        break;
      }
    if (zero) return true;
    pos = chunkEnd;
  }
  return false;
}

export function parseSegment(name: string, bytes: Uint8Array): ParsedSegment {
  const parsed = segmentName(name)!;
  const frames: Frame[] = [];
  let off = 0;
  const done = (stop: ParsedSegment['stop']): ParsedSegment => ({ name, ...parsed, size: bytes.length, frames, stop, bytes });
  for (;;) {
    if (off >= bytes.length) return done({ kind: 'clean' });
    if (off + 8 > bytes.length) return done({ kind: 'bad', offset: off, why: 'partial length word', torn: true });
    const view = new DataView(bytes.buffer, bytes.byteOffset + off, 8);
    const lo = view.getUint32(0, true);
    const hi = view.getUint32(4, true);
    if (lo === 0 && hi === 0) return done({ kind: 'clean' });
    const n = (hi & 0xffffff) * 2 ** 32 + lo;
    const pad = hi & 0x80000000 ? (hi >>> 24) & 7 : 0;
    const body = off + 8;
    if (n + pad > bytes.length - body)
      return done({ kind: 'bad', offset: off, why: `frame of ${n}+${pad} bytes runs past the end`, torn: true });
    const rec = parseRecord(bytes, body, body + n);
    if (!rec) return done({ kind: 'bad', offset: off, why: 'record does not parse', torn: hasZeroSector(bytes, body, body + n + pad) });
    frames.push({ offset: off, type: rec.type, crc: rec.crc, data: rec.data, end: body + n + pad });
    off = body + n + pad;
  }
}

async function readWhole(fs: FileSystem, path: string): Promise<Uint8Array> {
  const st = await fs.stat(path);
  const h = await fs.open(path, 'read');
  try {
    const buf = new Uint8Array(st.size);
    let pos = 0;
    while (pos < st.size) {
      const n = await h.read(buf, pos, st.size - pos, pos);
      if (n === 0) break;
      pos += n;
    }
    return buf.subarray(0, pos);
  } finally {
    await h.close();
  }
}

/** Reads every segment of `dir` (canonical names only, in name order). Missing directory: no segments. */
export async function parseWalDir(fs: FileSystem, dir: string): Promise<ParsedDir> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch {
    return { segments: [], others: [] };
  }
  const segments: ParsedSegment[] = [];
  const others: string[] = [];
  for (const name of names) {
    if (!segmentName(name)) {
      others.push(name);
      continue;
    }
    const st = await fs.stat(`${dir}/${name}`);
    if (!st.isFile) {
      others.push(name);
      continue;
    }
    segments.push(parseSegment(name, await readWhole(fs, `${dir}/${name}`)));
  }
  return { segments, others };
}

// ---------------------------------------------------------------------------------------------
// Lining the directory up with the model
// ---------------------------------------------------------------------------------------------

/** Typed records of one segment (heads included), as readers see them. */
export interface TypedSegment {
  readonly name: string;
  readonly seq: bigint;
  readonly index: bigint;
  readonly records: TypedRecord[];
}

export interface StreamMatch {
  /** Problems the model cannot explain (empty: the directory is consistent with the model). */
  readonly problems: string[];
  /** The stream prefix the disk holds: records [0, survivors). */
  readonly survivors: number;
  /** Model record index → segment it was found in. */
  readonly located: Map<number, string>;
  /** Every segment, typed, in name order (a run cut off by a gap included: readers may still see it). */
  readonly segments: TypedSegment[];
  /** A torn tail of the last segment (repairable), if any. */
  readonly torn: { readonly segment: string; readonly offset: number; readonly why: string } | undefined;
  /**
   * The last frame of the last segment is damaged but not torn by etcd's rule (no all-zero 512-byte chunk):
   * e.g. a record cut at an arbitrary byte by a short write. `zerosAfter`: nothing but zeros follows it.
   */
  readonly damagedTail:
    { readonly segment: string; readonly offset: number; readonly why: string; readonly zerosAfter: boolean } | undefined;
  /** Name of the last segment. */
  readonly tail: string | undefined;
  /** How many records a restart had dropped came back (see {@link WalModel.ghosts}). */
  readonly resurrected: number;
}

interface RunMatch {
  readonly problems: string[];
  end: number;
  readonly start: number;
  readonly located: Map<number, string>;
  readonly segments: TypedSegment[];
  torn: StreamMatch['torn'];
  damagedTail: StreamMatch['damagedTail'];
  resurrected: number;
}

/** Matches one run of consecutive segments from stream position `p0`. */
function matchRun(model: WalModel, segs: readonly ParsedSegment[], p0: number, lastRun: boolean): RunMatch {
  const r: RunMatch = {
    problems: [],
    end: p0,
    start: p0,
    located: new Map(),
    segments: [],
    torn: undefined,
    damagedTail: undefined,
    resurrected: 0,
  };
  let p = p0;
  const ghosts = model.ghosts;
  let ghostMode = false;
  const recordAt = (i: number) => (ghostMode ? ghosts!.recs[i - ghosts!.at] : model.raw(i));
  for (let si = 0; si < segs.length; si++) {
    const s = segs[si]!;
    const isLast = lastRun && si === segs.length - 1;
    const typed: TypedRecord[] = [];
    r.segments.push({ name: s.name, seq: s.seq, index: s.index, records: typed });
    const frames = s.frames;
    // The head: CRC, metadata, and the HardState the cut remembered. Heads are written to the prepared file
    // and synced before the rename, so every segment has a complete one.
    if (!model.heads.has(s.name)) r.problems.push(`${s.name}: a segment the WAL never created (no cut renamed a file to this name)`);
    const headState = model.heads.get(s.name);
    const f0 = frames[0];
    const f1 = frames[1];
    const f2 = frames[2];
    let fi = headState ? 3 : 2;
    if (!f0 || !f1 || (headState && !f2)) {
      r.problems.push(`${s.name}: head records missing (${frames.length} frames, ${s.stop.kind === 'bad' ? s.stop.why : 'clean end'})`);
      continue;
    }
    if (f0.type !== TYPE_CRC) r.problems.push(`${s.name}: does not start with a CRC record (type ${f0.type})`);
    if (f1.type !== TYPE_METADATA || !sameBytes(f1.data, model.metadata))
      r.problems.push(`${s.name}@${f1.offset}: second record is not the metadata`);
    if (headState) {
      if (f2!.type !== TYPE_OF.state || !sameBytes(f2!.data, encodeHardState(headState)))
        r.problems.push(`${s.name}@${f2!.offset}: head state is not ${hsText(headState)} (the state the cut remembered)`);
      typed.push({ kind: 'state', state: headState });
    }
    if (r.problems.length) break;
    for (; fi < frames.length; fi++) {
      const f = frames[fi]!;
      let want = recordAt(p);
      const same = (w: typeof want) => w !== undefined && f.type === w.type && sameBytes(f.data, w.bytes);
      if (!same(want) && !ghostMode && ghosts && p === ghosts.at && same(ghosts.recs[0])) {
        ghostMode = true; // records the last restart dropped, back after a power cut
        want = recordAt(p);
      }
      if (same(want)) {
        typed.push(want!.rec);
        r.located.set(p, s.name);
        if (ghostMode) r.resurrected++;
        p++;
        continue;
      }
      const what = `frame @${f.offset} (type ${f.type}, ${f.data?.length ?? 'no'} data bytes) is not the next record of the stream (${want ? describe(want.rec) : 'the stream has ended'})`;
      if (isLast && hasZeroSector(s.bytes, f.offset + 8, f.end)) r.torn = { segment: s.name, offset: f.offset, why: `torn ${what}` };
      else if (isLast && fi === frames.length - 1 && s.stop.kind === 'clean') {
        const zerosAfter = s.bytes.subarray(f.end).every((b) => b === 0);
        r.damagedTail = { segment: s.name, offset: f.offset, why: `${what} and has no all-zero 512-byte chunk`, zerosAfter };
      } else r.problems.push(`${s.name}: ${what}${isLast ? ' and has no zero sector (not a torn write)' : ''}`);
      break;
    }
    if (fi >= frames.length && s.stop.kind === 'bad') {
      if (isLast && s.stop.torn) r.torn = { segment: s.name, offset: s.stop.offset, why: s.stop.why };
      else if (isLast)
        r.damagedTail = {
          segment: s.name,
          offset: s.stop.offset,
          why: `${s.stop.why} and has no all-zero 512-byte chunk`,
          zerosAfter: false,
        };
      else r.problems.push(`${s.name}@${s.stop.offset}: ${s.stop.why} in a segment that is not the last`);
    }
    if (r.problems.length || r.torn) break;
  }
  r.end = p;
  return r;
}

/** The first frame of a run that is not a head record. */
function firstRecordFrame(model: WalModel, segs: readonly ParsedSegment[]): Frame | undefined {
  for (const s of segs) {
    const f = s.frames[model.heads.get(s.name) ? 3 : 2];
    if (f) return f;
  }
  return undefined;
}

/** Matches a run, finding where in the stream it starts (the hint, else any position whose record equals its first frame). */
function locateRun(model: WalModel, segs: readonly ParsedSegment[], lastRun: boolean): RunMatch {
  const hint = model.hint(segs[0]!.name);
  const first = firstRecordFrame(model, segs);
  const tries = first ? model.candidates(first, hint) : [hint];
  if (!tries.includes(hint)) tries.push(hint);
  let best: RunMatch | undefined;
  for (const p0 of tries) {
    const m = matchRun(model, segs, p0, lastRun);
    if (m.problems.length === 0) return m;
    best ??= m;
  }
  return best!;
}

/**
 * Lines the parsed directory up with the model's stream. Segments split into runs of consecutive sequence
 * numbers (a purge whose removals a crash partly reverted leaves older segments before a gap); every run
 * must be a stretch of the stream, and the last run must end the stream's durable prefix.
 */
export function matchStream(model: WalModel, dir: ParsedDir): StreamMatch {
  const segs = dir.segments;
  if (segs.length === 0)
    return {
      problems: [],
      survivors: 0,
      located: new Map(),
      segments: [],
      torn: undefined,
      damagedTail: undefined,
      tail: undefined,
      resurrected: 0,
    };
  const runs: ParsedSegment[][] = [[segs[0]!]];
  for (let i = 1; i < segs.length; i++) {
    if (segs[i]!.seq === segs[i - 1]!.seq + 1n) runs[runs.length - 1]!.push(segs[i]!);
    else runs.push([segs[i]!]);
  }
  const problems: string[] = [];
  const located = new Map<number, string>();
  const segments: TypedSegment[] = [];
  let main: RunMatch | undefined;
  let prevEnd = 0;
  runs.forEach((run, k) => {
    const last = k === runs.length - 1;
    const m = locateRun(model, run, last);
    problems.push(...m.problems);
    for (const [i, seg] of m.located) located.set(i, seg);
    segments.push(...m.segments);
    if (m.start < prevEnd) problems.push(`segments ${run[0]!.name}.. hold records older than the segments before them`);
    prevEnd = m.end;
    if (last) main = m;
  });
  const survivors = main!.end;
  if (survivors < model.durable) {
    problems.push(
      `acknowledged records lost: ${model.durable} are durable, the disk holds ${survivors}; first lost: ${describe(model.record(survivors))}`,
    );
  }
  return {
    problems,
    survivors,
    located,
    segments,
    torn: main!.torn,
    damagedTail: main!.damagedTail,
    tail: segs[segs.length - 1]!.name,
    resurrected: main!.resurrected,
  };
}

// ---------------------------------------------------------------------------------------------
// etcd's ReadAll and ValidSnapshotEntries over typed segments
// ---------------------------------------------------------------------------------------------

export type Expected =
  | { readonly ok: true; readonly hardState: HardState; readonly entries: Entry[] }
  | { readonly ok: false; readonly code: string; readonly detail: string };

/** etcd selectWALFiles + ReadAll rules from snapshot `snap` over the typed segments (no damage). */
export function replayEtcd(segments: readonly TypedSegment[], snap: { index: bigint; term: bigint }, parsed?: ParsedDir): Expected {
  if (segments.length === 0) return { ok: false, code: 'WAL_FILE_NOT_FOUND', detail: 'no segments' };
  let from = -1;
  for (let i = segments.length - 1; i >= 0; i--) {
    if (snap.index >= segments[i]!.index) {
      from = i;
      break;
    }
  }
  if (from < 0) return { ok: false, code: 'WAL_SNAPSHOT_INDEX_NOT_COVERED', detail: `no segment covers ${snap.index}` };
  // etcd isValidSeq: each sequence number follows the previous one — not checked after a 0 (etcd's quirk).
  let last = 0n;
  for (const seg of segments.slice(from)) {
    if (last !== 0n && seg.seq !== last + 1n) return { ok: false, code: 'WAL_SEQUENCE_GAP', detail: `${seg.name} after seq ${last}` };
    last = seg.seq;
  }
  if (parsed) {
    const chain = crcChainBreak(parsed.segments.slice(from));
    if (chain) return { ok: false, code: 'WAL_CRC_MISMATCH', detail: `CRC chain broken at ${chain}` };
  }
  let hardState: HardState = EMPTY_HS;
  const entries: Entry[] = [];
  let found = false;
  for (const seg of segments.slice(from)) {
    for (const r of seg.records) {
      if (r.kind === 'entry') {
        const e = r.entry;
        if (e.index > snap.index) {
          const up = e.index - snap.index - 1n;
          if (up > BigInt(entries.length))
            return { ok: false, code: 'WAL_SLICE_OUT_OF_RANGE', detail: `entry ${e.index} after ${entries.length} entries` };
          entries.length = Number(up);
          entries.push(e);
        }
      } else if (r.kind === 'state') hardState = r.state;
      else if (r.snap.index === snap.index) {
        if (r.snap.term !== snap.term) return { ok: false, code: 'WAL_SNAPSHOT_MISMATCH', detail: `term ${r.snap.term}` };
        found = true;
      }
    }
  }
  if (!found) return { ok: false, code: 'WAL_SNAPSHOT_NOT_FOUND', detail: `${snap.index}/${snap.term}` };
  return { ok: true, hardState, entries };
}

/**
 * Where etcd's readers find the CRC chain broken when they read `segments` in order: the running CRC-32C
 * over every record's data must equal the next CRC record (unless the reader has seen no data yet). A gap
 * in the sequence (a purge partly undone by a crash) breaks it.
 */
export function crcChainBreak(segments: readonly ParsedSegment[]): string | undefined {
  let running = 0;
  for (const s of segments) {
    for (const f of s.frames) {
      if (f.type === TYPE_CRC) {
        if (running !== 0 && running !== f.crc) return `${s.name}@${f.offset}`;
        running = f.crc;
      } else if (f.data) running = crc32cUpdate(running, f.data);
    }
  }
  return undefined;
}

/** etcd ValidSnapshotEntries over every segment: snapshot records with index ≤ the last HardState's commit. */
export function validSnapshots(segments: readonly TypedSegment[]): Snapshot[] {
  const snaps: Snapshot[] = [];
  let commit = 0n;
  for (const seg of segments) {
    for (const r of seg.records) {
      if (r.kind === 'snap') snaps.push(r.snap);
      else if (r.kind === 'state') commit = r.state.commit;
    }
  }
  return snaps.filter((s) => s.index <= commit);
}
