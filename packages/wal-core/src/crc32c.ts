/**
 * CRC-32C (Castagnoli), with Go's `crc32.Update` continuation semantics:
 * `crc32cUpdate(crc32cUpdate(0, a), b) === crc32cUpdate(0, a ‖ b)` and the CRC of nothing is 0.
 *
 * Native (@node-rs/crc32, SSE4.2/ARMv8 CRC instructions, prebuilt, no install script) for anything
 * but tiny inputs, where the N-API call costs more than a table lookup per byte.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * Below this many bytes a JS table loop beats the native call's fixed cost. Measured here (Node 20):
 * 8 B: JS 54 ns vs native 154 ns; 16 B: 92 vs 108; 32 B: 181 vs 109; 100 B: 546 vs 126; 1 KiB: 5.6 µs vs 0.28 µs.
 */
const NATIVE_THRESHOLD = 20;

/** Continues the CRC-32C `crc` over `data`. */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  const n = data.length;
  if (n === 0) return crc >>> 0;
  if (n >= NATIVE_THRESHOLD) return nativeCrc32c(data as Buffer, crc >>> 0) >>> 0;
  let c = ~crc >>> 0;
  for (let i = 0; i < n; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
