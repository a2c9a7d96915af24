/**
 * `dump --from/--to/--type`: which entries (and, with `--raw`, which records) to show.
 */
import type { Entry } from '@walnut/wal-core';
import { decodeEntryPayload, REQUEST_KINDS } from './decode/payload.js';
import { entryTypeName } from './format.js';

/** raftpb entry types, as `--type` names them. */
export const ENTRY_TYPE_NAMES = ['normal', 'confchange', 'confchangev2'] as const;
/** walpb record types other than entries, as `--type` names them (record-level: `--raw` only). */
export const RECORD_TYPE_NAMES = ['hardstate', 'snapshot', 'metadata', 'crc'] as const;
/** Every name `--type` accepts. */
export const TYPE_NAMES: readonly string[] = [...ENTRY_TYPE_NAMES, ...RECORD_TYPE_NAMES, 'v2', ...REQUEST_KINDS];

/** A parsed `--type` / `--from` / `--to`. Index bounds are inclusive and exact uint64. */
export interface DumpFilter {
  readonly from: bigint | undefined;
  readonly to: bigint | undefined;
  /** Lower-case type names; undefined = every type. */
  readonly types: ReadonlySet<string> | undefined;
}

/** The `--type` value is malformed. */
export class TypeFilterError extends Error {
  override readonly name = 'TypeFilterError';
}

/**
 * Parses `--type a,b,c` (case-insensitive; `conf-change`-style dashes and `IRR` prefixes of etcd-dump-logs
 * are not accepted: the names are raftpb's entry types, walpb's record types and InternalRaftRequest's
 * field names).
 * @throws TypeFilterError naming the unknown type and listing the valid ones
 */
export function parseTypes(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '') continue;
    if (!TYPE_NAMES.includes(t)) {
      throw new TypeFilterError(
        `unknown type '${raw.trim()}'; valid: ${ENTRY_TYPE_NAMES.join(', ')}; records (with --raw): ${RECORD_TYPE_NAMES.join(', ')}; requests: v2, ${REQUEST_KINDS.join(', ')}`,
      );
    }
    out.add(t);
  }
  if (out.size === 0) throw new TypeFilterError('--type needs at least one type name');
  return out;
}

/** True when no bound and no type is set. */
export function isEmptyFilter(f: DumpFilter): boolean {
  return f.from === undefined && f.to === undefined && f.types === undefined;
}

/** True when `index` is within `--from`..`--to`. */
export function inRange(f: DumpFilter, index: bigint): boolean {
  return (f.from === undefined || index >= f.from) && (f.to === undefined || index <= f.to);
}

/** True when the entry passes the filter: in range, and its entry type or request kind is listed. */
export function entryMatches(f: DumpFilter, e: Entry): boolean {
  if (!inRange(f, e.index)) return false;
  if (f.types === undefined) return true;
  if (f.types.has(entryTypeName(e.type))) return true;
  return e.type === 0 && f.types.has(decodeEntryPayload(e.type, e.data).kind);
}

/** The filter in words, for the dump header (`index 5..9, type put,txn`), or undefined when empty. */
export function describeFilter(f: DumpFilter): string | undefined {
  const parts: string[] = [];
  if (f.from !== undefined || f.to !== undefined) parts.push(`index ${f.from ?? ''}..${f.to ?? ''}`);
  if (f.types !== undefined) parts.push(`type ${[...f.types].join(',')}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}
