/** `walnut dump DIR [--snap INDEX:TERM] [--write] [--json]`. */
import { canonicalDump, formatCanonicalDump } from '@walnut/wal-core';
import { isWalError, reportWalError } from '../errors.js';
import { formatTextDump } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { readWal } from '../read.js';
import type { SnapPosition } from '../snap.js';

/**
 * Segment size handed to a write-mode open: only the file pipeline's prepared next segment uses it
 * (a dump appends nothing), so keep that temporary file small, as `etcdwal` does (it sets etcd's
 * `SegmentSizeBytes` to 64 KiB for every command).
 */
export const DUMP_SEGMENT_SIZE_BYTES = 64 * 1024;

/** Options of {@link dumpCommand}. */
export interface DumpOptions {
  /** Snapshot to open at (default 0:0). */
  readonly snap: SnapPosition;
  /** Open in write mode (`Wal.open`), with etcd's side effects on the tail segment. */
  readonly write: boolean;
  /** Print the canonical dump JSON (the bytes `etcdwal dump` prints) instead of text. */
  readonly json: boolean;
}

/**
 * Opens the WAL at `dir`, reads it all and prints what was read.
 * @returns {@link ExitCode.Ok} when the read reported no error, else {@link ExitCode.WalError}
 */
export async function dumpCommand(ctx: CommandContext, dir: string, opts: DumpOptions): Promise<ExitCode> {
  if (opts.json) {
    const d = await canonicalDump(ctx.fs, dir, opts.snap, { write: opts.write, segmentSizeBytes: DUMP_SEGMENT_SIZE_BYTES });
    ctx.io.stdout(formatCanonicalDump(d));
    if (d.error === null) return ExitCode.Ok;
    // canonicalDump turns every failure into `error`; one that is not a WalError is a bug, not a WAL problem.
    if (d.cause !== undefined && !isWalError(d.cause)) throw d.cause;
    if (d.cause) await reportWalError(ctx.io, d.cause, ctx.fs, dir);
    else ctx.io.stderr(`walnut: ${d.error}\n`);
    return ExitCode.WalError;
  }
  const r = await readWal(ctx.fs, dir, opts.snap, opts.write, { segmentSizeBytes: DUMP_SEGMENT_SIZE_BYTES });
  ctx.io.stdout(formatTextDump(r, { dir, snap: opts.snap, write: opts.write }));
  if (!r.error) return ExitCode.Ok;
  await reportWalError(ctx.io, r.error, ctx.fs, dir);
  return ExitCode.WalError;
}
