/**
 * How a segment is stored as an object: its key, and the facts in its metadata that let the archive
 * check an object and the CRC chain between objects without downloading them.
 *
 * Key: `<prefix><segment name>`. Segment names are `%016x-%016x.wal` (sequence, first index), so the
 * byte order of keys — the order of a listing — is the order of the directory.
 *
 * Metadata (all lower-case, as S3 returns it):
 * - `walnut-format`: `1`;
 * - `walnut-size`, `walnut-crc32c`: the segment's size and the CRC-32C of all its bytes (hex);
 * - `walnut-seq`, `walnut-first-index`: from the name, as decimal (uint64 exactly);
 * - `walnut-chain-start`: the rolling CRC the segment's head CRC record carries (the previous segment's
 *   `walnut-chain-end`, or 0 for the WAL's first segment);
 * - `walnut-chain-end`: the rolling CRC after the segment's last record;
 * - `walnut-chunk-bytes`, `walnut-chunk-crc32c`: the segment cut into chunks of that many bytes (a
 *   multiple of 1 MiB chosen so there are at most 128) and the CRC-32C of each, base64 of their 4-byte
 *   big-endian values concatenated, so that every ranged read is verified before any byte is returned.
 */
import { RecordDecoder, RecordType, crc32cUpdate, parseSegmentName, type FileHandle, isWalError } from '@walnut/wal-core';
import { ArchiveCorruptionError } from './archive-errors.js';
import type { ObjectMetadata } from './object-store.js';

/** What the archive records about a segment. */
export interface SegmentFacts {
  /** The segment's file name. */
  readonly name: string;
  /** The sequence number in its name. */
  readonly seq: bigint;
  /** The raft index in its name (the first index the segment is expected to hold). */
  readonly firstIndex: bigint;
  /** Size in bytes. */
  readonly size: number;
  /** CRC-32C of the whole file. */
  readonly crc32c: number;
  /** The rolling CRC at the segment's start (its head CRC record). */
  readonly chainStart: number;
  /** The rolling CRC after its last record. */
  readonly chainEnd: number;
  /** Verification chunk size in bytes. */
  readonly chunkBytes: number;
  /** CRC-32C of each chunk (the last may be shorter). */
  readonly chunkCrcs: readonly number[];
}

const MiB = 1024 * 1024;
const MAX_CHUNKS = 128;

/** The verification chunk size for a segment of `size` bytes: whole MiBs, at most {@link MAX_CHUNKS} chunks. */
export function chunkBytesFor(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_CHUNKS / MiB)) * MiB;
}

/** CRC-32C of each `chunkBytes` slice of `bytes`. */
export function chunkCrcs(bytes: Uint8Array, chunkBytes: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) out.push(crc32cUpdate(0, bytes.subarray(at, at + chunkBytes)) >>> 0);
  return out;
}

function encodeCrcs(crcs: readonly number[]): string {
  const b = Buffer.alloc(crcs.length * 4);
  crcs.forEach((c, i) => b.writeUInt32BE(c >>> 0, i * 4));
  return b.toString('base64');
}

function decodeCrcs(s: string): number[] {
  const b = Buffer.from(s, 'base64');
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i += 4) out.push(b.readUInt32BE(i));
  return out;
}

const FORMAT = '1';
const YIELD_EVERY_BYTES = 64 * 1024;

/** Lets the event loop run (I/O callbacks of the live WAL) before going on with CPU-bound archive work. */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The object key of a segment. */
export function segmentKey(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** S3's encoding of a CRC-32C: base64 of its 4 big-endian bytes. */
export function crc32cBase64(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0, 0);
  return b.toString('base64');
}

const hex32 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/** The metadata stored with a segment's object. */
export function factsToMetadata(f: SegmentFacts): ObjectMetadata {
  return {
    'walnut-format': FORMAT,
    'walnut-size': String(f.size),
    'walnut-crc32c': hex32(f.crc32c),
    'walnut-seq': f.seq.toString(),
    'walnut-first-index': f.firstIndex.toString(),
    'walnut-chain-start': hex32(f.chainStart),
    'walnut-chain-end': hex32(f.chainEnd),
    'walnut-chunk-bytes': String(f.chunkBytes),
    'walnut-chunk-crc32c': encodeCrcs(f.chunkCrcs),
  };
}

/** Reads the facts back from an object's metadata; throws {@link ArchiveCorruptionError} if they are missing or malformed. */
export function metadataToFacts(key: string, name: string, meta: ObjectMetadata): SegmentFacts {
  const need = (k: string, re: RegExp): string => {
    const v = meta[k];
    if (v === undefined || !re.test(v))
      throw new ArchiveCorruptionError(key, `metadata ${k} is ${v === undefined ? 'missing' : `malformed (${v})`}`);
    return v;
  };
  if (need('walnut-format', /^\d+$/) !== FORMAT) throw new ArchiveCorruptionError(key, `unknown walnut-format ${meta['walnut-format']}`);
  const dec = /^\d{1,20}$/;
  const hex = /^[0-9a-f]{8}$/;
  const facts: SegmentFacts = {
    name,
    size: Number(need('walnut-size', /^\d{1,15}$/)),
    crc32c: parseInt(need('walnut-crc32c', hex), 16),
    seq: BigInt(need('walnut-seq', dec)),
    firstIndex: BigInt(need('walnut-first-index', dec)),
    chainStart: parseInt(need('walnut-chain-start', hex), 16),
    chainEnd: parseInt(need('walnut-chain-end', hex), 16),
    chunkBytes: Number(need('walnut-chunk-bytes', /^[1-9]\d{0,12}$/)),
    chunkCrcs: decodeCrcs(need('walnut-chunk-crc32c', /^[A-Za-z0-9+/]*={0,2}$/)),
  };
  if (facts.chunkBytes % MiB !== 0 || facts.chunkCrcs.length !== Math.ceil(facts.size / facts.chunkBytes)) {
    throw new ArchiveCorruptionError(key, `metadata walnut-chunk-* does not describe a ${facts.size}-byte segment`);
  }
  const parsed = parseSegmentName(name);
  if (parsed.seq !== facts.seq || parsed.index !== facts.firstIndex) {
    throw new ArchiveCorruptionError(key, `metadata says sequence ${facts.seq}, first index ${facts.firstIndex}; the name says otherwise`);
  }
  return facts;
}

/** A read-only {@link FileHandle} over bytes in memory, so the WAL's own decoder can read a segment body. */
export class BytesFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly bytes: Uint8Array,
  ) {}
  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const n = Math.max(0, Math.min(length, this.bytes.length - position));
    buffer.set(this.bytes.subarray(position, position + n), offset);
    return n;
  }
  async size(): Promise<number> {
    return this.bytes.length;
  }
  write(): Promise<number> {
    return Promise.reject(new Error('BytesFileHandle is read-only'));
  }
  truncate(): Promise<void> {
    return Promise.reject(new Error('BytesFileHandle is read-only'));
  }
  allocate(): Promise<void> {
    return Promise.reject(new Error('BytesFileHandle is read-only'));
  }
  async datasync(): Promise<void> {}
  async sync(): Promise<void> {}
  async tryLock(): Promise<void> {}
  async lock(): Promise<void> {}
  async unlock(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The facts of a segment from its bytes: decodes every record with the WAL's own decoder (so a segment
 * that does not decode to its end is never archived as if it were whole) and follows the CRC chain.
 * Throws {@link ArchiveCorruptionError} if the segment does not decode cleanly.
 */
export async function segmentFacts(name: string, bytes: Uint8Array, what = name): Promise<SegmentFacts> {
  const parsed = parseSegmentName(name);
  const dec = new RecordDecoder([{ name, file: new BytesFileHandle(name, bytes), size: bytes.length }]);
  let chainStart: number | undefined;
  let sinceYield = 0;
  try {
    for (;;) {
      const rec = await dec.next();
      if (!rec) break;
      // The decoder reads from memory, so its awaits never leave the microtask queue: yield to the event
      // loop every 64 KiB (under a millisecond of decoding). A save needs several loop turns (write,
      // datasync, their callbacks), and each turn would otherwise also run one whole decode slice: with 1 MiB
      // slices, saves took up to ~40 ms while a segment was being archived.
      sinceYield += rec.frameBytes;
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await nextTurn();
      }
      if (rec.type === RecordType.Crc) {
        if (chainStart === undefined) chainStart = rec.crc >>> 0;
        dec.updateCrc(rec.crc);
      } else if (chainStart === undefined) {
        throw new ArchiveCorruptionError(what, `the first record is of type ${rec.type}, not the CRC record every segment starts with`);
      }
    }
  } catch (e) {
    if (e instanceof ArchiveCorruptionError) throw e;
    if (isWalError(e)) throw new ArchiveCorruptionError(what, `it does not decode: ${e.message}`, { cause: e });
    throw e;
  }
  if (chainStart === undefined) throw new ArchiveCorruptionError(what, 'it holds no records');
  await nextTurn();
  const crc32c = crc32cUpdate(0, bytes) >>> 0;
  await nextTurn();
  const chunkBytes = chunkBytesFor(bytes.length);
  const crcs = chunkCrcs(bytes, chunkBytes);
  return {
    name,
    seq: parsed.seq,
    firstIndex: parsed.index,
    size: bytes.length,
    crc32c,
    chainStart,
    chainEnd: dec.crc >>> 0,
    chunkBytes,
    chunkCrcs: crcs,
  };
}
