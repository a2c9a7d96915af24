/**
 * ReadAll's record loop (etcd wal.ReadAll), over the shared {@link RecordDecoder}:
 * entries after the start snapshot with raft's overwrite rule (an entry at index i drops every entry
 * at or after i), the last HardState, metadata that must not conflict, CRC records that must continue
 * the chain, and the start snapshot that must be found with the right term.
 */
import {
  MetadataConflictError,
  SliceOutOfRangeError,
  SnapshotMismatchError,
  UnexpectedEofError,
  UnknownRecordTypeError,
  type WalError,
} from './errors.js';
import { RecordType } from './codec/messages.js';
import type { RecordDecoder } from './record-decoder.js';
import { entryOf, hardStateOf, sameBytes, snapshotOf } from './record-payloads.js';
import { EMPTY_HARD_STATE, type Entry, type HardState } from './types.js';

/** What the loop collected. */
export interface ReplayResult {
  metadata: Uint8Array | undefined;
  hardState: HardState;
  entries: Entry[];
  /** Index of the last entry record read (etcd enti), 0 if none. */
  lastEntryIndex: bigint;
  /** Whether a snapshot record matching the start snapshot was seen. */
  snapshotFound: boolean;
  /** An unexpected EOF that ended the scan (tolerated in read mode only). */
  unexpectedEof: UnexpectedEofError | undefined;
}

/**
 * Runs the loop. Throws every error that etcd returns with the state reset; an unexpected EOF is returned
 * in `unexpectedEof` for the caller to judge (read mode tolerates it, write mode does not).
 */
export async function replayRecords(dec: RecordDecoder, startIndex: bigint, startTerm: bigint): Promise<ReplayResult> {
  let metadata: Uint8Array | undefined;
  let hardState: HardState = EMPTY_HARD_STATE;
  const entries: Entry[] = [];
  let lastEntryIndex = 0n;
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
          const up = e.index - startIndex - 1n;
          if (up > BigInt(entries.length)) {
            throw new SliceOutOfRangeError(startIndex, startTerm, e.index, e.term, { metadata: undefined, hardState, entries }, loc);
          }
          // Raft's overwrite rule: this entry replaces everything from its index on.
          entries.length = Number(up);
          entries.push(e);
        }
        lastEntryIndex = e.index;
        break;
      }
      case RecordType.State:
        hardState = hardStateOf(rec);
        break;
      case RecordType.Metadata:
        if (metadata !== undefined && !sameBytes(metadata, rec.data)) throw new MetadataConflictError(loc);
        metadata = rec.data;
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
        break;
      }
      default:
        throw new UnknownRecordTypeError(rec.typeRaw, loc);
    }
  }
  return { metadata, hardState, entries, lastEntryIndex, snapshotFound, unexpectedEof };
}

/** True for the errors etcd's read mode tolerates as the end of the log. */
export function isUnexpectedEof(e: unknown): e is WalError {
  return e instanceof UnexpectedEofError;
}
