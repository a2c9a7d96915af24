/**
 * Payload decoding for readers. etcd panics on a payload that does not decode (Must* unmarshal);
 * walnut reports a typed {@link MalformedRecordError} that names the file and offset.
 */
import { MalformedRecordError } from './errors.js';
import { decodeEntry, decodeHardState, decodeSnapshot } from './codec/messages.js';
import type { DecodedRecord } from './record-decoder.js';
import type { Entry, HardState, Snapshot } from './types.js';

const EMPTY = new Uint8Array(0);

function payload<T>(rec: DecodedRecord, what: string, decode: (b: Uint8Array) => T): T {
  try {
    return decode(rec.data ?? EMPTY);
  } catch (e) {
    throw new MalformedRecordError(
      `${what} payload does not decode: ${(e as Error).message}`,
      { file: rec.file, offset: rec.offset },
      `unmarshal should never fail (${(e as Error).message})`,
    );
  }
}

export const entryOf = (rec: DecodedRecord): Entry => payload(rec, 'raftpb.Entry', decodeEntry);
export const hardStateOf = (rec: DecodedRecord): HardState => payload(rec, 'raftpb.HardState', decodeHardState);
export const snapshotOf = (rec: DecodedRecord): Snapshot => payload(rec, 'walpb.Snapshot', decodeSnapshot);

/** Go's bytes.Equal: nil and empty are equal. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
