/**
 * @walnut/crc32c: CRC-32C (Castagnoli) in native code, three instruction streams at once on x86-64 with
 * SSE4.2. walnut's WAL uses it, when it loads, for every record it writes and reads; see the README.
 *
 * Semantics are Go's `crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), p)`:
 * `crc32c(crc32c(0, a), b) === crc32c(0, a ‖ b)`, and the CRC of nothing is 0.
 *
 * @packageDocumentation
 */
import { createRequire } from 'node:module';

/** The addon's functions, as the C code exports them (native/crc32c.c). */
interface Binding {
  crc32c(crc: number, data: Uint8Array, start?: number, end?: number): number;
  crc32cSoftware(crc: number, data: Uint8Array, start?: number, end?: number): number;
  hardware: boolean;
}

// Built by scripts/build-addon.mjs at install (and by the workspace's build). If it is missing, importing
// this module throws: walnut's wal-core catches that and uses its portable implementation instead.
const binding = load();

function load(): Binding {
  try {
    return createRequire(import.meta.url)('../build/Release/walnut_crc32c.node') as Binding;
  } catch (err) {
    throw new Error(
      '@walnut/crc32c: the native addon is not built or does not load (build it with `npm rebuild @walnut/crc32c`; ' +
        `it needs a C compiler, make and Python 3): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * True when the CPU has the CRC-32C instruction this addon uses (x86-64 SSE4.2). When false,
 * {@link crc32c} still gives the right answer, with a table-driven loop (~1–2 GB/s), and callers that
 * have a faster portable option should prefer it.
 */
export const hardware: boolean = binding.hardware;

/**
 * Continues the CRC-32C `crc` over `data`, or over `data[start..end)` without a subarray.
 *
 * @param crc - a finished CRC (0 to start), an integer in [0, 2^32)
 * @param data - the bytes (a Buffer or any Uint8Array view)
 * @param start - first byte to include (with `end`)
 * @param end - one past the last byte to include (with `start`)
 * @returns the finished CRC, an unsigned 32-bit integer
 * @throws TypeError when `crc` is not an integer in [0, 2^32) or `data` is not a Uint8Array;
 *   RangeError when `start`/`end` do not satisfy `0 <= start <= end <= data.length`
 */
export const crc32c: (crc: number, data: Uint8Array, start?: number, end?: number) => number = binding.crc32c;

/**
 * The same as {@link crc32c}, always through the table-driven loop. For tests of that path; it is
 * several times slower than the hardware one.
 */
export const crc32cSoftware: (crc: number, data: Uint8Array, start?: number, end?: number) => number = binding.crc32cSoftware;
