/** `walnut snapshots DIR [--json]`. */
import { Wal } from '@walnut/wal-core';
import { isWalError, reportWalError } from '../errors.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';

/** Options of {@link snapshotsCommand}. */
export interface SnapshotsOptions {
  /** Print `{"snapshots": [{index, term}], "error": ...}` as `etcdwal snapshots` does. */
  readonly json: boolean;
}

/**
 * Lists the snapshot records a node could restart from (`Wal.validSnapshotEntries`):
 * those not newer than the last committed HardState.
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} when the WAL cannot be read
 */
export async function snapshotsCommand(ctx: CommandContext, dir: string, opts: SnapshotsOptions): Promise<ExitCode> {
  let snaps: Array<{ index: bigint; term: bigint }> = [];
  let error: unknown;
  try {
    snaps = await Wal.validSnapshotEntries(ctx.fs, dir);
  } catch (e) {
    if (!isWalError(e)) throw e;
    error = e;
  }
  const err = isWalError(error) ? error : undefined;
  if (opts.json) {
    ctx.io.stdout(toJson({ snapshots: snaps.map((s) => ({ index: s.index, term: s.term })), error: err ? err.etcdMessage : null }) + '\n');
  } else if (err) {
    ctx.io.stdout(`error: ${err.etcdMessage}\n`);
  } else {
    ctx.io.stdout(`${snaps.length} valid snapshot${snaps.length === 1 ? '' : 's'} (INDEX:TERM, usable with --snap):\n`);
    for (const s of snaps) ctx.io.stdout(`  ${s.index}:${s.term}\n`);
  }
  if (!err) return ExitCode.Ok;
  await reportWalError(ctx.io, err, ctx.fs, dir);
  return ExitCode.WalError;
}
