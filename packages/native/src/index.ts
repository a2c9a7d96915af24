/**
 * @walnut/native: walnut's hot-path native code, built from C source at install.
 *
 * - {@link crc32c}: CRC-32C (Castagnoli) with three SSE4.2 instruction streams at once on x86-64, with
 *   Go's `crc32.Update` semantics: `crc32c(crc32c(0, a), b) === crc32c(0, a ‖ b)`, the CRC of nothing is 0.
 * - {@link posixIo}: pwrite(2), fdatasync(2) and fsync(2) without node:fs's JavaScript layer (Linux).
 *
 * `@walnut/wal-core` and `@walnut/fs-node` list this package as an optional dependency and use it when it
 * loads; without it they use @node-rs/crc32 and node:fs. See the README for the measurements behind it.
 *
 * @packageDocumentation
 */
import { createRequire } from 'node:module';

/** What binding.cjs exports (it loads the addon synchronously and shapes posixIo's errors). */
interface Binding {
  crc32c(crc: number, data: Uint8Array, start?: number, end?: number): number;
  crc32cSoftware(crc: number, data: Uint8Array, start?: number, end?: number): number;
  hardware: boolean;
  posixIo: PosixIo | undefined;
}

// One loader for ESM users (this module) and for wal-core and fs-node, which require it synchronously.
// Throws if the addon is not built.
const binding = createRequire(import.meta.url)('../binding.cjs') as Binding;

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

/** An error of a failed system call, shaped like node:fs's: `code` (`ENOSPC`, `EIO`, ...), `errno` (negative), `syscall`. */
export interface SystemCallError extends Error {
  /** The errno name, e.g. `ENOSPC`. */
  code: string;
  /** The negative errno, as node:fs reports it. */
  errno: number;
  /** The failed call: `write`, `fdatasync` or `fsync`. */
  syscall: string;
}

/** Positional I/O on a descriptor, each call a direct system call in the calling thread. */
export interface PosixIo {
  /**
   * pwrite(2) of `data[offset..offset+length)` at `position`; returns the bytes written (possibly fewer).
   * Retries EINTR. Throws a {@link SystemCallError} (syscall `write`) on failure, a TypeError or RangeError
   * for bad arguments.
   */
  pwrite(fd: number, data: Uint8Array, offset: number, length: number, position: number): number;
  /** fdatasync(2); throws a {@link SystemCallError} on failure. */
  fdatasync(fd: number): void;
  /** fsync(2); throws a {@link SystemCallError} on failure. */
  fsync(fd: number): void;
}

/** The addon's positional I/O on Linux; `undefined` elsewhere. */
export const posixIo: PosixIo | undefined = binding.posixIo;
