/**
 * What etcd must print for a workload, derived from the workload's own model (not from walnut):
 * a third opinion that tells "walnut and etcd disagree" apart from "the workload is not what we think".
 */
import { createHash } from 'node:crypto';
import type { SnapPosition } from './etcdwal.js';
import { stringifyLikeGo } from './etcdwal.js';
import type { Workload } from './workload.js';

/** The canonical dump text of `ReadAll` at `snap`, which must be 0:0 or a snapshot the workload saved. */
export function modelDump(w: Workload, snap: SnapPosition): string {
  const known = (snap.index === 0n && snap.term === 0n) || w.snapshots.some((s) => s.index === snap.index && s.term === snap.term);
  if (!known) throw new Error(`modelDump: ${snap.index}:${snap.term} is not a snapshot of seed ${w.seed}`);
  return stringifyLikeGo({
    // etcd's decoder yields nil for an absent metadata field and []byte{} for a present, empty one.
    metadataHex: w.metadata === undefined ? null : Buffer.from(w.metadata).toString('hex'),
    hardState: { term: w.hardState.term, vote: w.hardState.vote, commit: w.hardState.commit },
    entries: w.log
      .filter((e) => e.index > snap.index)
      .map((e) => ({
        index: e.index,
        term: e.term,
        type: e.type,
        dataSha256: createHash('sha256')
          .update(e.data ?? new Uint8Array(0))
          .digest('hex'),
        dataLen: e.data?.length ?? 0,
      })),
    error: null,
  });
}

/** `etcdwal snapshots` output: 0:0 (written by Create) then every snapshot, all at or below the final commit. */
export function modelSnapshots(w: Workload): string {
  const snaps = [{ index: 0n, term: 0n }, ...w.snapshots].filter((s) => s.index <= w.hardState.commit);
  return stringifyLikeGo({ snapshots: snaps.map((s) => ({ index: s.index, term: s.term })), error: null });
}
