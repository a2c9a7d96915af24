/** `walnut repair DIR [--json]`. */
import { Wal } from '@walnut/wal-core';
import { isWalError, reportWalError, shellQuote } from '../errors.js';
import { listFiles } from '../files.js';
import type { FileInfo } from '../files.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';

/** Options of {@link repairCommand}. */
export interface RepairOptions {
  /** Print `{"ok": bool, "files": [{name, size, sha256}]}` as `etcdwal repair` does. */
  readonly json: boolean;
}

/**
 * Cuts a torn tail off the last segment (`Wal.repair`, which keeps the original as
 * `<segment>.wal.broken`), then lists the directory's files.
 * @returns {@link ExitCode.Ok} when the WAL is readable to its end afterwards, else {@link ExitCode.WalError}
 */
export async function repairCommand(ctx: CommandContext, dir: string, opts: RepairOptions): Promise<ExitCode> {
  let ok = false;
  let error: unknown;
  try {
    ok = await Wal.repair(ctx.fs, dir);
  } catch (e) {
    if (!isWalError(e)) throw e;
    error = e;
  }
  let files: FileInfo[] = [];
  try {
    files = await listFiles(ctx.fs, dir);
  } catch (e) {
    if (!isWalError(e)) throw e;
    error ??= e;
  }
  if (opts.json) {
    ctx.io.stdout(toJson({ ok, files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })) }) + '\n');
  } else {
    ctx.io.stdout(ok ? `ok: ${dir} reads to its end\n` : `failed: ${dir} could not be repaired\n`);
    for (const f of files) ctx.io.stdout(`  ${f.name}  ${f.size} bytes  sha256 ${f.sha256}\n`);
  }
  if (isWalError(error)) {
    await reportWalError(ctx.io, error, ctx.fs, dir);
    return ExitCode.WalError;
  }
  if (ok) return ExitCode.Ok;
  ctx.io.stderr(`walnut: repair failed: the WAL in ${dir} has damage that is not a torn tail of the last segment\n`);
  ctx.io.stderr(`hint: run \`walnut verify ${shellQuote(dir)}\` for the error; restore the member from a snapshot or a peer\n`);
  return ExitCode.WalError;
}
