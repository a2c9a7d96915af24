/**
 * Seeded, raft-like WAL workloads: the calls a raft node makes on its WAL, generated as plain data
 * (so a failing seed can be printed, replayed and diffed) together with the model of what etcd's
 * ReadAll must return for them.
 *
 * What a workload holds, by construction:
 * - create with metadata (random bytes; some seeds use absent or empty metadata);
 * - saves of 1-8 entries with contiguous indexes; HardState records only when the HardState changed
 *   (raft's Ready carries an empty HardState otherwise, and etcd writes nothing for it); commit-only saves;
 * - term changes, some with an overwrite of the uncommitted suffix (the next save starts at an index
 *   <= the last index, possibly leaving a shorter log), each led by raft's empty entry (absent data);
 * - votes and voters above 2^53 (10351854194737052131, 2^53 + 1, 2^63 + x);
 * - snapshots at committed indexes, each followed by ReleaseLockTo most of the time;
 * - entries with absent data, 0-byte data, odd / padding / sector / page sizes, types 0/1/2 and
 *   2-3 entries of about 200 KiB; 64 KiB segments, so a workload spans several segments.
 */
import type { ConfState, Entry, HardState, Snapshot } from '@walnut/wal-core';
import type { SnapPosition } from './etcdwal.js';
import { fill, SplitMix64 } from './splitmix64.js';

/** One call on the WAL. */
export type WorkloadOp =
  | { readonly op: 'create'; readonly metadata: Uint8Array | undefined }
  | { readonly op: 'save'; readonly hardState: HardState; readonly entries: readonly Entry[] }
  | { readonly op: 'saveSnapshot'; readonly snapshot: Snapshot }
  | { readonly op: 'releaseLockTo'; readonly index: bigint }
  | { readonly op: 'sync' }
  | { readonly op: 'close' };

export interface WorkloadStats {
  saves: number;
  entriesWritten: number;
  termChanges: number;
  overwrites: number;
  snapshots: number;
  bigEntries: number;
  absentData: number;
  emptyData: number;
  byType: [number, number, number];
  dataBytes: number;
}

export interface Workload {
  readonly seed: bigint;
  readonly segmentSizeBytes: number;
  /** The calls, in order, from create to close. */
  readonly ops: readonly WorkloadOp[];
  /** Every snapshot saved, in order (the 0:0 snapshot of Create excluded). */
  readonly snapshots: readonly SnapPosition[];
  /** The last snapshot saved, or 0:0 if none. */
  readonly latestSnapshot: SnapPosition;
  /** Model: the metadata passed to create. */
  readonly metadata: Uint8Array | undefined;
  /** Model: the last non-empty HardState saved (what ReadAll returns). */
  readonly hardState: HardState;
  /** Model: the raft log after every save, entries 1..last (what ReadAll at 0:0 returns). */
  readonly log: readonly Entry[];
  readonly stats: WorkloadStats;
}

export interface WorkloadOptions {
  /** 64 KiB by default, the segment size of etcdwal's datasets. */
  segmentSizeBytes?: number;
  /** Number of raft steps (each a save, a snapshot or a term change); 110-170 by default. */
  steps?: number;
  /** Give snapshots a ConfState (etcd >= 3.5 writes one; 3.4 cannot). Default true. */
  confState?: boolean;
}

/** An etcd member id as a real server prints it, above 2^53. */
export const REAL_MEMBER_ID = 10351854194737052131n;

/** Sizes around varint, 8-byte padding, 512-byte sector and 4 KiB page boundaries. */
const EDGE_SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 511, 512, 513, 1023, 1024, 4095, 4096, 4097];

const BIG_ENTRY_BYTES = 200 * 1024;

const EMPTY_HS: HardState = { term: 0n, vote: 0n, commit: 0n };

/** The dump-relevant shape of a ConfState (etcd 3.4 skips the field; 3.5 requires it). */
function confStateOf(voters: readonly bigint[]): ConfState {
  return { voters: [...voters], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

type Obligation = 'big' | 'overwrite' | 'termChange' | 'snapshot' | 'commitOnly' | 'absent' | 'empty';

/** Generates the workload of `seed`: same seed, same calls, on every machine. */
export function generateWorkload(seed: bigint, options: WorkloadOptions = {}): Workload {
  const rng = new SplitMix64(seed);
  const segmentSizeBytes = options.segmentSizeBytes ?? 64 * 1024;
  const steps = options.steps ?? 110 + rng.int(61);
  const withConfState = options.confState ?? true;

  const stats: WorkloadStats = {
    saves: 0,
    entriesWritten: 0,
    termChanges: 0,
    overwrites: 0,
    snapshots: 0,
    bigEntries: 0,
    absentData: 0,
    emptyData: 0,
    byType: [0, 0, 0],
    dataBytes: 0,
  };
  const ops: WorkloadOp[] = [];

  const metaKind = rng.int(8);
  const metadata = metaKind === 0 ? undefined : metaKind === 1 ? new Uint8Array(0) : fill(rng.next(), 1 + rng.int(200)).slice();
  ops.push({ op: 'create', metadata });

  // A 3- or 5-member cluster whose ids straddle 2^53 and 2^63.
  const members: bigint[] = [REAL_MEMBER_ID, (1n << 53n) + 1n, (1n << 63n) | rng.next(), 1n + BigInt(rng.int(1000))];
  if (rng.chance(50)) members.push(rng.next());
  const voters = members.slice(0, members.length >= 5 ? 5 : 3);

  let term = 1n;
  let vote = rng.pick(voters);
  let commit = 0n;
  let lastHs: HardState = EMPTY_HS;
  const log: Entry[] = []; // log[i].index === i + 1
  const snapshots: SnapPosition[] = [];
  let lastSnapIndex = 0n;
  const lastIndex = (): bigint => BigInt(log.length);
  const snapshotOf = (index: bigint, snapTerm: bigint): Snapshot =>
    withConfState ? { index, term: snapTerm, confState: confStateOf(voters) } : { index, term: snapTerm };

  // Obligations make sure every seed exercises every feature, at seed-chosen moments.
  const due: { step: number; what: Obligation }[] = [];
  const oblige = (what: Obligation, count: number): void => {
    for (let i = 0; i < count; i++) due.push({ step: rng.int(steps), what });
  };
  oblige('big', 2 + rng.int(2));
  oblige('overwrite', 2 + rng.int(2));
  oblige('termChange', 1);
  oblige('snapshot', 2 + rng.int(3));
  oblige('commitOnly', 1);
  oblige('absent', 1);
  oblige('empty', 1);
  due.sort((a, b) => a.step - b.step);
  const take = (step: number, what: Obligation): boolean => {
    const i = due.findIndex((d) => d.what === what && d.step <= step);
    if (i < 0) return false;
    due.splice(i, 1);
    return true;
  };

  const makeEntry = (index: bigint, entryTerm: bigint, force?: 'big' | 'absent' | 'empty'): Entry => {
    const t = rng.int(25);
    const type = t === 0 ? 1 : t === 1 ? 2 : 0;
    let size: number | undefined;
    const r = rng.int(100);
    if (force === 'big') size = stats.bigEntries === 0 ? BIG_ENTRY_BYTES : BIG_ENTRY_BYTES - 8 + rng.int(17);
    else if (force === 'absent') size = undefined;
    else if (force === 'empty') size = 0;
    else if (r < 5) size = undefined;
    else if (r < 10) size = 0;
    else if (r < 25) size = rng.pick(EDGE_SIZES);
    else size = rng.int(1500);
    const data = size === undefined ? undefined : size === 0 ? new Uint8Array(0) : fill(rng.next(), size);
    if (size === undefined) stats.absentData++;
    else if (size === 0) stats.emptyData++;
    else if (size >= BIG_ENTRY_BYTES - 8) stats.bigEntries++;
    stats.byType[type as 0 | 1 | 2]++;
    stats.dataBytes += size ?? 0;
    return data === undefined ? { index, term: entryTerm, type } : { index, term: entryTerm, type, data };
  };

  /** Saves entries (and the HardState if it changed), replacing the log from entries[0].index on. */
  const save = (entries: Entry[]): void => {
    const hs: HardState = { term, vote, commit };
    const changed = hs.term !== lastHs.term || hs.vote !== lastHs.vote || hs.commit !== lastHs.commit;
    if (!changed && entries.length === 0) return;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      if (first < 1n || first > lastIndex() + 1n) throw new Error(`workload bug: gap before ${first}`);
      if (first <= lastIndex() && first <= commit) throw new Error(`workload bug: overwrite of committed ${first}`);
      log.length = Number(first - 1n);
      log.push(...entries);
    }
    if (commit > lastIndex()) throw new Error('workload bug: commit beyond the log');
    if (changed) lastHs = hs;
    ops.push({ op: 'save', hardState: changed ? hs : EMPTY_HS, entries });
    stats.saves++;
    stats.entriesWritten += entries.length;
  };

  const newEntries = (from: bigint, count: number, step: number, leaderEmpty: boolean): Entry[] => {
    const out: Entry[] = [];
    let index = from;
    if (leaderEmpty) out.push(makeEntry(index++, term, 'absent')); // raft's empty entry of a new leader
    const bigAt = count > 0 && take(step, 'big') ? rng.int(count) : -1;
    const absentAt = count > 0 && take(step, 'absent') ? rng.int(count) : -1;
    const emptyAt = count > 0 && take(step, 'empty') ? rng.int(count) : -1;
    for (let i = 0; i < count; i++) {
      const force = i === bigAt ? 'big' : i === absentAt ? 'absent' : i === emptyAt ? 'empty' : undefined;
      out.push(makeEntry(index++, term, force));
    }
    return out;
  };

  const advanceCommit = (maxLag: number): void => {
    const target = lastIndex() - BigInt(rng.int(maxLag + 1));
    if (target > commit) commit = target;
  };

  const newTerm = (): void => {
    term += rng.chance(25) ? 2n : 1n; // an election may take more than one round
    vote = rng.chance(15) ? 0n : rng.pick(voters);
    stats.termChanges++;
  };

  let step = 0;
  // Run the planned steps, then keep going until every obligation has fired.
  while (step < steps || due.length > 0) {
    if (step > steps + 200) throw new Error(`workload bug: obligations never fired: ${due.map((d) => d.what).join(',')}`);
    const roll = rng.int(100);
    if (lastIndex() > commit && (take(step, 'overwrite') || roll < 4)) {
      // A leader change: the uncommitted suffix from `from` on is replaced by the new leader's entries.
      newTerm();
      const from = commit + 1n + BigInt(rng.int(Number(lastIndex() - commit)));
      save(newEntries(from, rng.int(8), step, true));
      stats.overwrites++;
    } else if (take(step, 'termChange') || roll < 7) {
      newTerm();
      if (rng.chance(50)) save([]); // a candidate's vote, persisted before any entry
      save(newEntries(lastIndex() + 1n, rng.int(8), step, true));
    } else if (commit > lastSnapIndex && (take(step, 'snapshot') || roll < 12)) {
      const span = Number(commit - lastSnapIndex);
      const index = commit - BigInt(rng.int(Math.min(span, 4)));
      const snapTerm = log[Number(index) - 1]!.term;
      ops.push({ op: 'saveSnapshot', snapshot: snapshotOf(index, snapTerm) });
      snapshots.push({ index, term: snapTerm });
      lastSnapIndex = index;
      stats.snapshots++;
      if (rng.chance(70)) ops.push({ op: 'releaseLockTo', index });
    } else if (lastIndex() > commit && (take(step, 'commitOnly') || roll < 20)) {
      commit += 1n + BigInt(rng.int(Number(lastIndex() - commit)));
      save([]);
    } else {
      const entries = newEntries(lastIndex() + 1n, 1 + rng.int(8), step, false);
      log.push(...entries); // provisional, so the commit may cover them; save() rewrites the suffix anyway
      advanceCommit(9);
      log.length -= entries.length;
      save(entries);
    }
    if (rng.chance(4)) ops.push({ op: 'sync' });
    step++;
  }

  // Commit everything; sometimes snapshot at the very end (ReadAll at it then returns no entries).
  commit = lastIndex();
  save([]);
  if (rng.chance(25) && commit > lastSnapIndex) {
    const snapTerm = log[Number(commit) - 1]!.term;
    ops.push({ op: 'saveSnapshot', snapshot: snapshotOf(commit, snapTerm) });
    snapshots.push({ index: commit, term: snapTerm });
    stats.snapshots++;
  }
  ops.push({ op: 'close' });

  return {
    seed,
    segmentSizeBytes,
    ops,
    snapshots,
    latestSnapshot: snapshots[snapshots.length - 1] ?? { index: 0n, term: 0n },
    metadata,
    hardState: lastHs,
    log,
    stats,
  };
}
