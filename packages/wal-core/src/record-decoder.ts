/**
 * The one record scanner every reader consumes (ReadAll, Verify, ValidSnapshotEntries, Repair, the
 * CLI's dump): it walks the frames of a list of segments in order and yields records whose CRC has
 * been checked, exactly as etcd's decoder does:
 *
 * - a clean end of file, or an all-zero length word (preallocated space), ends a segment; the scan moves
 *   to the next one (offset back to 0) or reports the end;
 * - a partial length word, or a frame running past the end of the file, is an unexpected EOF;
 * - a record longer than what remains of the file (its size as of opening) is an unexpected EOF before
 *   anything is allocated, so a corrupt length can never cause a huge allocation (etcd main, 3.5.7+);
 * - a record that fails to decode or whose data does not continue the rolling CRC is torn (unexpected
 *   EOF) if it is in the last segment and one of its 512-byte sector chunks is all zeros; otherwise it is
 *   the real error (malformed record / CRC mismatch);
 * - CRC records (type 4) are not checked here: the *caller* checks them against `crc` and then calls
 *   `updateCrc` — see {@link RecordScanner}.
 */
import { crc32cUpdate } from './crc32c.js';
import { CrcMismatchError, MalformedRecordError, UnexpectedEofError } from './errors.js';
import { FRAME_HEADER_BYTES, readLengthWord } from './codec/frame.js';
import { RecordType, decodeRecord, type WalRecord } from './codec/messages.js';
import { WireError } from './codec/wire.js';
import type { FileHandle } from './fs/file-system.js';
import { readFully } from './fs/io.js';

/** A segment to decode: its name (for messages), an open handle and its size when opened. */
export interface SegmentSource {
  /** The segment's file name, as errors and {@link DecodedRecord.file} report it. */
  readonly name: string;
  /** An open handle on the segment. */
  readonly file: FileHandle;
  /** Its size in bytes when it was opened. */
  readonly size: number;
}

/** A decoded record and where it was found. */
export interface DecodedRecord extends WalRecord {
  /** Segment name. */
  readonly file: string;
  /** Offset of the frame's length word in that segment. */
  readonly offset: number;
  /** Total frame size (8 + N + P). */
  readonly frameBytes: number;
}

/** Bytes read from a segment at a time. Fresh buffers per read: decoded data are views into them. */
const READ_CHUNK = 1024 * 1024;
const SECTOR = 512;

/** Options of {@link RecordDecoder}. */
/** Options of {@link RecordDecoder}. */
export interface RecordDecoderOptions {
  /**
   * Keep going past data-record CRC mismatches (etcd's `continueOnCrcError` of `NewDecoderAdvanced`, used by
   * etcd-dump-logs' raw mode and `walnut dump --raw`). Default false: a mismatch throws {@link CrcMismatchError}.
   *
   * When true, a record whose data does not continue the rolling CRC is returned anyway and
   * {@link RecordDecoder.lastCrcError} holds the error (it is cleared by the next call). As in etcd, the
   * running CRC stays the computed one, so the records after it fail too until the caller restarts the
   * chain with {@link RecordDecoder.updateCrc} (etcd's raw mode does so at the next CRC record; a caller
   * that wants each record judged on its own passes the damaged record's `crc`). Nothing else changes: a
   * torn write in the last segment is still an {@link UnexpectedEofError}, a record that does not decode
   * is still thrown, and CRC records are still left to the caller.
   */
  readonly continueOnCrcError?: boolean;
}

/**
 * walnut's one record scanner, etcd's decoder: reads the frames of the given segments in order and
 * decodes each walpb.Record, checking the running CRC of data records and telling a torn write or an
 * incomplete last frame from corruption. Every reader (readAll, replay, verify, repair, the CLI)
 * consumes it; call {@link RecordDecoder.next} until it returns `null`.
 */
export class RecordDecoder {
  private idx = 0;
  /** Offset in the current segment just after the last good frame (etcd lastValidOff). */
  lastOffset = 0;
  /** The running CRC (etcd decoder.crc). */
  crc = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  /** File offset of chunk[0]. */
  private chunkPos = 0;
  /** Set when the last record returned failed its CRC check (continueOnCrcError only). */
  lastCrcError: CrcMismatchError | undefined;

  constructor(
    private readonly segments: readonly SegmentSource[],
    private readonly options: RecordDecoderOptions = {},
  ) {}

  /** Name of the segment being decoded (the last one after the end). */
  get currentFile(): string {
    return this.segments[Math.min(this.idx, this.segments.length - 1)]?.name ?? '';
  }

  /** Index of the segment being decoded in the list. */
  get currentIndex(): number {
    return Math.min(this.idx, this.segments.length - 1);
  }

  /**
   * What every reader does with a CRC record: unless the running value is 0 (a decoder that has not
   * seen data yet), it must equal the record's crc; then the running value restarts from it.
   */
  acceptCrcRecord(rec: DecodedRecord): void {
    if (this.crc !== 0 && this.crc !== rec.crc) {
      throw new CrcMismatchError(rec.crc, this.crc, { file: rec.file, offset: rec.offset }, true);
    }
    this.updateCrc(rec.crc);
  }

  /** Restarts the running CRC from `v` (after a CRC record). */
  updateCrc(v: number): void {
    this.crc = v >>> 0;
  }

  /**
   * Ensures bytes [pos, pos+n) of the current segment are in the chunk; returns how many are available
   * (less than n only at the end of the file).
   */
  private async fill(pos: number, n: number): Promise<number> {
    const have = this.chunkPos + this.chunk.length - pos;
    if (pos >= this.chunkPos && have >= n) return n;
    const seg = this.segments[this.idx]!;
    const want = Math.max(n, Math.min(READ_CHUNK, seg.size - pos));
    const buf = new Uint8Array(Math.max(want, 0));
    const got = want > 0 ? await readFully(seg.file, buf, 0, want, pos) : 0;
    this.chunk = got === want ? buf : buf.subarray(0, got);
    this.chunkPos = pos;
    return Math.min(got, n);
  }

  /** The next record, or `null` at the end of the last segment. Throws typed errors. */
  async next(): Promise<DecodedRecord | null> {
    this.lastCrcError = undefined;
    for (;;) {
      const seg = this.segments[this.idx];
      if (!seg) return null;
      const off = this.lastOffset;
      const got = await this.fill(off, FRAME_HEADER_BYTES);
      const word = got === FRAME_HEADER_BYTES ? readLengthWord(this.chunk, off - this.chunkPos) : undefined;
      if (got === 0 || word?.zero) {
        // End of this segment's records: clean EOF or preallocated zeros.
        if (this.idx + 1 >= this.segments.length) {
          this.idx = this.segments.length;
          return null;
        }
        this.idx++;
        this.lastOffset = 0;
        this.chunk = new Uint8Array(0);
        this.chunkPos = 0;
        continue;
      }
      const loc = { file: seg.name, offset: off };
      if (!word) throw new UnexpectedEofError('partial-length', loc, `only ${got} of the 8 bytes of a length word`);
      const { recordBytes: n, padBytes: p } = word;
      // The file-size bound (etcd main): checked before anything is allocated.
      if (n > seg.size - off - p) {
        throw new UnexpectedEofError(
          'length-exceeds-file',
          loc,
          `max entry size limit exceeded: record length ${n} + padding ${p} runs past the end of the ${seg.size}-byte file`,
        );
      }
      const body = off + FRAME_HEADER_BYTES;
      const avail = await this.fill(body, n + p);
      if (avail < n + p) throw new UnexpectedEofError('short-frame', loc, `frame needs ${n + p} bytes, file has ${avail}`);
      const start = body - this.chunkPos;
      const isLast = this.idx === this.segments.length - 1;
      let rec: WalRecord;
      try {
        rec = decodeRecord(this.chunk, start, start + n);
      } catch (e) {
        if (isLast && isTorn(this.chunk, start, n + p, body))
          throw new UnexpectedEofError('torn-write', loc, 'torn write: a sector of the record is all zeros');
        const msg = e instanceof WireError ? e.message : String(e);
        // gogo returns io.ErrUnexpectedEOF for a field that runs past the record's end.
        if (e instanceof WireError && e.truncated) throw new UnexpectedEofError('short-frame', loc, `record does not decode: ${msg}`);
        throw new MalformedRecordError(`walpb.Record does not decode: ${msg}`, loc);
      }
      if (rec.type !== RecordType.Crc) {
        const computed = rec.data ? crc32cUpdate(this.crc, rec.data) : this.crc;
        this.crc = computed;
        if (computed !== rec.crc) {
          if (isLast && isTorn(this.chunk, start, n + p, body)) {
            throw new UnexpectedEofError('torn-write', loc, 'torn write: CRC mismatch and a sector of the record is all zeros');
          }
          const err = new CrcMismatchError(rec.crc, computed, loc, false);
          if (!this.options.continueOnCrcError) throw err;
          this.lastCrcError = err;
        }
      }
      this.lastOffset = body + n + p;
      // Spelled out rather than `{ ...rec, ... }`: the spread was the decoder's single largest cost.
      return {
        type: rec.type,
        typeRaw: rec.typeRaw,
        crc: rec.crc,
        data: rec.data,
        file: seg.name,
        offset: off,
        frameBytes: FRAME_HEADER_BYTES + n + p,
      };
    }
  }
}

/** etcd isTornEntry: any 512-byte-aligned chunk of the record+padding that is all zeros. */
function isTorn(buf: Uint8Array, start: number, len: number, fileOff: number): boolean {
  let cur = 0;
  while (cur < len) {
    let chunkLen = SECTOR - (fileOff % SECTOR);
    if (chunkLen > len - cur) chunkLen = len - cur;
    let zero = true;
    for (let i = start + cur, e = start + cur + chunkLen; i < e; i++) {
      if (buf[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    fileOff += chunkLen;
    cur += chunkLen;
  }
  return false;
}
