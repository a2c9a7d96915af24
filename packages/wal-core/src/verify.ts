/**
 * The read-only checks: Verify (etcd wal.Verify, returning the last HardState as etcd ≥ 3.5) and
 * ValidSnapshotEntries. Both consume the shared {@link RecordDecoder}; neither takes locks.
 */
import {
  MetadataConflictError,
  SnapshotMismatchError,
  SnapshotNotFoundError,
  UnexpectedEofError,
  UnknownRecordTypeError,
} from './errors.js';
import { RecordType } from './codec/messages.js';
import type { FileSystem } from './fs/file-system.js';
import { RecordDecoder } from './record-decoder.js';
import { hardStateOf, sameBytes, snapshotOf } from './record-payloads.js';
import { closeSegments, openSegments, readSegmentNames, selectSegments } from './segment-files.js';
import { EMPTY_HARD_STATE, type HardState, type Snapshot } from './types.js';
import type { WalLogger } from './options.js';

/** Runs `body` over a decoder of the given segments, closing them afterwards. */
async function withSegments<T>(
  fs: FileSystem,
  dir: string,
  names: Parameters<typeof openSegments>[2],
  body: (d: RecordDecoder) => Promise<T>,
): Promise<T> {
  const segs = await openSegments(fs, dir, names, false);
  try {
    return await body(new RecordDecoder(segs));
  } finally {
    await closeSegments(segs);
  }
}

/** Reads the next record, treating an unexpected EOF as the end (read-only semantics). */
async function nextTolerant(dec: RecordDecoder) {
  try {
    return await dec.next();
  } catch (e) {
    if (e instanceof UnexpectedEofError) return null;
    throw e;
  }
}

/** etcd Verify: checks the segments a reader at `snap` would open; returns the last HardState. */
export async function verifyWal(
  fs: FileSystem,
  dir: string,
  snap: { index: bigint; term: bigint },
  strict: boolean,
  logger?: WalLogger,
): Promise<HardState> {
  const names = await selectSegments(fs, dir, snap.index, strict, logger);
  return withSegments(fs, dir, names, async (dec) => {
    let metadata: Uint8Array | undefined;
    let state = EMPTY_HARD_STATE;
    let match = false;
    for (let rec = await nextTolerant(dec); rec; rec = await nextTolerant(dec)) {
      const loc = { file: rec.file, offset: rec.offset };
      switch (rec.type) {
        case RecordType.Metadata:
          if (metadata !== undefined && !sameBytes(metadata, rec.data)) throw new MetadataConflictError(loc);
          metadata = rec.data;
          break;
        case RecordType.Crc:
          dec.acceptCrcRecord(rec);
          break;
        case RecordType.Snapshot: {
          const s = snapshotOf(rec);
          if (s.index === snap.index) {
            if (s.term !== snap.term) throw new SnapshotMismatchError(snap.index, snap.term, s.term, loc);
            match = true;
          }
          break;
        }
        case RecordType.State:
          state = hardStateOf(rec);
          break;
        case RecordType.Entry:
          break;
        default:
          throw new UnknownRecordTypeError(rec.typeRaw, loc);
      }
    }
    if (!match) throw new SnapshotNotFoundError(snap.index, snap.term);
    return state;
  });
}

/**
 * etcd ValidSnapshotEntries: every snapshot record in every segment of the directory whose index is
 * ≤ the last HardState's commit, in file order. Unknown record types are skipped.
 */
export async function validSnapshotEntries(fs: FileSystem, dir: string, strict: boolean, logger?: WalLogger): Promise<Snapshot[]> {
  const names = await readSegmentNames(fs, dir, strict, logger);
  return withSegments(fs, dir, names, async (dec) => {
    const snaps: Snapshot[] = [];
    let state = EMPTY_HARD_STATE;
    for (let rec = await nextTolerant(dec); rec; rec = await nextTolerant(dec)) {
      switch (rec.type) {
        case RecordType.Snapshot:
          snaps.push(snapshotOf(rec));
          break;
        case RecordType.State:
          state = hardStateOf(rec);
          break;
        case RecordType.Crc:
          dec.acceptCrcRecord(rec);
          break;
        default:
          break;
      }
    }
    return snaps.filter((s) => s.index <= state.commit);
  });
}
