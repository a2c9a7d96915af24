/**
 * Segment file names: `%016x-%016x.wal` of (sequence, first expected raft index).
 *
 * Writing always produces the canonical lower-case 16-digit form. Reading follows etcd, whose Go
 * `fmt.Sscanf` is lenient (upper-case hex, fewer digits, leading spaces, trailing text before the final
 * `.wal`); `strict` accepts only the canonical form (a documented walnut option).
 */
import { BadWalNameError } from './errors.js';

/** A parsed segment name. */
export interface SegmentName {
  /** The file name, `<seq>-<index>.wal` with 16 hex digits each. */
  readonly name: string;
  /** The segment's sequence number. */
  readonly seq: bigint;
  /** The first raft index the segment is expected to hold (the last index before it, plus 1). */
  readonly index: bigint;
}

const HEX16 = (v: bigint) => v.toString(16).padStart(16, '0');
const CANONICAL = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
// Go: Sscanf(name, "%016x-%016x.wal"): %016x reads at most 16 hex digits after optional spaces.
const LENIENT = /^ *([0-9a-fA-F]{1,16})- *([0-9a-fA-F]{1,16})\.wal/;

/** The canonical file name of a segment. */
export function formatSegmentName(seq: bigint, index: bigint): string {
  return `${HEX16(seq)}-${HEX16(index)}.wal`;
}

/** Parses a segment name; throws {@link BadWalNameError} if it is not one. */
export function parseSegmentName(name: string, strict = false): SegmentName {
  if (!name.endsWith('.wal')) throw new BadWalNameError(name);
  const m = (strict ? CANONICAL : LENIENT).exec(name);
  if (!m) throw new BadWalNameError(name);
  return { name, seq: BigInt('0x' + m[1]!), index: BigInt('0x' + m[2]!) };
}

/** Parses a segment name, or returns undefined. */
export function tryParseSegmentName(name: string, strict = false): SegmentName | undefined {
  try {
    return parseSegmentName(name, strict);
  } catch {
    return undefined;
  }
}

/** Byte-wise order of names, as Go's sort.Strings (names here are ASCII). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order readers and purge use: by sequence number, then by name. For canonical names this is
 * exactly etcd's byte order. It differs only for non-canonical names etcd's lenient parser accepts
 * (`3-18.wal`), which byte order would sort after every canonical name, so that the first cut after
 * opening such a WAL (named canonically) would sort before its tail and break the sequence.
 */
export function compareSegments(a: SegmentName, b: SegmentName): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : compareNames(a.name, b.name);
}
