/**
 * A model of what a WAL directory holds and what etcd's readers return from it (etcd-wal-format.md
 * §1.7, §2.3, §2.5–§2.7), written independently of wal-core's readers:
 *
 * - {@link runScript} drives a real Wal through a raft-like script and logs every record the API calls
 *   produce (entries, states, snapshots);
 * - {@link typedStream} parses the segment files with the test's own frame parser, checks the rolling
 *   CRC and that the records are exactly the script's (plus the head records every cut writes), and
 *   returns the typed record stream with segment boundaries;
 * - {@link replay} applies etcd's ReadAll rules to a stream.
 */
import { createHash } from 'node:crypto';
import { Wal } from '../../src/wal.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../src/types.js';
import type { MapFileSystem } from './map-file-system.js';
import { bfield, concat, crc32cRef, entryBytes, hardStateBytes, hex, parseFrames, varint, vfield } from './wal-bytes.js';

export const EMPTY_HS: HardState = { term: 0n, vote: 0n, commit: 0n };
const isEmpty = (s: HardState) => s.term === 0n && s.vote === 0n && s.commit === 0n;

/** walpb.Snapshot bytes as gogo writes them (conf_state unpacked, auto_leave always). */
export function snapshotFullBytes(s: Snapshot): Uint8Array {
  const parts = [vfield(1, s.index), vfield(2, s.term)];
  if (s.confState) {
    const c = s.confState;
    const cs = concat(
      ...c.voters.map((v) => vfield(1, v)),
      ...c.learners.map((v) => vfield(2, v)),
      ...c.votersOutgoing.map((v) => vfield(3, v)),
      ...c.learnersNext.map((v) => vfield(4, v)),
      vfield(5, c.autoLeave ? 1 : 0),
    );
    parts.push(bfield(3, cs));
  }
  return concat(...parts);
}

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

export type ScriptOp =
  | {
      readonly kind: 'append';
      readonly sizes: readonly number[];
      readonly termBump: boolean;
      readonly vote: boolean;
      readonly commitStep: number;
    }
  | { readonly kind: 'overwrite'; readonly back: number; readonly sizes: readonly number[] }
  | { readonly kind: 'snapshot'; readonly pick: number; readonly withConfState: boolean }
  | { readonly kind: 'state'; readonly commitStep: number }
  | { readonly kind: 'noop' };

export interface Script {
  readonly segmentSizeBytes: number;
  readonly metadata: Uint8Array | undefined;
  readonly ops: readonly ScriptOp[];
}

/** One record the API produced, in order. */
export type LoggedRecord = { kind: 'entry'; entry: Entry } | { kind: 'state'; state: HardState } | { kind: 'snap'; snap: Snapshot };

export interface ScriptResult {
  readonly log: LoggedRecord[];
  readonly snapshots: Snapshot[];
}

/** Deterministic entry payload: size < 0 → absent; 0 → present but empty. */
export function payloadFor(index: bigint, term: bigint, size: number): Uint8Array | undefined {
  if (size < 0) return undefined;
  const b = new Uint8Array(size);
  let x = Number((index * 2654435761n + term * 40503n) & 0xffffffffn) || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Runs a raft-like script on a new WAL in `dir`: appends, leader-change overwrites above commit, snapshots at or below commit. */
export async function runScript(fs: MapFileSystem, dir: string, script: Script): Promise<ScriptResult> {
  const w = await Wal.create(fs, dir, script.metadata, { segmentSizeBytes: script.segmentSizeBytes });
  const log: LoggedRecord[] = [];
  const snapshots: Snapshot[] = [{ index: 0n, term: 0n }];
  const terms = new Map<bigint, bigint>(); // the current log: index → term
  let last = 0n;
  let term = 1n;
  let vote = 0n;
  let commit = 0n;
  let snapIndex = 0n;
  const save = async (hs: HardState, entries: Entry[]) => {
    await w.save(hs, entries);
    for (const e of entries) log.push({ kind: 'entry', entry: e });
    if (!isEmpty(hs)) log.push({ kind: 'state', state: hs });
  };
  const mk = (index: bigint, size: number, i: number): Entry => {
    const data = payloadFor(index, term, size);
    const type = i % 7 === 3 ? 1 : 0;
    return data === undefined ? { index, term, type } : { index, term, type, data };
  };
  try {
    for (const op of script.ops) {
      switch (op.kind) {
        case 'append': {
          if (op.termBump) term++;
          if (op.vote) vote = vote === 0n ? 1n : vote + 1n;
          const entries = op.sizes.map((s, i) => mk(last + 1n + BigInt(i), s, i));
          last += BigInt(entries.length);
          for (const e of entries) terms.set(e.index, e.term);
          commit = commit + BigInt(op.commitStep) > last ? last : commit + BigInt(op.commitStep);
          await save({ term, vote, commit }, entries);
          break;
        }
        case 'overwrite': {
          if (last <= commit || op.sizes.length === 0) break;
          const room = last - commit;
          const from = last - (BigInt(op.back) % room);
          term++;
          const entries = op.sizes.map((s, i) => mk(from + BigInt(i), s, i));
          for (let i = from; i <= last; i++) terms.delete(i);
          last = from + BigInt(entries.length) - 1n;
          for (const e of entries) terms.set(e.index, e.term);
          await save({ term, vote, commit }, entries);
          break;
        }
        case 'snapshot': {
          if (commit <= snapIndex) break;
          const index = snapIndex + 1n + (BigInt(op.pick) % (commit - snapIndex));
          const confState: ConfState = {
            voters: [1n, 2n, index],
            learners: op.pick % 2 ? [0xffffffffffffn] : [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: op.pick % 3 === 0,
          };
          const snap: Snapshot = op.withConfState ? { index, term: terms.get(index)!, confState } : { index, term: terms.get(index)! };
          await w.saveSnapshot(snap);
          log.push({ kind: 'snap', snap });
          snapshots.push(snap);
          snapIndex = index;
          break;
        }
        case 'state': {
          commit = commit + BigInt(op.commitStep) > last ? last : commit + BigInt(op.commitStep);
          await save({ term, vote, commit }, []);
          break;
        }
        case 'noop':
          await save(EMPTY_HS, []);
          break;
      }
    }
  } finally {
    await w.close();
  }
  return { log, snapshots };
}

// ---------------------------------------------------------------------------------------------
// The typed record stream of a directory
// ---------------------------------------------------------------------------------------------

export type TypedRecord =
  | { kind: 'crc' }
  | { kind: 'meta'; data: Uint8Array | undefined }
  | { kind: 'entry'; entry: Entry }
  | { kind: 'state'; state: HardState }
  | { kind: 'snap'; snap: Snapshot };

export interface SegmentInfo {
  readonly name: string;
  readonly seq: bigint;
  readonly index: bigint;
  readonly bytes: Uint8Array;
  readonly records: TypedRecord[];
  /**
   * Per frame, the byte range [start, end) of the record's fields other than the data bytes (type, crc,
   * the data key and length): no CRC covers them, so a flipped bit there can turn a record into another
   * valid one (another type, or type 0 through a changed key), which etcd reads without complaint.
   */
  readonly unprotected: Array<readonly [number, number]>;
  /** Offset of each frame, and the end of the last one. */
  readonly frameOffsets: number[];
  readonly end: number;
}

const CANONICAL = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/**
 * Parses every segment of `dir` (canonical names, sorted), checks the CRC chain and that the records are
 * exactly: Create's head, then the logged records, with each later segment starting with CRC{R},
 * Metadata and (if a non-empty state had been saved) that state. Throws with a description otherwise.
 */
export function typedStream(fs: MapFileSystem, dir: string, metadata: Uint8Array | undefined, log: readonly LoggedRecord[]): SegmentInfo[] {
  const names = fs.list(dir).filter((n) => CANONICAL.test(n));
  const segs: SegmentInfo[] = [];
  let crc = 0;
  let li = 0;
  let lastState: HardState | undefined;
  const fail = (msg: string): never => {
    throw new Error(`typedStream: ${msg}`);
  };
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
    a === undefined ? b === undefined : b !== undefined && hex(a) === hex(b);
  for (const [k, name] of names.entries()) {
    const m = CANONICAL.exec(name)!;
    const bytes = fs.getFile(`${dir}/${name}`)!;
    const frames = parseFrames(bytes);
    const records: TypedRecord[] = [];
    for (const [fi, f] of frames.entries()) {
      const t = Number(f.type);
      if (t !== 4 && f.data !== undefined) crc = crc32cRef(crc, f.data);
      if (f.crc !== crc) fail(`${name}@${f.offset}: crc ${f.crc} != running ${crc}`);
      // Head records.
      if (fi === 0) {
        if (t !== 4) fail(`${name}: first record is type ${t}, not CRC`);
        records.push({ kind: 'crc' });
        continue;
      }
      if (fi === 1) {
        if (t !== 1 || !same(f.data, metadata)) fail(`${name}: second record is not the metadata`);
        records.push({ kind: 'meta', data: f.data });
        continue;
      }
      if (k === 0 && fi === 2) {
        if (t !== 5 || hex(f.data!) !== '08001000') fail(`${name}: third record is not Snapshot{0,0}`);
        records.push({ kind: 'snap', snap: { index: 0n, term: 0n } });
        continue;
      }
      if (k > 0 && fi === 2 && lastState !== undefined && t === 3 && hex(f.data!) === hex(hardStateBytes(lastState))) {
        records.push({ kind: 'state', state: lastState });
        continue;
      }
      if (k > 0 && fi === 2 && lastState !== undefined)
        fail(`${name}: the head lacks State{${lastState.term},${lastState.vote},${lastState.commit}}`);
      const want = log[li++] ?? fail(`${name}@${f.offset}: more records than the script wrote`);
      const [wt, wd] =
        want.kind === 'entry'
          ? [2, entryBytes(want.entry)]
          : want.kind === 'state'
            ? [3, hardStateBytes(want.state)]
            : [5, snapshotFullBytes(want.snap)];
      if (t !== wt || !same(f.data, wd))
        fail(`${name}@${f.offset}: record ${li - 1} is type ${t} ${f.data ? hex(f.data).slice(0, 40) : '-'}, want ${want.kind}`);
      if (want.kind === 'state') lastState = want.state;
      records.push(want);
    }
    const end = frames.length ? frames[frames.length - 1]!.offset + frames[frames.length - 1]!.size : 0;
    segs.push({
      name,
      seq: BigInt('0x' + m[1]),
      index: BigInt('0x' + m[2]),
      bytes,
      records,
      unprotected: frames.map((f) => [f.offset + 8, f.offset + 8 + f.n - (f.data?.length ?? 0)] as const),
      frameOffsets: frames.map((f) => f.offset),
      end,
    });
  }
  if (li !== log.length) fail(`only ${li} of ${log.length} logged records found`);
  return segs;
}

/** etcd searchIndex + the sequence check: the position of the first segment a reader at `index` opens, or an error kind. */
export function selectStart(segs: readonly SegmentInfo[], index: bigint): number | 'not-covered' | 'gap' {
  let from = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    if (index >= segs[i]!.index) {
      from = i;
      break;
    }
  }
  if (from < 0) return 'not-covered';
  let prev = 0n;
  for (const s of segs.slice(from)) {
    if (prev !== 0n && s.seq !== prev + 1n) return 'gap';
    prev = s.seq;
  }
  return from;
}

// ---------------------------------------------------------------------------------------------
// etcd's ReadAll rules
// ---------------------------------------------------------------------------------------------

export type ReplayError = 'slice-out-of-range' | 'metadata-conflict' | 'snapshot-mismatch' | 'snapshot-not-found';

export interface ReplayState {
  metadata: Uint8Array | undefined;
  hardState: HardState;
  entries: Entry[];
  match: boolean;
  error: ReplayError | undefined;
}

/** A replay that can be fed one record at a time (so every prefix's result is available). */
export class Replayer {
  readonly st: ReplayState = { metadata: undefined, hardState: EMPTY_HS, entries: [], match: false, error: undefined };
  constructor(
    private readonly index: bigint,
    private readonly term: bigint,
  ) {}

  feed(r: TypedRecord): void {
    const st = this.st;
    if (st.error) return;
    switch (r.kind) {
      case 'entry': {
        const e = r.entry;
        if (e.index > this.index) {
          const up = e.index - this.index - 1n;
          if (up > BigInt(st.entries.length)) {
            st.error = 'slice-out-of-range';
            return;
          }
          st.entries = [...st.entries.slice(0, Number(up)), e];
        }
        break;
      }
      case 'state':
        st.hardState = r.state;
        break;
      case 'meta':
        // Go: if metadata != nil && !bytes.Equal(metadata, rec.Data) → conflict; metadata = rec.Data.
        if (st.metadata !== undefined && hex(st.metadata) !== hex(r.data ?? new Uint8Array(0))) {
          st.error = 'metadata-conflict';
          return;
        }
        st.metadata = r.data;
        break;
      case 'snap':
        if (r.snap.index === this.index) {
          if (r.snap.term !== this.term) {
            st.error = 'snapshot-mismatch';
            return;
          }
          st.match = true;
        }
        break;
      case 'crc':
        break;
    }
  }

  /** The ReadAll outcome if the stream ended here. */
  outcome(): { ok: true; metadata: Uint8Array | undefined; hardState: HardState; entries: Entry[] } | { ok: false; error: ReplayError } {
    if (this.st.error) return { ok: false, error: this.st.error };
    if (!this.st.match) return { ok: false, error: 'snapshot-not-found' };
    return { ok: true, metadata: this.st.metadata, hardState: this.st.hardState, entries: this.st.entries };
  }
}

export function replay(records: Iterable<TypedRecord>, index: bigint, term: bigint) {
  const r = new Replayer(index, term);
  for (const x of records) r.feed(x);
  return r.outcome();
}

// ---------------------------------------------------------------------------------------------
// Canonical forms (for sets of acceptable results)
// ---------------------------------------------------------------------------------------------

const dataHashes = new WeakMap<Uint8Array, string>();
function dataHash(d: Uint8Array | undefined): string {
  if (d === undefined) return '-';
  let h = dataHashes.get(d);
  if (!h) {
    h = createHash('sha1').update(d).digest('hex').slice(0, 16) + ':' + d.length;
    dataHashes.set(d, h);
  }
  return h;
}

/** A compact, exact fingerprint of a ReadAll result. */
export function fingerprint(r: { metadata: Uint8Array | undefined; hardState: HardState; entries: readonly Entry[] }): string {
  const s = [
    r.metadata === undefined ? '-' : hex(r.metadata),
    `${r.hardState.term}/${r.hardState.vote}/${r.hardState.commit}`,
    ...r.entries.map((e) => `${e.index}.${e.term}.${e.type}.${dataHash(e.data === undefined ? undefined : e.data)}`),
  ].join('|');
  return createHash('sha1').update(s).digest('hex');
}

export const hsKey = (s: HardState) => `${s.term}/${s.vote}/${s.commit}`;
export const snapsKey = (ss: readonly Snapshot[]) =>
  ss.map((s) => `${s.index}.${s.term}.${s.confState ? hex(snapshotFullBytes(s)) : '-'}`).join('|');

/** Varint helper re-export for mutation code. */
export { varint };
