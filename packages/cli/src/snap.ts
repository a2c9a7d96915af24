/** Parsing of `--snap INDEX:TERM`. */

/** A WAL snapshot position, as `Wal.open` takes it. */
export interface SnapPosition {
  /** The snapshot's index. */
  readonly index: bigint;
  /** The snapshot's term. */
  readonly term: bigint;
}

const MAX_UINT64 = (1n << 64n) - 1n;

function parseUint64(text: string, what: string): bigint {
  if (!/^[0-9]+$/.test(text)) throw new Error(`${what} '${text}' is not a decimal unsigned integer`);
  const v = BigInt(text);
  if (v > MAX_UINT64) throw new Error(`${what} '${text}' does not fit in 64 bits`);
  return v;
}

/**
 * Parses `INDEX:TERM` (two decimal uint64 values), as `etcdwal --snap` does.
 * @throws Error with a readable message when the text is malformed
 */
export function parseSnap(text: string): SnapPosition {
  const parts = text.split(':');
  if (parts.length !== 2) throw new Error(`bad snapshot '${text}', want INDEX:TERM (e.g. 390:4)`);
  return { index: parseUint64(parts[0] ?? '', 'snapshot index'), term: parseUint64(parts[1] ?? '', 'snapshot term') };
}

/** Formats a snapshot position as `INDEX:TERM`. */
export function formatSnap(s: SnapPosition): string {
  return `${s.index}:${s.term}`;
}

/**
 * Parses a raft index (one decimal uint64), as `--before INDEX` takes it.
 * @throws Error with a readable message when the text is malformed
 */
export function parseIndex(text: string): bigint {
  return parseUint64(text, 'index');
}
