/**
 * The raft and WAL values walnut stores, mirroring etcd's raftpb and walpb messages.
 * Every uint64 is a `bigint` so that values above 2^53 (etcd member ids in `vote`,
 * ConfState voters) round-trip exactly.
 */

/** raftpb.EntryType. */
export const EntryType = {
  /** An ordinary proposal. */
  Normal: 0,
  /** A raftpb.ConfChange. */
  ConfChange: 1,
  /** A raftpb.ConfChangeV2. */
  ConfChangeV2: 2,
} as const;
/** raftpb.EntryType as a number (0, 1, 2; other values read from disk are kept as is). */
export type EntryType = number;

/** A raft log entry (raftpb.Entry). */
export interface Entry {
  /** The raft log index. */
  readonly index: bigint;
  /** The term the entry was proposed in. */
  readonly term: bigint;
  /** The {@link EntryType}. */
  readonly type: EntryType;
  /** `undefined`: the Data field is absent on the wire; an empty array: present and empty. */
  readonly data?: Uint8Array | undefined;
}

/** raftpb.HardState. All zeros is the empty HardState, which etcd never writes. */
export interface HardState {
  /** The current term. */
  readonly term: bigint;
  /** The member voted for in this term (0: none). */
  readonly vote: bigint;
  /** The highest index known to be committed. */
  readonly commit: bigint;
}

/** raftpb.ConfState. */
export interface ConfState {
  /** Voters of the (incoming) configuration. */
  readonly voters: readonly bigint[];
  /** Learners. */
  readonly learners: readonly bigint[];
  /** Voters of the outgoing configuration during a joint change. */
  readonly votersOutgoing: readonly bigint[];
  /** Voters that become learners when the joint configuration is left. */
  readonly learnersNext: readonly bigint[];
  /** Whether raft leaves the joint configuration on its own. */
  readonly autoLeave: boolean;
}

/** walpb.Snapshot: the position of a raft snapshot as recorded in the WAL. */
export interface Snapshot {
  /** The index of the last entry the snapshot covers. */
  readonly index: bigint;
  /** The term of that entry. */
  readonly term: bigint;
  /** Required by etcd >= 3.5 for every snapshot with index > 0 (see `requireConfState`). */
  readonly confState?: ConfState | undefined;
}

/** The empty HardState. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0n, vote: 0n, commit: 0n });

/** raft's IsEmptyHardState. */
export function isEmptyHardState(s: HardState | undefined | null): boolean {
  return !s || (s.term === 0n && s.vote === 0n && s.commit === 0n);
}

/** raft's MustSync: entries, or a change of term or vote, need a datasync; a commit change alone does not. */
export function mustSync(next: HardState, previous: HardState, entryCount: number): boolean {
  return entryCount !== 0 || next.vote !== previous.vote || next.term !== previous.term;
}

/** An empty ConfState (no voters, no learners, autoLeave false). */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}
