/**
 * The canonical dump of `../shared/reference` (`etcdwal dump`): what etcd's ReadAll returns, as JSON
 * with exactly the keys `metadataHex`, `hardState`, `entries`, `error`, in that order, 2-space indented,
 * uint64 printed exactly. `error` is etcd 3.4's text for the condition (the error's `etcdMessage`).
 * Used by the CLI (`walnut dump --json`), the golden tests and the interop tests.
 */
import { createHash } from 'node:crypto';
import { WalError } from './errors.js';
import type { FileSystem } from './fs/file-system.js';
import type { WalOptions } from './options.js';
import { EMPTY_HARD_STATE, type HardState } from './types.js';
import { Wal, type SnapshotPosition } from './wal.js';

/** One entry of a canonical dump. */
export interface CanonicalDumpEntry {
  /** The entry's index. */
  readonly index: bigint;
  /** The entry's term. */
  readonly term: bigint;
  /** The entry's type (raftpb.EntryType). */
  readonly type: number;
  /** SHA-256 of the entry's data, lowercase hex (of zero bytes when the data is absent). */
  readonly dataSha256: string;
  /** Length of the entry's data in bytes. */
  readonly dataLen: number;
}

/** What etcd returns from Open + ReadAll, in the harness's shape. */
export interface CanonicalDump {
  /** The metadata as lowercase hex, or null when none was read. */
  readonly metadataHex: string | null;
  /** The last HardState read. */
  readonly hardState: HardState;
  /** The entries read, in index order. */
  readonly entries: CanonicalDumpEntry[];
  /** etcd 3.4's error text, or null. */
  readonly error: string | null;
  /** The walnut error behind `error` (not part of the JSON). */
  readonly cause?: WalError | Error | undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const sha256 = (b: Uint8Array | undefined) =>
  createHash('sha256')
    .update(b ?? new Uint8Array(0))
    .digest('hex');

function errorText(e: unknown): string {
  if (e instanceof WalError) return e.etcdMessage;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Opens `dir` at `snap` (read mode, or write mode with its side effects: locks, tail zeroing) and reads
 * it all, reporting what etcd would: on errors that reset the state, no metadata and a zero HardState;
 * on "snapshot not found", the data read; on "slice bounds out of range", the entries read so far.
 */
export async function canonicalDump(
  fs: FileSystem,
  dir: string,
  snap: SnapshotPosition,
  options: { write: boolean } & WalOptions,
): Promise<CanonicalDump> {
  let wal: Wal;
  try {
    wal = options.write ? await Wal.open(fs, dir, snap, options) : await Wal.openForRead(fs, dir, snap, options);
  } catch (e) {
    return { metadataHex: null, hardState: EMPTY_HARD_STATE, entries: [], error: errorText(e), cause: e as Error };
  }
  try {
    const r = await wal.readAll();
    return {
      metadataHex: r.metadata === undefined ? null : hex(r.metadata),
      hardState: r.hardState,
      entries: r.entries.map((e) => ({
        index: e.index,
        term: e.term,
        type: e.type,
        dataSha256: sha256(e.data),
        dataLen: e.data?.length ?? 0,
      })),
      error: null,
    };
  } catch (e) {
    const partial = (
      e as {
        partial?: {
          metadata?: Uint8Array;
          hardState: HardState;
          entries: { index: bigint; term: bigint; type: number; data?: Uint8Array }[];
        };
      }
    ).partial;
    return {
      metadataHex: partial?.metadata === undefined ? null : hex(partial.metadata),
      hardState: partial?.hardState ?? EMPTY_HARD_STATE,
      entries: (partial?.entries ?? []).map((x) => ({
        index: x.index,
        term: x.term,
        type: x.type,
        dataSha256: sha256(x.data),
        dataLen: x.data?.length ?? 0,
      })),
      error: errorText(e),
      cause: e as Error,
    };
  } finally {
    await wal.close().catch(() => {});
  }
}

/** JSON string literal, as Go's encoder with HTML escaping off would print it. */
function str(s: string): string {
  return JSON.stringify(s);
}

/** Formats a dump exactly as `etcdwal dump` prints it (Go json.Encoder, 2-space indent, trailing newline). */
export function formatCanonicalDump(d: CanonicalDump): string {
  const hs = d.hardState;
  const lines: string[] = [];
  lines.push('{');
  lines.push(`  "metadataHex": ${d.metadataHex === null ? 'null' : str(d.metadataHex)},`);
  lines.push('  "hardState": {');
  lines.push(`    "term": ${hs.term},`);
  lines.push(`    "vote": ${hs.vote},`);
  lines.push(`    "commit": ${hs.commit}`);
  lines.push('  },');
  if (d.entries.length === 0) {
    lines.push('  "entries": [],');
  } else {
    lines.push('  "entries": [');
    d.entries.forEach((e, i) => {
      lines.push('    {');
      lines.push(`      "index": ${e.index},`);
      lines.push(`      "term": ${e.term},`);
      lines.push(`      "type": ${e.type},`);
      lines.push(`      "dataSha256": ${str(e.dataSha256)},`);
      lines.push(`      "dataLen": ${e.dataLen}`);
      lines.push(i === d.entries.length - 1 ? '    }' : '    },');
    });
    lines.push('  ],');
  }
  lines.push(`  "error": ${d.error === null ? 'null' : str(d.error)}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
