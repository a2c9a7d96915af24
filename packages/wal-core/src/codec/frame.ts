/**
 * Frames: `[length word: 8 bytes LE][record: N bytes][padding: P zero bytes]`, 8-byte aligned so a
 * length word never straddles a 512-byte sector (it cannot be torn).
 * Length word: bits 0–55 = N; if P > 0 the top byte is `0x80 | P`.
 */

/** Bytes of the length word. */
export const FRAME_HEADER_BYTES = 8;

/** Padding after a record of `n` bytes. */
export function padBytes(n: number): number {
  return (8 - (n % 8)) % 8;
}

/** Writes the length word of a record of `n` bytes at `pos` (n < 2^53). */
export function writeLengthWord(buf: Uint8Array, pos: number, n: number): void {
  const pad = padBytes(n);
  const lo = n >>> 0;
  const hi = Math.floor(n / 0x100000000);
  buf[pos] = lo & 0xff;
  buf[pos + 1] = (lo >>> 8) & 0xff;
  buf[pos + 2] = (lo >>> 16) & 0xff;
  buf[pos + 3] = lo >>> 24;
  buf[pos + 4] = hi & 0xff;
  buf[pos + 5] = (hi >>> 8) & 0xff;
  buf[pos + 6] = (hi >>> 16) & 0xff;
  buf[pos + 7] = pad === 0 ? 0 : 0x80 | pad;
}

/** A decoded length word. `zero` means the word is all zeros (end of the segment's records). */
export interface LengthWord {
  readonly zero: boolean;
  /** Record bytes N (bits 0–55). May exceed Number.MAX_SAFE_INTEGER only in theory: 2^56 − 1 < 2^53 is false, so it is a bigint-checked number. */
  readonly recordBytes: number;
  readonly padBytes: number;
}

/** Reads the length word at `pos` (etcd decodeFrameSize: P from the top byte only if bit 63 is set). */
export function readLengthWord(buf: Uint8Array, pos: number): LengthWord {
  const lo = (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
  const hi56 = buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16);
  const top = buf[pos + 7]!;
  const zero = lo === 0 && hi56 === 0 && top === 0;
  // N < 2^56; a Number holds it exactly up to 2^53, and anything that large fails the file-size bound anyway.
  const recordBytes = hi56 * 0x100000000 + lo;
  return { zero, recordBytes, padBytes: top & 0x80 ? top & 0x07 : 0 };
}
