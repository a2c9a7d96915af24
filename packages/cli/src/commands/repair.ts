/** `walnut repair DIR [--yes] [--json]`. */
import { Wal } from '@walnut/wal-core';
import type { WalLogger } from '@walnut/wal-core';
import { hintFor, isWalError, reportWalError, shellQuote } from '../errors.js';
import type { WalErrorLike } from '../errors.js';
import { listFiles } from '../files.js';
import type { FileInfo } from '../files.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import { describePlan, planJson, planRepair } from '../repair-plan.js';
import type { RepairPlan } from '../repair-plan.js';
import { listSegmentInfo } from '../scan.js';

/** Options of {@link repairCommand}. */
export interface RepairOptions {
  /** Print `{"ok": bool, "files": [{name, size, sha256}]}` as `etcdwal repair` does. */
  readonly json: boolean;
  /** Apply a plan that changes a file without asking. */
  readonly yes: boolean;
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

/** Works out the plan; undefined when the directory cannot be listed or has no segment (Wal.repair reports that). */
async function tryPlan(ctx: CommandContext, dir: string): Promise<RepairPlan | undefined> {
  try {
    const { segments } = await listSegmentInfo(ctx.fs, dir);
    return segments.length > 0 ? await planRepair(ctx.fs, dir, segments) : undefined;
  } catch (e) {
    if (isWalError(e)) return undefined;
    throw e;
  }
}

/**
 * Asks for confirmation of a plan that changes a file: true when `--yes` was given or the user answered yes.
 * Without a terminal to ask on, prints why nothing was changed and returns false.
 */
async function confirmed(ctx: CommandContext, dir: string, opts: RepairOptions): Promise<boolean> {
  if (opts.yes) return true;
  const { io } = ctx;
  if (io.interactive === true && io.prompt) {
    const answer = (await io.prompt('Apply this repair? [y/N] ')).trim().toLowerCase();
    if (answer === 'y' || answer === 'yes') return true;
    io.stderr('walnut: repair not confirmed; nothing was changed\n');
    return false;
  }
  io.stderr('walnut: repair would change a file and needs confirmation, but there is no terminal to ask on; nothing was changed\n');
  io.stderr(`hint: check the plan above and pass --yes to apply it: \`walnut repair ${shellQuote(dir)} --yes\`\n`);
  return false;
}

/**
 * Prints what repair will do (see repair-plan.ts), asks for confirmation when it would change a file
 * (unless `--yes`), then cuts the torn tail off the last segment (`Wal.repair`, which keeps the original
 * as `<segment>.wal.broken`) and lists the directory's files. Like etcd, it looks at the last segment only.
 * @returns {@link ExitCode.Ok} when the last segment reads to its end afterwards, {@link ExitCode.NotConfirmed}
 *   when the change was not confirmed (nothing changed), else {@link ExitCode.WalError}
 */
export async function repairCommand(ctx: CommandContext, dir: string, opts: RepairOptions): Promise<ExitCode> {
  const plan = await tryPlan(ctx, dir);
  if (plan) {
    // With --json, stdout is the canonical result only: the plan goes to stderr, and only when the user
    // is asked about it (without a terminal it is in the JSON printed instead).
    const asking = plan.action === 'truncate' && !opts.yes && ctx.io.interactive === true;
    if (!opts.json) ctx.io.stdout(`plan: ${describePlan(plan, dir)}\n`);
    else if (asking) ctx.io.stderr(`plan: ${describePlan(plan, dir)}\n`);
    if (plan.action === 'truncate' && !(await confirmed(ctx, dir, opts))) {
      if (opts.json) {
        const files = await listFiles(ctx.fs, dir);
        ctx.io.stdout(
          toJson({
            ok: false,
            files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })),
            notConfirmed: true,
            plan: planJson(plan),
          }) + '\n',
        );
      }
      return ExitCode.NotConfirmed;
    }
  }
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
