/** `walnut verify DIR [--snap INDEX:TERM] [--json]`. */
import { Wal } from '@walnut/wal-core';
import { isWalError, reportWalError } from '../errors.js';
import { formatHardState } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import type { SnapPosition } from '../snap.js';
import { formatSnap } from '../snap.js';

/** Options of {@link verifyCommand}. */
export interface VerifyOptions {
  readonly snap: SnapPosition;
  /** Print `{"error": null | etcd's message}` as `etcdwal verify` does. */
  readonly json: boolean;
}

/**
 * Checks every record's CRC and the snapshot from `snap` on (`Wal.verify`), without writing.
 * @returns {@link ExitCode.Ok} if the WAL verifies, else {@link ExitCode.WalError}
 */
export async function verifyCommand(ctx: CommandContext, dir: string, opts: VerifyOptions): Promise<ExitCode> {
  let error: unknown;
  let hardState;
  try {
    hardState = await Wal.verify(ctx.fs, dir, opts.snap);
  } catch (e) {
    if (!isWalError(e)) throw e;
    error = e;
  }
  if (opts.json) {
    ctx.io.stdout(toJson({ error: isWalError(error) ? error.etcdMessage : null }) + '\n');
  } else if (!isWalError(error) && hardState) {
    ctx.io.stdout(`ok: ${dir} verifies from snapshot ${formatSnap(opts.snap)}; hard state: ${formatHardState(hardState)}\n`);
  } else if (isWalError(error)) {
    ctx.io.stdout(`error: ${error.etcdMessage}\n`);
  }
  if (!isWalError(error)) return ExitCode.Ok;
  await reportWalError(ctx.io, error, ctx.fs, dir);
  return ExitCode.WalError;
}
