/**
 * The `walnut` command line, testable without a process: {@link runCli} takes the arguments and
 * output sinks and resolves with the exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError as CommanderInvalidArgumentError, Option } from 'commander';
import { NodeFileSystem } from '@walnut/fs-node';
import type { FileSystem } from '@walnut/wal-core';
import { demoCommand } from './commands/demo.js';
import { dumpCommand } from './commands/dump.js';
import { repairCommand } from './commands/repair.js';
import { snapshotsCommand } from './commands/snapshots.js';
import { verifyCommand } from './commands/verify.js';
import { isWalError, reportWalError } from './errors.js';
import { ExitCode } from './io.js';
import type { CliIo, CliOptions, CommandContext } from './io.js';
import { parseSnap } from './snap.js';
import type { SnapPosition } from './snap.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function snapOption(): Option {
  return new Option('--snap <INDEX:TERM>', 'snapshot to open at (decimal uint64 index and term)')
    .default({ index: 0n, term: 0n }, '0:0')
    .argParser((value: string): SnapPosition => {
      try {
        return parseSnap(value);
      } catch (e) {
        throw new CommanderInvalidArgumentError((e as Error).message);
      }
    });
}

const EXIT_CODES_HELP = `
Exit codes:
  0  ok: the command succeeded and the WAL reported no error
  1  WAL error: corruption, torn tail, wrong snapshot, missing segments, lock held, I/O error
  2  usage error: unknown command or option, missing argument, malformed --snap
  3  internal error (a bug in walnut; the stack trace is printed)`;

/**
 * Runs the `walnut` command line.
 *
 * @param argv - the arguments after the program name (e.g. `['dump', 'data/wal', '--json']`)
 * @param io - where stdout and stderr text goes
 * @param options - optional file system (default: `NodeFileSystem`)
 * @returns the exit code: 0 ok, 1 WAL error, 2 usage error, 3 internal error (see {@link ExitCode})
 *
 * @example
 * ```ts
 * let out = '';
 * const code = await runCli(['verify', 'data/wal', '--json'], { stdout: (s) => (out += s), stderr: (s) => process.stderr.write(s) });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo, options: CliOptions = {}): Promise<number> {
  let fsInstance: FileSystem | undefined = options.fs;
  const ctx: CommandContext = {
    io,
    get fs(): FileSystem {
      fsInstance ??= new NodeFileSystem();
      return fsInstance;
    },
  };
  let code: number = ExitCode.Ok;
  let currentDir = '.';
  const run = async (dir: string, fn: () => Promise<number>): Promise<void> => {
    currentDir = dir;
    code = await fn();
  };

  const program = new Command('walnut')
    .description('walnut: inspect, verify and repair etcd-compatible write-ahead logs')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError('(run `walnut --help` for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('dump')
    .description('read the WAL in DIR from a snapshot and print metadata, hard state, entries and the error')
    .argument('<DIR>', 'WAL directory (holding the *.wal segments)')
    .addOption(snapOption())
    .option('--write', "open in write mode (Wal.open): etcd's side effects on the tail segment; use a copy")
    .option('--json', 'print the canonical dump JSON (the same bytes as `etcdwal dump`)')
    .addHelpText('after', '\nExamples:\n  walnut dump data/wal\n  walnut dump data/wal --snap 390:4 --json')
    .action(async (dir: string, o: { snap: SnapPosition; write?: boolean; json?: boolean }) =>
      run(dir, () => dumpCommand(ctx, dir, { snap: o.snap, write: o.write === true, json: o.json === true })),
    );

  program
    .command('verify')
    .description('check every record of the WAL in DIR from a snapshot on, without writing (Wal.verify)')
    .argument('<DIR>', 'WAL directory')
    .addOption(snapOption())
    .option('--json', 'print {"error": null | etcd\'s message} as `etcdwal verify`')
    .action(async (dir: string, o: { snap: SnapPosition; json?: boolean }) =>
      run(dir, () => verifyCommand(ctx, dir, { snap: o.snap, json: o.json === true })),
    );

  program
    .command('snapshots')
    .description('list the snapshots the WAL in DIR can be opened at (Wal.validSnapshotEntries)')
    .argument('<DIR>', 'WAL directory')
    .option('--json', 'print {"snapshots": [...], "error": ...} as `etcdwal snapshots`')
    .action(async (dir: string, o: { json?: boolean }) => run(dir, () => snapshotsCommand(ctx, dir, { json: o.json === true })));

  program
    .command('repair')
    .description('cut a torn tail off the last segment of the WAL in DIR (Wal.repair; keeps <segment>.wal.broken)')
    .argument('<DIR>', 'WAL directory (modified in place)')
    .option('--json', 'print {"ok": bool, "files": [{name, size, sha256}]} as `etcdwal repair`')
    .action(async (dir: string, o: { json?: boolean }) => run(dir, () => repairCommand(ctx, dir, { json: o.json === true })));

  program
    .command('demo')
    .description('write a small multi-segment WAL to DIR/wal on local disk, read it back and dump it')
    .argument('[DIR]', 'data directory (its wal/ sub-directory is replaced)', './data')
    .action(async (dir: string) => run(dir, () => demoCommand(ctx, dir)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (isWalError(e)) {
      await reportWalError(io, e, ctx.fs, currentDir);
      return ExitCode.WalError;
    }
    io.stderr(`walnut: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.Internal;
  }
}
