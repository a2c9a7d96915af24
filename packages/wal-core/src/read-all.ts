/**
 * ReadAll's record loop (etcd wal.ReadAll), over the shared {@link RecordDecoder}, written once as a
 * stream ({@link replayStream}) that both `readAll` (collecting) and `replay` (streaming, bounded
 * memory) consume: entries after the start snapshot, the HardStates, metadata that must not conflict,
 * CRC records that must continue the chain, and the start snapshot that must be found with the right term.
 */
import {
  MetadataConflictError,
  SliceOutOfRangeError,
  SnapshotMismatchError,
  UnexpectedEofError,
  UnknownRecordTypeError,
} from './errors.js';
import { RecordType } from './codec/messages.js';
import type { RecordDecoder } from './record-decoder.js';
import { entryOf, hardStateOf, sameBytes, snapshotOf } from './record-payloads.js';
import { EMPTY_HARD_STATE, type Entry, type HardState, type Snapshot } from './types.js';

/**
 * One item of a streamed replay, in WAL order. Entries come with raft's overwrite rule left to the
 * consumer: an entry at index i replaces every entry at or after i that came before it (a term change
 * truncated the log). Entries at or below the start snapshot's index are not yielded (as ReadAll).
 */
export type ReplayItem =
  | {
      /** An entry record. */
      readonly kind: 'entry';
      /** The entry, as read (a later entry with the same or a lower index overwrites it). */
      readonly entry: Entry;
    }
  | {
      /** A HardState record. */
      readonly kind: 'hardState';
      /** The HardState. */
      readonly hardState: HardState;
    }
  | {
      /** A metadata record. */
      readonly kind: 'metadata';
      /** Its bytes, `undefined` when the record has no data. */
      readonly metadata: Uint8Array | undefined;
    }
  | {
      /** A snapshot record. */
      readonly kind: 'snapshot';
      /** The snapshot's index, term and ConfState. */
      readonly snapshot: Snapshot;
    };

/** What a completed replay found. */
export interface ReplaySummary {
  metadata: Uint8Array | undefined;
  hardState: HardState;
  /** Index of the last entry record read (etcd enti), 0 if none. */
  lastEntryIndex: bigint;
  /** Whether a snapshot record matching the start snapshot was seen. */
  snapshotFound: boolean;
  /** An unexpected EOF that ended the scan (tolerated in read mode only). */
  unexpectedEof: UnexpectedEofError | undefined;
}

/**
 * Streams the records. Throws what etcd returns with the state reset (metadata conflict, CRC record
 * mismatch, snapshot mismatch, unknown type, decode errors) and SliceOutOfRangeError for a gap (with the
 * state so far and the entries collected by `collected`, if the consumer keeps them). An unexpected EOF
 * ends the stream and is reported in the summary for the caller to judge.
 */
export async function* replayStream(
  dec: RecordDecoder,
  startIndex: bigint,
  startTerm: bigint,
  collected?: () => Entry[],
): AsyncGenerator<ReplayItem, ReplaySummary> {
  let metadata: Uint8Array | undefined;
  let hardState: HardState = EMPTY_HARD_STATE;
  let lastEntryIndex = 0n;
  /** Index of the last entry of the log as the overwrite rule leaves it (startIndex if none). */
  let listEnd = startIndex;
  let snapshotFound = false;
  let unexpectedEof: UnexpectedEofError | undefined;
  for (;;) {
    let rec;
    try {
      rec = await dec.next();
    } catch (e) {
      if (e instanceof UnexpectedEofError) {
        unexpectedEof = e;
        break;
      }
      throw e;
    }
    if (!rec) break;
    const loc = { file: rec.file, offset: rec.offset };
    switch (rec.type) {
      case RecordType.Entry: {
        const e = entryOf(rec);
        if (e.index > startIndex) {
          // etcd: the entry goes at position index-start-1 of the list; beyond its end is a gap.
          if (e.index - 1n > listEnd) {
            throw new SliceOutOfRangeError(
              startIndex,
              startTerm,
              e.index,
              e.term,
              { metadata: undefined, hardState, entries: collected?.() ?? [] },
              loc,
            );
          }
          listEnd = e.index;
          yield { kind: 'entry', entry: e };
        }
        lastEntryIndex = e.index;
        break;
      }
      case RecordType.State:
        hardState = hardStateOf(rec);
        yield { kind: 'hardState', hardState };
        break;
      case RecordType.Metadata:
        if (metadata !== undefined && !sameBytes(metadata, rec.data)) throw new MetadataConflictError(loc);
        metadata = rec.data;
        yield { kind: 'metadata', metadata };
        break;
      case RecordType.Crc:
        dec.acceptCrcRecord(rec);
        break;
      case RecordType.Snapshot: {
        const s = snapshotOf(rec);
        if (s.index === startIndex) {
          if (s.term !== startTerm) throw new SnapshotMismatchError(startIndex, startTerm, s.term, loc);
          snapshotFound = true;
        }
        yield { kind: 'snapshot', snapshot: s };
        break;
      }
      default:
        throw new UnknownRecordTypeError(rec.typeRaw, loc);
    }
  }
  return { metadata, hardState, lastEntryIndex, snapshotFound, unexpectedEof };
}

/** What readAll collects. */
export interface ReplayResult extends ReplaySummary {
  entries: Entry[];
}

/** ReadAll: the stream collected, with raft's overwrite rule applied to the entries. */
export async function replayRecords(dec: RecordDecoder, startIndex: bigint, startTerm: bigint): Promise<ReplayResult> {
  const entries: Entry[] = [];
  const it = replayStream(dec, startIndex, startTerm, () => entries);
  for (;;) {
    const r = await it.next();
    if (r.done) return { ...r.value, entries };
    const item = r.value;
    if (item.kind === 'entry') {
      // Raft's overwrite rule: this entry replaces everything from its index on.
      entries.length = Number(item.entry.index - startIndex - 1n);
      entries.push(item.entry);
    }
  }
}
