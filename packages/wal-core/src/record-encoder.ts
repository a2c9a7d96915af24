/**
 * The append path's encoder: turns records into frames in the page writer, maintaining the rolling
 * CRC-32C. Each record is handed to the page writer as etcd does it (the 8-byte length word, then the
 * record bytes plus padding) so that flushes, and therefore cut points, fall exactly where etcd's do.
 *
 * Fast path: when the whole frame fits under the page writer's watermark (the usual case), the record is
 * encoded directly into the page buffer: an entry's data is copied once, into the write buffer.
 */
import { crc32cUpdate, crc32cUpdateRange } from './crc32c.js';
import { FRAME_HEADER_BYTES, padBytes, writeLengthWord } from './codec/frame.js';
import { RecordType, entrySize, hardStateSize, recordHeaderSize, writeEntry, writeHardState, writeRecordHeader } from './codec/messages.js';
import { varint32Size } from './codec/wire.js';
import type { PageWriter } from './page-writer.js';
import type { Entry, HardState } from './types.js';

/**
 * Bytes of a record header whose crc varint takes 5 bytes, for `ds` bytes of data: 08 <type> 10 <crc:5>
 * 1a <len>. Record data is serialized after this much room, then moved if the real header is shorter.
 */
function assumedHeaderBytes(ds: number): number {
  return 1 + 1 + 1 + 5 + 1 + varint32Size(ds);
}

/** etcd's encoder scratch (1 MiB); larger records get a one-off allocation. */
const SCRATCH_BYTES = 1024 * 1024;
const MAX_HEADER = 1 + 5 + 1 + 5 + 1 + 5; // type, crc, data key + length (uint32 varints)

export class RecordEncoder {
  private scratch: Uint8Array | undefined;
  /** File offset up to which this file's bytes are known durable (the last successful datasync). */
  syncedOffset: number;

  constructor(
    readonly pw: PageWriter,
    /** The running CRC-32C over the data of every non-CRC record written since the WAL was created. */
    public crc: number,
  ) {
    this.syncedOffset = pw.osOffset;
  }

  /**
   * Encodes a record whose data is already serialized (metadata, state, snapshot) or absent straight into
   * the page buffer if its frame fits under the watermark, and returns true; returns false, with nothing
   * written and the CRC unchanged, otherwise.
   */
  tryEncode(type: number, data: Uint8Array | undefined): boolean {
    const crc = type !== RecordType.Crc && data !== undefined ? crc32cUpdate(this.crc, data) : this.crc;
    const n = recordHeaderSize(type, crc, data?.length) + (data?.length ?? 0);
    const frame = FRAME_HEADER_BYTES + n + padBytes(n);
    const pw = this.pw;
    if (!pw.fits(frame)) return false;
    this.crc = crc;
    const buf = pw.buf;
    const at = pw.buffered;
    writeLengthWord(buf, at, n);
    let p = writeRecordHeader(buf, at + FRAME_HEADER_BYTES, type, crc, data?.length);
    if (data !== undefined) {
      buf.set(data, p);
      p += data.length;
    }
    buf.fill(0, p, at + frame);
    pw.commitDirect(frame);
    return true;
  }

  /** Encodes a record whose data is already serialized (metadata, state, snapshot) or absent. */
  async encode(type: number, data: Uint8Array | undefined): Promise<void> {
    if (this.tryEncode(type, data)) return;
    if (type !== RecordType.Crc && data !== undefined) this.crc = crc32cUpdate(this.crc, data);
    const n = recordHeaderSize(type, this.crc, data?.length) + (data?.length ?? 0);
    const frame = FRAME_HEADER_BYTES + n + padBytes(n);
    const out = this.scratchFor(frame);
    writeLengthWord(out, 0, n);
    let p = writeRecordHeader(out, FRAME_HEADER_BYTES, type, this.crc, data?.length);
    if (data !== undefined) {
      out.set(data, p);
      p += data.length;
    }
    out.fill(0, p, frame);
    await this.pw.write(out.subarray(0, FRAME_HEADER_BYTES));
    await this.pw.write(out.subarray(FRAME_HEADER_BYTES, frame));
  }

  /**
   * Encodes an Entry record straight into the page buffer when its worst-case frame fits under the
   * watermark (the usual case) and returns true; returns false, having written nothing, otherwise
   * (then {@link encodeEntry} does it). Synchronous, so the append loop makes no promise per entry.
   */
  tryEncodeEntry(e: Entry): boolean {
    const es = entrySize(e);
    const pw = this.pw;
    if (!pw.fits(FRAME_HEADER_BYTES + MAX_HEADER + es + 7)) return false;
    pw.commitDirect(this.serializeEntry(pw.buf, pw.buffered, e, es));
    return true;
  }

  /** Encodes an Entry record, serializing the entry in place (its data is copied once). */
  async encodeEntry(e: Entry): Promise<void> {
    if (this.tryEncodeEntry(e)) return;
    // Does not fit under the watermark: serialize into the scratch buffer and let the page writer
    // split it at page boundaries as etcd's two buffered writes would.
    const es = entrySize(e);
    const buf = this.scratchFor(FRAME_HEADER_BYTES + MAX_HEADER + es + 7);
    const frame = this.serializeEntry(buf, 0, e, es);
    await this.pw.write(buf.subarray(0, FRAME_HEADER_BYTES));
    await this.pw.write(buf.subarray(FRAME_HEADER_BYTES, frame));
  }

  /**
   * Encodes a HardState record straight into the page buffer, without serializing it separately first,
   * if it fits under the watermark, and returns true; returns false, with nothing written, otherwise.
   */
  tryEncodeHardState(hs: HardState): boolean {
    const ds = hardStateSize(hs);
    const pw = this.pw;
    if (!pw.fits(FRAME_HEADER_BYTES + MAX_HEADER + ds + 7)) return false;
    const at = pw.buffered;
    const dataAt = at + FRAME_HEADER_BYTES + assumedHeaderBytes(ds);
    writeHardState(pw.buf, dataAt, hs);
    pw.commitDirect(this.frameInPlace(pw.buf, at, RecordType.State, dataAt, ds));
    return true;
  }

  /**
   * Writes the whole frame of an Entry record of encoded size `es` at `buf[at..]` (the caller made room
   * for the worst case) and advances the CRC; returns the frame's length.
   */
  private serializeEntry(buf: Uint8Array, at: number, e: Entry, es: number): number {
    const dataAt = at + FRAME_HEADER_BYTES + assumedHeaderBytes(es);
    writeEntry(buf, dataAt, e);
    return this.frameInPlace(buf, at, RecordType.Entry, dataAt, es);
  }

  /**
   * Completes a frame whose record data (`ds` bytes) the caller serialized at `dataAt`, where it would
   * go with a 5-byte crc varint (see {@link assumedHeaderBytes}): computes the CRC over the data in place,
   * writes the length word and the record header in front, closes the gap if the crc varint is shorter
   * (rare: crc < 2^28) and zeroes the padding. Advances the CRC; returns the frame's length.
   */
  private frameInPlace(buf: Uint8Array, at: number, type: number, dataAt: number, ds: number): number {
    this.crc = crc32cUpdateRange(this.crc, buf, dataAt, dataAt + ds);
    const header = 1 + 1 + 1 + varint32Size(this.crc) + 1 + varint32Size(ds);
    const recAt = at + FRAME_HEADER_BYTES;
    if (recAt + header !== dataAt) buf.copyWithin(recAt + header, dataAt, dataAt + ds);
    writeRecordHeader(buf, recAt, type, this.crc, ds);
    const n = header + ds;
    const frame = FRAME_HEADER_BYTES + n + padBytes(n);
    writeLengthWord(buf, at, n);
    buf.fill(0, recAt + n, at + frame);
    return frame;
  }

  private scratchFor(n: number): Uint8Array {
    if (n > SCRATCH_BYTES) return new Uint8Array(n);
    return (this.scratch ??= new Uint8Array(SCRATCH_BYTES));
  }
}
