/** `walnut verify DIR [--snap INDEX:TERM] [--json [--report]]`. */
import { Wal } from '@walnut/wal-core';
import type { HardState } from '@walnut/wal-core';
import { isWalError, reportWalError } from '../errors.js';
import type { WalErrorLike } from '../errors.js';
import { formatHardState } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import { buildReport, reportHasProblems, reportJson, reportLines } from '../report.js';
import type { SnapPosition } from '../snap.js';
import { formatSnap } from '../snap.js';

/** Options of {@link verifyCommand}. */
export interface VerifyOptions {
  readonly snap: SnapPosition;
  /** Print `{"error": null | etcd's message}` as `etcdwal verify` does. */
  readonly json: boolean;
  /** With `json`: print the report as JSON instead (`{"error", "hardState", "report"}`). */
  readonly report: boolean;
}

/**
 * Checks every record's CRC and the snapshot from `snap` on (`Wal.verify`), without writing. The text
 * output (and `--json --report`) adds the report over the whole directory (see report.ts).
 * @returns {@link ExitCode.Ok} if the WAL verifies (and, with the report, the report found nothing
 *   wrong: a torn tail counts), else {@link ExitCode.WalError}
 */
export async function verifyCommand(ctx: CommandContext, dir: string, opts: VerifyOptions): Promise<ExitCode> {
  let error: WalErrorLike | undefined;
  let hardState: HardState | undefined;
  try {
    hardState = await Wal.verify(ctx.fs, dir, opts.snap);
  } catch (e) {
    if (!isWalError(e)) throw e;
    error = e;
  }
  if (opts.json && !opts.report) {
    // etcd's verdict in etcdwal's shape, byte for byte.
    ctx.io.stdout(toJson({ error: error ? error.etcdMessage : null }) + '\n');
    if (!error) return ExitCode.Ok;
    await reportWalError(ctx.io, error, ctx.fs, dir);
    return ExitCode.WalError;
  }
  let report;
  try {
    report = await buildReport(ctx.fs, dir, ctx.io, !opts.json);
  } catch (e) {
    // The directory cannot be listed or read: Wal.verify has already said why.
    if (!isWalError(e) || !error) throw e;
  }
  if (opts.json) {
    ctx.io.stdout(
      toJson({
        error: error ? error.etcdMessage : null,
        snap: { index: opts.snap.index, term: opts.snap.term },
        hardState: hardState ? { term: hardState.term, vote: hardState.vote, commit: hardState.commit } : null,
        report: report ? reportJson(report) : null,
      }) + '\n',
    );
  } else {
    if (!error && hardState) {
      ctx.io.stdout(`ok: ${dir} verifies from snapshot ${formatSnap(opts.snap)}; hard state: ${formatHardState(hardState)}\n`);
    } else if (error) {
      ctx.io.stdout(`error: ${error.etcdMessage}\n`);
    }
    if (report) ctx.io.stdout(reportLines(report, dir).join('\n') + '\n');
  }
  if (error) {
    await reportWalError(ctx.io, error, ctx.fs, dir);
    return ExitCode.WalError;
  }
  if (report && reportHasProblems(report)) {
    if (report.firstBad) await reportWalError(ctx.io, report.firstBad.error, ctx.fs, dir);
    else
      ctx.io.stderr(
        `walnut: segments are missing from the sequence of ${dir}\nhint: restore them from a backup or the archive (\`walnut restore\`), or restore the member from a snapshot or a peer\n`,
      );
    return ExitCode.WalError;
  }
  return ExitCode.Ok;
}
