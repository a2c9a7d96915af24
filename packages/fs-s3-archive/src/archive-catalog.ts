/**
 * The catalog of one archived WAL directory: {@link listArchive} (the objects under the directory's key
 * prefix with the facts their metadata carries, and what is wrong with them, from one listing and one HEAD
 * per object) and {@link verifyArchive} (the metadata chain; with `deep`, every object downloaded,
 * checked byte for byte against its metadata and decoded with the WAL's own decoder).
 *
 * Problems are reported as typed {@link ArchiveError}s, never thrown, so one pass shows all of them:
 * - {@link ArchiveSequenceGapError}: a sequence number missing between two objects (or used twice);
 * - {@link ArchiveChainBreakError}: an object's chain start is not the previous object's chain end;
 * - {@link ArchiveCorruptionError}: metadata missing or malformed, a size that differs between the listing
 *   and the metadata, and (deep) bytes that do not match the metadata or do not decode;
 * - {@link ObjectNotFoundError}: an object listed but gone by the time it was read.
 */
import { crc32cUpdate, tryParseSegmentName } from '@walnut/wal-core';
import {
  ArchiveChainBreakError,
  ArchiveCorruptionError,
  ArchiveError,
  ArchiveSequenceGapError,
  ObjectNotFoundError,
} from './archive-errors.js';
import type { ObjectStore } from './object-store.js';
import { chunkCrcs, metadataToFacts, segmentFacts, type SegmentFacts } from './segment-object.js';

/** One archived segment as the catalog knows it. */
export interface CatalogSegment {
  /** The object key (`<dirPrefix><name>`). */
  readonly key: string;
  /** The segment's file name. */
  readonly name: string;
  /** Sequence number, from the name. */
  readonly seq: bigint;
  /** First raft index the segment holds, from the name. */
  readonly firstIndex: bigint;
  /** The object's size as listed. */
  readonly size: number;
  /** The facts in the object's metadata; undefined when they are missing or malformed (see the problems). */
  readonly facts: SegmentFacts | undefined;
}

/** What {@link listArchive} found. */
export interface ArchiveCatalog {
  /** The store's location, for messages. */
  readonly location: string;
  /** The key prefix of the WAL directory. */
  readonly dirPrefix: string;
  /** The archived segments, oldest first (by sequence number, then name). */
  readonly segments: readonly CatalogSegment[];
  /** Keys under the prefix that are not segments of this directory (nested keys, other names); left alone. */
  readonly ignored: readonly string[];
  /** What is wrong, in the order of the segments. Empty for a consistent archive. */
  readonly problems: readonly ArchiveError[];
}

/** Options of {@link listArchive}. */
export interface ListArchiveOptions {
  /** HEAD requests in flight at once (default 8). */
  readonly concurrency?: number;
}

/** Segment order: by sequence number, then by name (as wal-core's readers and purge sort). */
export function compareSegmentNames(
  a: { readonly seq: bigint; readonly name: string },
  b: { readonly seq: bigint; readonly name: string },
): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Sequence and chain problems between consecutive segments (by position): a sequence number that is not
 * the previous one + 1 is a gap (or a duplicate); where it is, and both sides have facts, the chain start
 * must equal the previous chain end.
 */
export function linkProblems(location: string, segments: readonly CatalogSegment[]): ArchiveError[] {
  const problems: ArchiveError[] = [];
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (cur.seq === prev.seq) {
      problems.push(
        new ArchiveSequenceGapError(
          location,
          prev.name,
          cur.name,
          `'${prev.name}' and '${cur.name}' have the same sequence number (two WAL histories under one prefix?)`,
        ),
      );
    } else if (cur.seq !== prev.seq + 1n) {
      problems.push(new ArchiveSequenceGapError(location, prev.name, cur.name));
    } else if (prev.facts && cur.facts && cur.facts.chainStart !== prev.facts.chainEnd) {
      problems.push(new ArchiveChainBreakError(prev.key, cur.key, prev.facts.chainEnd, cur.facts.chainStart));
    }
  }
  return problems;
}

/**
 * Lists the archived segments of one WAL directory: one listing of `dirPrefix`, then one HEAD per
 * segment for the facts in its metadata. Never throws for what it finds (see
 * {@link ArchiveCatalog.problems}); throws the store's typed errors (unreachable, access denied, no bucket).
 *
 * @param store - the object store
 * @param dirPrefix - the key prefix of the WAL directory itself (e.g. `cluster-a/member-1/wal/`)
 */
export async function listArchive(store: ObjectStore, dirPrefix: string, options: ListArchiveOptions = {}): Promise<ArchiveCatalog> {
  const listed = await store.list(dirPrefix);
  const ignored: string[] = [];
  const named: { key: string; name: string; seq: bigint; firstIndex: bigint; size: number }[] = [];
  for (const o of listed) {
    const name = o.key.slice(dirPrefix.length);
    const parsed = name.includes('/') ? undefined : tryParseSegmentName(name);
    if (!parsed) ignored.push(o.key);
    else named.push({ key: o.key, name, seq: parsed.seq, firstIndex: parsed.index, size: o.size });
  }
  named.sort((a, b) => compareSegmentNames(a, b));
  const problems: ArchiveError[] = [];
  const perSegment: (ArchiveError | undefined)[] = [];
  const segments = await mapLimit(named, options.concurrency ?? 8, async (s, i): Promise<CatalogSegment> => {
    const info = await store.head(s.key);
    if (!info) {
      perSegment[i] = new ObjectNotFoundError(store.location, s.key);
      return { ...s, facts: undefined };
    }
    try {
      const facts = metadataToFacts(s.key, s.name, info.metadata);
      if (facts.size !== s.size || info.size !== s.size) {
        throw new ArchiveCorruptionError(s.key, `the listing says ${s.size} bytes, HEAD ${info.size}, its metadata ${facts.size}`);
      }
      return { ...s, facts };
    } catch (e) {
      if (!(e instanceof ArchiveCorruptionError)) throw e;
      perSegment[i] = e;
      return { ...s, facts: undefined };
    }
  });
  for (const p of perSegment) if (p) problems.push(p);
  problems.push(...linkProblems(store.location, segments));
  return { location: store.location, dirPrefix, segments, ignored, problems: sortProblems(problems, segments) };
}

/** Problems in the order of the segments they name (stable). */
function sortProblems(problems: ArchiveError[], segments: readonly CatalogSegment[]): ArchiveError[] {
  const pos = new Map<string, number>();
  segments.forEach((s, i) => {
    pos.set(s.key, i);
    pos.set(s.name, i);
  });
  const at = (p: ArchiveError): number => {
    const k = (p as { key?: unknown }).key ?? (p as { next?: unknown }).next;
    return typeof k === 'string' ? (pos.get(k) ?? Infinity) : Infinity;
  };
  return problems
    .map((p, i) => ({ p, i, at: at(p) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.p);
}

/**
 * Checks downloaded bytes of an archived segment against the facts its metadata carries: size, CRC-32C,
 * every chunk's CRC-32C, then decodes it with the WAL's own decoder and compares what it finds (sequence,
 * first index, chain start and end) with the metadata.
 *
 * @returns the facts decoded from the bytes (equal to `expected` when it returns)
 * @throws {@link ArchiveCorruptionError} naming `key` on the first difference
 */
export async function verifySegmentBytes(key: string, bytes: Uint8Array, expected: SegmentFacts): Promise<SegmentFacts> {
  if (bytes.length !== expected.size) {
    throw new ArchiveCorruptionError(key, `it holds ${bytes.length} bytes, its metadata says ${expected.size}`);
  }
  const crc = crc32cUpdate(0, bytes) >>> 0;
  if (crc !== expected.crc32c) {
    throw new ArchiveCorruptionError(key, `its CRC-32C is ${hex(crc)}, its metadata says ${hex(expected.crc32c)}`);
  }
  const chunks = chunkCrcs(bytes, expected.chunkBytes);
  const bad = chunks.findIndex((c, i) => c !== expected.chunkCrcs[i]);
  if (bad >= 0 || chunks.length !== expected.chunkCrcs.length) {
    throw new ArchiveCorruptionError(key, `the CRC-32C of chunk ${bad >= 0 ? bad : chunks.length} does not match walnut-chunk-crc32c`);
  }
  const decoded = await segmentFacts(expected.name, bytes, key);
  for (const f of ['seq', 'firstIndex', 'chainStart', 'chainEnd'] as const) {
    if (decoded[f] !== expected[f]) {
      throw new ArchiveCorruptionError(key, `decoded ${f} ${String(decoded[f])} differs from its metadata (${String(expected[f])})`);
    }
  }
  return decoded;
}

const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/** Progress of {@link verifyArchive} (deep) and of a restore: after each segment. */
export interface ArchiveProgress {
  /** The segment just handled. */
  readonly name: string;
  /** Segments handled so far. */
  readonly done: number;
  /** Segments to handle in all. */
  readonly total: number;
  /** Bytes handled so far. */
  readonly bytes: number;
  /** Bytes to handle in all. */
  readonly totalBytes: number;
}

/** Options of {@link verifyArchive}. */
export interface VerifyArchiveOptions {
  /** Download every object, check it against its metadata and decode it (default false: metadata only). */
  readonly deep?: boolean;
  /** Called after each object downloaded (deep only). */
  readonly onProgress?: (p: ArchiveProgress) => void;
  /** Objects downloaded at once (deep; default 2: each is held in memory while it is checked). */
  readonly concurrency?: number;
}

/** What {@link verifyArchive} found. */
export interface ArchiveVerifyReport extends ArchiveCatalog {
  /** Whether the objects were downloaded and decoded. */
  readonly deep: boolean;
  /** Objects downloaded and checked (deep). */
  readonly checked: number;
  /** Bytes downloaded (deep). */
  readonly bytes: number;
  /** True when there are no problems. */
  readonly ok: boolean;
}

/**
 * Verifies the archive of one WAL directory. Without `deep`: the listing and metadata of every object
 * and the sequence and CRC chain between them ({@link listArchive}), without downloading. With `deep`:
 * also every object downloaded and checked by {@link verifySegmentBytes} (size, CRC-32C, chunk CRCs,
 * decoded facts equal to the metadata). Problems are collected, not thrown; the store's own failures
 * (unreachable, access denied) are thrown.
 */
export async function verifyArchive(
  store: ObjectStore,
  dirPrefix: string,
  options: VerifyArchiveOptions = {},
): Promise<ArchiveVerifyReport> {
  const catalog = await listArchive(store, dirPrefix);
  const deep = options.deep === true;
  if (!deep) return { ...catalog, deep, checked: 0, bytes: 0, ok: catalog.problems.length === 0 };
  const todo = catalog.segments.filter((s) => s.facts !== undefined);
  const totalBytes = todo.reduce((n, s) => n + s.size, 0);
  let done = 0;
  let bytes = 0;
  const found: (ArchiveError | undefined)[] = await mapLimit(todo, options.concurrency ?? 2, async (s) => {
    let problem: ArchiveError | undefined;
    let size = s.size;
    try {
      const body = await store.get(s.key);
      size = body.length;
      await verifySegmentBytes(s.key, body, s.facts!);
    } catch (e) {
      if (e instanceof ArchiveCorruptionError || e instanceof ObjectNotFoundError) problem = e;
      else throw e;
    }
    done++;
    bytes += size;
    options.onProgress?.({ name: s.name, done, total: todo.length, bytes, totalBytes });
    return problem;
  });
  const problems = sortProblems([...catalog.problems, ...found.filter((p): p is ArchiveError => p !== undefined)], catalog.segments);
  return { ...catalog, problems, deep, checked: todo.length, bytes, ok: problems.length === 0 };
}
