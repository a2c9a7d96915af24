/** `walnut repair DIR [--json]`. */
import { Wal } from '@walnut/wal-core';
import type { WalLogger } from '@walnut/wal-core';
import { hintFor, isWalError, reportWalError, shellQuote } from '../errors.js';
import type { WalErrorLike } from '../errors.js';
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

interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown> | undefined;
}

/** A WalLogger that keeps what `Wal.repair` reports (it returns only a boolean). */
function capturingLogger(lines: LogLine[]): WalLogger {
  return {
    debug: () => undefined,
    info: (fields, msg) => void lines.push({ level: 'info', msg, fields }),
    warn: (fields, msg) => void lines.push({ level: 'warn', msg, fields }),
    error: (fields, msg) => void lines.push({ level: 'error', msg, fields }),
  };
}

function describeFailure(lines: readonly LogLine[]): string | undefined {
  const l = [...lines].reverse().find((x) => x.level !== 'info');
  if (!l) return undefined;
  const err = l.fields?.['error'];
  return typeof err === 'string' ? `${l.msg}: ${err}` : l.msg;
}

/**
 * Cuts a torn tail off the last segment (`Wal.repair`, which keeps the original as
 * `<segment>.wal.broken`), then lists the directory's files. Like etcd, it looks at the last segment only.
 * @returns {@link ExitCode.Ok} when the last segment reads to its end afterwards, else {@link ExitCode.WalError}
 */
export async function repairCommand(ctx: CommandContext, dir: string, opts: RepairOptions): Promise<ExitCode> {
  const log: LogLine[] = [];
  let ok = false;
  let error: WalErrorLike | undefined;
  try {
    ok = await Wal.repair(ctx.fs, dir, { logger: capturingLogger(log) });
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
  const repaired = log.find((l) => l.level === 'info' && /repairing/.test(l.msg));
  if (opts.json) {
    ctx.io.stdout(toJson({ ok, files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })) }) + '\n');
  } else {
    if (ok && repaired) {
      const path = String(repaired.fields?.['path'] ?? 'the last segment');
      const at = repaired.fields?.['offset'];
      ctx.io.stdout(
        `repaired: cut the torn tail of ${path}${at === undefined ? '' : ` at offset ${String(at)}`} (the original is kept as ${path}.broken)\n`,
      );
    } else if (ok) {
      ctx.io.stdout(`ok: the last segment of ${dir} has no torn tail, nothing to repair\n`);
    } else {
      ctx.io.stdout(`failed: ${dir} could not be repaired\n`);
    }
    const w = Math.max(0, ...files.map((f) => String(f.size).length));
    const n = Math.max(0, ...files.map((f) => f.name.length));
    for (const f of files) ctx.io.stdout(`  ${f.name.padEnd(n)}  ${String(f.size).padStart(w)} bytes  sha256 ${f.sha256}\n`);
    if (ok) {
      ctx.io.stdout(`repair looks at the last segment only: \`walnut dump ${shellQuote(dir)} --write\` checks the whole WAL\n`);
    }
  }
  if (error) {
    await reportWalError(ctx.io, error, ctx.fs, dir);
    return ExitCode.WalError;
  }
  if (ok) return ExitCode.Ok;
  const why = describeFailure(log);
  ctx.io.stderr(`walnut: ${why ?? `the WAL in ${dir} has damage that is not a torn tail of the last segment`}\n`);
  const code = log.map((l) => l.fields?.['code']).find((c): c is string => typeof c === 'string');
  const hint =
    code && code !== 'WAL_UNEXPECTED_EOF' ? await hintFor({ code, etcdMessage: '', name: '', message: '' }, ctx.fs, dir) : undefined;
  ctx.io.stderr(
    `hint: ${hint ?? `only a torn tail of the last segment is repairable; run \`walnut verify ${shellQuote(dir)}\` for the error and restore the member from a snapshot or a peer`}\n`,
  );
  return ExitCode.WalError;
}
