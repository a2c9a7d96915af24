/**
 * The seeded workload: a raft-like node that decides, step by step, what it asks of its WAL — the calls
 * etcd's raft loop makes (etcd-wal-format.md §2.20) plus the lifecycle events a simulation adds (clean
 * restarts, power cuts, purges). The node follows raft's rules, so the WAL sees what a real member writes:
 *
 * - entries with contiguous indexes, of random count and size (absent data, 0 bytes, edge sizes around
 *   varints, padding, sectors and pages, a few large ones up to 1 MiB), types 0/1/2;
 * - a HardState only when it changed (raft's Ready carries none otherwise); commit-only saves (no sync);
 * - term changes, with or without a vote, some overwriting the uncommitted suffix (led by the new leader's
 *   empty entry); votes above 2^53;
 * - snapshots at committed indexes (with a ConfState most of the time), usually followed by releaseLockTo;
 * - explicit syncs; batches of concurrent saves (group commit; only the first may carry a HardState);
 * - purges (etcd's purge loop: delete the oldest unlocked segments beyond max-wals), clean restarts, power cuts.
 *
 * After a restart the node takes whatever its WAL returned — that is what a raft node does — so the
 * workload adapts to what survived.
 */
import type { ConfState, Entry, HardState, Snapshot } from '@walnut/wal-core';
import { SplitMix64, fillBytes } from './prng.js';

export const EMPTY_HS: HardState = Object.freeze({ term: 0n, vote: 0n, commit: 0n });

export function sameHs(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** One thing the workload asks for. */
export type Op =
  | { readonly op: 'save'; readonly hardState: HardState; readonly entries: readonly Entry[] }
  | {
      readonly op: 'batch';
      readonly saves: readonly { readonly hardState: HardState; readonly entries: readonly Entry[] }[];
      /** A sync() issued right after the saves, without waiting for them. */
      readonly sync: boolean;
    }
  | { readonly op: 'snapshot'; readonly snapshot: Snapshot; readonly release: boolean }
  | { readonly op: 'release'; readonly index: bigint }
  | { readonly op: 'sync' }
  | { readonly op: 'purge'; readonly max: number }
  | { readonly op: 'restart' }
  | { readonly op: 'crash' };

/** Per-seed shape of the workload. */
export interface WorkloadConfig {
  readonly segmentSizeBytes: number;
  readonly steps: number;
  readonly metadata: Uint8Array | undefined;
  /** Whether this seed writes large entries (64 KiB – 1 MiB). */
  readonly big: boolean;
  /** Percent chance per WAL call that a power cut is armed to strike inside it. */
  readonly crashInCallPercent: number;
  /** Percent chance per WAL call that an I/O fault is injected inside it. */
  readonly faultPercent: number;
  /** Percent chance per step of a power cut between calls / a clean restart. */
  readonly crashPercent: number;
  readonly restartPercent: number;
  /** Purging: none, explicit rounds (purgeSegments) as workload steps, or the WAL's own background purger. */
  readonly purge: 'none' | 'explicit' | 'background';
  /** max-wals of the background purger. */
  readonly purgeMax: number;
  /** Probability (0..1) that a write is cut short by the fault injector (the WAL must finish it). */
  readonly shortWrites: number;
  /** Whether file system operations get seeded latencies (and so complete in a seeded order). */
  readonly seededIo: boolean;
  readonly members: readonly bigint[];
}

const EDGE_SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 503, 504, 505, 511, 512, 513, 1016, 1024, 4088, 4095, 4096, 4097];
const SEGMENT_SIZES = [4096, 8192, 16 * 1024, 32 * 1024, 64 * 1024];
/** An etcd member id as a real server prints it (above 2^53). */
const REAL_MEMBER_ID = 10351854194737052131n;

export function makeConfig(rng: SplitMix64, options: { steps?: number } = {}): WorkloadConfig {
  const segmentSizeBytes = rng.pick(SEGMENT_SIZES);
  const steps = options.steps ?? rng.range(25, 70);
  const mk = rng.int(8);
  const metadata = mk === 0 ? undefined : mk === 1 ? new Uint8Array(0) : fillBytes(rng.next(), 1 + rng.int(64));
  const members = [REAL_MEMBER_ID, (1n << 53n) + 1n, (1n << 63n) | (rng.next() >> 1n), 1n + BigInt(rng.int(100))];
  return {
    segmentSizeBytes,
    steps,
    metadata,
    big: rng.chance(8),
    crashInCallPercent: rng.pick([0, 3, 6, 10]),
    faultPercent: rng.pick([0, 0, 2, 4]),
    crashPercent: rng.pick([2, 4, 8]),
    restartPercent: rng.pick([1, 3]),
    purge: rng.pick(['none', 'explicit', 'explicit', 'background', 'background'] as const),
    purgeMax: rng.range(1, 5),
    shortWrites: rng.pick([0, 0, 0.02, 0.1]),
    seededIo: rng.chance(25),
    members,
  };
}

/** The node's view of its own state (what raft keeps in memory). */
export class RaftNode {
  term = 0n;
  vote = 0n;
  commit = 0n;
  /** The HardState last handed to the WAL (raft's prevHardSt). */
  prevHs: HardState = EMPTY_HS;
  snapIndex = 0n;
  snapTerm = 0n;
  /** Entries snapIndex+1 .. lastIndex. */
  log: Entry[] = [];
  /** The snapshot taken last (0:0 at first). */
  lastSnapshot: Snapshot = { index: 0n, term: 0n };

  lastIndex(): bigint {
    return this.snapIndex + BigInt(this.log.length);
  }

  termAt(index: bigint): bigint {
    if (index === this.snapIndex) return this.snapTerm;
    return this.log[Number(index - this.snapIndex - 1n)]!.term;
  }

  lastTerm(): bigint {
    return this.log.length ? this.log[this.log.length - 1]!.term : this.snapTerm;
  }

  /** Restarts from what the WAL returned when opened at `snap` (raft's RestartNode). */
  recover(snap: { index: bigint; term: bigint }, hs: HardState, entries: readonly Entry[]): void {
    this.snapIndex = snap.index;
    this.snapTerm = snap.term;
    this.lastSnapshot = { index: snap.index, term: snap.term };
    this.log = [...entries];
    this.prevHs = hs;
    this.term = hs.term > this.lastTerm() ? hs.term : this.lastTerm();
    this.vote = hs.term === this.term ? hs.vote : 0n;
    this.commit = hs.commit > snap.index ? hs.commit : snap.index;
    if (this.commit > this.lastIndex()) this.commit = this.lastIndex();
  }

  /** Applies a save the node decided on (raft appends to its own log before persisting). */
  apply(hs: HardState, entries: readonly Entry[]): void {
    if (entries.length > 0) {
      const first = entries[0]!.index;
      this.log.length = Number(first - this.snapIndex - 1n);
      this.log.push(...entries);
    }
    if (!sameHs(hs, EMPTY_HS)) this.prevHs = hs;
  }

  hs(): HardState {
    return { term: this.term, vote: this.vote, commit: this.commit };
  }
}

/** Decides the next step. Pure function of the rng and the node (no I/O). */
export class WorkloadGenerator {
  constructor(
    private readonly rng: SplitMix64,
    readonly config: WorkloadConfig,
  ) {}

  private dataSize(): number | undefined {
    const r = this.rng.int(1000);
    if (r < 50) return undefined;
    if (r < 100) return 0;
    if (r < 300) return this.rng.pick(EDGE_SIZES);
    if (r < 900) return this.rng.int(300);
    if (r < 985 || !this.config.big) return 300 + this.rng.int(6000);
    if (r < 997) return 64 * 1024 + this.rng.int(192 * 1024);
    return this.rng.pick([1024 * 1024, 1024 * 1024 - 1 - this.rng.int(64)]);
  }

  private entry(index: bigint, term: bigint, forceAbsent = false): Entry {
    const t = this.rng.int(30);
    const type = t === 0 ? 1 : t === 1 ? 2 : 0;
    const size = forceAbsent ? undefined : this.dataSize();
    if (size === undefined) return { index, term, type };
    return { index, term, type, data: size === 0 ? new Uint8Array(0) : fillBytes(this.rng.next(), size) };
  }

  private entries(from: bigint, term: bigint, count: number, leaderEmpty: boolean): Entry[] {
    const out: Entry[] = [];
    let i = from;
    if (leaderEmpty) out.push(this.entry(i++, term, true));
    for (let k = 0; k < count; k++) out.push(this.entry(i++, term));
    return out;
  }

  /** The HardState to save with the node's current values, or EMPTY if unchanged (raft's Ready). */
  private hsIfChanged(n: RaftNode): HardState {
    const hs = n.hs();
    return sameHs(hs, n.prevHs) || sameHs(hs, EMPTY_HS) ? EMPTY_HS : hs;
  }

  private newTerm(n: RaftNode): void {
    n.term += this.rng.chance(25) ? 2n : 1n;
    n.vote = this.rng.chance(15) ? 0n : this.rng.pick(this.config.members);
  }

  /** A save of new entries appended at the end, advancing the commit index a little. */
  private append(n: RaftNode, count: number, leaderEmpty = false): { hardState: HardState; entries: Entry[] } {
    if (n.term === 0n) this.newTerm(n);
    const entries = this.entries(n.lastIndex() + 1n, n.term, count, leaderEmpty);
    const last = n.lastIndex() + BigInt(entries.length);
    const target = last - BigInt(this.rng.int(6));
    if (target > n.commit && this.rng.chance(70)) n.commit = target;
    const hardState = this.hsIfChanged(n);
    n.apply(hardState, entries);
    return { hardState, entries };
  }

  /** The next step for node `n`. */
  next(n: RaftNode): Op {
    const rng = this.rng;
    const c = this.config;
    if (rng.chance(c.crashPercent)) return { op: 'crash' };
    if (rng.chance(c.restartPercent)) return { op: 'restart' };
    const roll = rng.int(100);
    if (roll < 5 && n.lastIndex() > n.commit) {
      // A new leader replaces the uncommitted suffix from `from` on.
      this.newTerm(n);
      const from = n.commit + 1n + BigInt(rng.int(Number(n.lastIndex() - n.commit)));
      const entries = this.entries(from, n.term, rng.int(5), true);
      const hardState = this.hsIfChanged(n);
      n.apply(hardState, entries);
      return { op: 'save', hardState, entries };
    }
    if (roll < 9) {
      // An election: the vote is persisted first, sometimes alone.
      this.newTerm(n);
      if (rng.chance(50)) {
        const hardState = this.hsIfChanged(n);
        n.apply(hardState, []);
        return { op: 'save', hardState, entries: [] };
      }
      const s = this.append(n, rng.int(4), true);
      return { op: 'save', ...s };
    }
    if (roll < 15 && n.commit > n.lastSnapshot.index) {
      const span = Number(n.commit - n.lastSnapshot.index);
      const index = n.commit - BigInt(rng.int(Math.min(span, 5)));
      const confState: ConfState | undefined = rng.chance(75)
        ? {
            voters: c.members.slice(0, 3),
            learners: rng.chance(20) ? [c.members[3]!] : [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          }
        : undefined;
      const snapshot: Snapshot = confState ? { index, term: n.termAt(index), confState } : { index, term: n.termAt(index) };
      n.lastSnapshot = snapshot;
      return { op: 'snapshot', snapshot, release: rng.chance(70) };
    }
    if (roll < 22 && n.lastIndex() > n.commit) {
      n.commit += 1n + BigInt(rng.int(Number(n.lastIndex() - n.commit)));
      const hardState = this.hsIfChanged(n);
      n.apply(hardState, []);
      return { op: 'save', hardState, entries: [] };
    }
    if (roll < 26) return { op: 'sync' };
    if (roll < 29 && c.purge === 'explicit') return { op: 'purge', max: rng.range(1, 5) };
    if (roll < 31) return { op: 'release', index: n.lastSnapshot.index };
    if (roll < 38) {
      // Concurrent saves: group commit. Only the first may change the HardState.
      const saves = [this.append(n, 1 + rng.int(3))];
      const k = 1 + rng.int(3);
      for (let i = 0; i < k; i++) {
        const entries = this.entries(n.lastIndex() + 1n, n.term, 1 + rng.int(3), false);
        n.apply(EMPTY_HS, entries);
        saves.push({ hardState: EMPTY_HS, entries });
      }
      return { op: 'batch', saves, sync: rng.chance(30) };
    }
    return { op: 'save', ...this.append(n, 1 + rng.int(6)) };
  }
}
