'use strict';
/*
 * The addon, loaded synchronously (CommonJS): wal-core and fs-node load it with createRequire at module
 * evaluation, so that neither needs a top-level await (which would stop `require()` of them under Node's
 * require(esm), and some bundlers). src/index.ts re-exports it with types for ESM users.
 *
 * Throws if the addon is not built (wal-core and fs-node catch that and fall back to @node-rs/crc32 and
 * node:fs).
 */
const { getSystemErrorName } = require('node:util');

let binding;
try {
  binding = require('./build/Release/walnut_native.node');
} catch (err) {
  throw new Error(
    '@walnut/native: the native addon is not built or does not load (build it with `npm rebuild @walnut/native`; ' +
      `it needs a C compiler, make and Python 3): ${err && err.message}`,
    { cause: err },
  );
}

/** An Error shaped like node:fs's: code (ENOSPC, EIO, ...), a negative errno, syscall. */
function systemCallError(result, syscall) {
  const code = getSystemErrorName(result);
  return Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: result, syscall });
}

const raw = binding.posixIo;
const posixIo =
  raw === undefined
    ? undefined
    : {
        pwrite(fd, data, offset, length, position) {
          const r = raw.pwrite(fd, data, offset, length, position);
          if (r < 0) throw systemCallError(r, 'write');
          return r;
        },
        fdatasync(fd) {
          const r = raw.fdatasync(fd);
          if (r < 0) throw systemCallError(r, 'fdatasync');
        },
        fsync(fd) {
          const r = raw.fsync(fd);
          if (r < 0) throw systemCallError(r, 'fsync');
        },
      };

module.exports = {
  crc32c: binding.crc32c,
  crc32cSoftware: binding.crc32cSoftware,
  hardware: binding.hardware,
  posixIo,
};
