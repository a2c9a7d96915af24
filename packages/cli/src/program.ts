/**
 * The `walnut` command line, testable without a process: {@link runCli} takes the arguments and
 * output sinks and resolves with the exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError as CommanderInvalidArgumentError, Option } from 'commander';
import { NodeFileSystem } from '@walnut/fs-node';
import type { FileSystem } from '@walnut/wal-core';
import type { ObjectStore } from '@walnut/fs-s3-archive';
import { defaultObjectStore } from './archive-location.js';
import type { ArchiveFlags } from './archive-location.js';
import { archiveLsCommand, archivePruneCommand, archivePushCommand, archiveVerifyCommand, restoreCommand } from './commands/archive.js';
import { demoCommand } from './commands/demo.js';
import { dumpCommand } from './commands/dump.js';
import { repairCommand } from './commands/repair.js';
import { snapshotsCommand } from './commands/snapshots.js';
import { statCommand } from './commands/stat.js';
import { verifyCommand } from './commands/verify.js';
import { isWalError, reportWalError } from './errors.js';
import { ENTRY_TYPE_NAMES, parseTypes } from './filter.js';
import { ExitCode } from './io.js';
import type { ArchiveLocation, CliIo, CliOptions, CommandContext } from './io.js';
import { parseIndex, parseSnap } from './snap.js';
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

/** `--snap` without a default (restore: everything when it is absent). */
function optionalSnapOption(description: string): Option {
  return new Option('--snap <INDEX:TERM>', description).argParser((value: string): SnapPosition => {
    try {
      return parseSnap(value);
    } catch (e) {
      throw new CommanderInvalidArgumentError((e as Error).message);
    }
  });
}

/** The options saying where the archive is (see archive-location.ts), added to a command. */
function withArchiveOptions(cmd: Command): Command {
  return cmd
    .option('--bucket <NAME>', 'bucket (default: $S3_BUCKET)')
    .option('--prefix <PREFIX>', "key prefix of the archived WAL directory itself, e.g. cluster-a/member-1/wal/ ('' = bucket root)")
    .option('--endpoint <URL>', 'S3-compatible server URL (default: $S3_ENDPOINT, else AWS)')
    .option('--region <REGION>', 'region (default: $S3_REGION, else us-east-1)')
    .option('--path-style', 'path-style addressing, for most S3-compatible servers (default: $S3_FORCE_PATH_STYLE)')
    .option('--json', 'print the result as JSON');
}

function parsePositiveInt(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CommanderInvalidArgumentError(`'${value}' is not an integer >= 1`);
  }
  return Number(value);
}

function parseTypesArg(value: string): Set<string> {
  try {
    return parseTypes(value);
  } catch (e) {
    throw new CommanderInvalidArgumentError((e as Error).message);
  }
}

function parseIndexArg(value: string): bigint {
  try {
    return parseIndex(value);
  } catch (e) {
    throw new CommanderInvalidArgumentError((e as Error).message);
  }
}

const ARCHIVE_HELP = `
Where the archive is:
  --bucket, --endpoint, --region, --path-style fall back to S3_BUCKET, S3_ENDPOINT, S3_REGION,
  S3_FORCE_PATH_STYLE. Credentials: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (and S3_SESSION_TOKEN),
  else the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance role).
  --prefix is the key prefix of the archived WAL directory itself (an S3ArchiveFileSystem with prefix
  'node-1/' and root '/var/lib/etcd/member' archives /var/lib/etcd/member/wal under 'node-1/wal/').`;

const EXIT_CODES_HELP = `
Exit codes:
  0  ok: the command succeeded and the WAL reported no error
  1  WAL error: corruption, torn tail (verify's report, dump --write, dump --raw, stat), wrong snapshot,
     missing segments, lock held, I/O error; repair that could not repair;
     archive error: unreachable, access denied, corrupt object, gap, chain break, refused prune
  2  usage error: unknown command or option, missing argument, malformed --snap/--from/--to/--type,
     --raw with --write, --type metadata/crc without --raw or a record type with --json without --raw;
     no bucket or --prefix
  3  internal error (a bug in walnut; the stack trace is printed)
  4  not confirmed: repair would change a file and was not confirmed (answered no, or no terminal
     and no --yes, or Ctrl+C/Ctrl+D at the prompt); nothing was changed
  141  stdout was closed before the command finished (e.g. piped into head): its result is unknown

Every error is one line on stderr, "walnut: <message>", followed by "hint: <what to do>".`;

/**
 * Runs the `walnut` command line.
 *
 * @param argv - the arguments after the program name (e.g. `['dump', 'data/wal', '--json']`)
 * @param io - where stdout and stderr text goes
 * @param options - optional file system (default: `NodeFileSystem`)
 * @returns the exit code: 0 ok, 1 WAL error, 2 usage error, 3 internal error, 4 not confirmed (see {@link ExitCode})
 *
 * @example
 * ```ts
 * let out = '';
 * const code = await runCli(['verify', 'data/wal', '--json'], { stdout: (s) => (out += s), stderr: (s) => process.stderr.write(s) });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo, options: CliOptions = {}): Promise<number> {
  let fsInstance: FileSystem | undefined = options.fs;
  const makeStore = options.objectStore ?? defaultObjectStore;
  const ctx: CommandContext = {
    io,
    get fs(): FileSystem {
      fsInstance ??= new NodeFileSystem();
      return fsInstance;
    },
    objectStore: async (loc: ArchiveLocation): Promise<ObjectStore> => makeStore(loc),
    env: options.env ?? process.env,
  };
  let code: number = ExitCode.Ok;
  let currentDir = '.';
  const run = async (dir: string, fn: () => Promise<number>): Promise<void> => {
    currentDir = dir;
    code = await fn();
  };

  const program = new Command('walnut')
    .description('walnut: inspect, verify, repair and archive etcd-compatible write-ahead logs')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError('(run `walnut --help` for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  program
    .command('dump')
    .summary('print what the WAL holds: metadata, hard state, decoded entries; --raw: every record')
    .description('read the WAL in DIR from a snapshot and print metadata, hard state, entries (decoded) and the error')
    .argument('<DIR>', 'WAL directory (holding the *.wal segments)')
    .addOption(snapOption())
    .option('--write', "open in write mode (Wal.open): etcd's side effects on the tail segment; use a copy")
    .option('--from <INDEX>', 'show entries with index >= INDEX (decimal uint64)', parseIndexArg)
    .option('--to <INDEX>', 'show entries with index <= INDEX (decimal uint64)', parseIndexArg)
    .option(
      '--type <TYPES>',
      `show only these types, comma-separated: ${ENTRY_TYPE_NAMES.join(', ')}; a request kind (put, txn, lease_grant, v2, ...); hardstate, snapshot; with --raw also metadata, crc`,
      parseTypesArg,
    )
    .option(
      '--raw',
      'every record of every segment in file order with file and offset, going on past CRC errors (etcd-dump-logs raw mode); damaged records are marked',
    )
    .option('--json', 'print the canonical dump JSON (the same bytes as `etcdwal dump`; filters drop entries); with --raw, the records')
    .addHelpText(
      'after',
      '\nExamples:\n  walnut dump data/wal\n  walnut dump data/wal --snap 390:4 --json\n  walnut dump data/wal --from 100 --to 120 --type put,txn\n  walnut dump data/wal --raw --type hardstate,snapshot',
    )
    .action(
      async (
        dir: string,
        o: { snap: SnapPosition; write?: boolean; json?: boolean; from?: bigint; to?: bigint; type?: Set<string>; raw?: boolean },
      ) =>
        run(dir, () =>
          dumpCommand(ctx, dir, {
            snap: o.snap,
            write: o.write === true,
            json: o.json === true,
            raw: o.raw === true,
            filter: { from: o.from, to: o.to, types: o.type },
          }),
        ),
    );

  program
    .command('verify')
    .summary('check the WAL and report: torn tail or corruption, where, what repair would do')
    .description(
      'check every record of the WAL in DIR from a snapshot on, without writing (Wal.verify), and report on the whole directory: ' +
        'torn tail or corruption, the first bad record (file, offset), missing segments, what repair would do',
    )
    .argument('<DIR>', 'WAL directory')
    .addOption(snapOption())
    .option('--json', 'print {"error": null | etcd\'s message} as `etcdwal verify` (etcd\'s verdict only: a torn tail passes)')
    .option('--report', 'with --json: print the report as JSON ({"error", "snap", "hardState", "report": {...}})')
    .addHelpText('after', '\nExamples:\n  walnut verify data/wal\n  walnut verify data/wal --json --report')
    .action(async (dir: string, o: { snap: SnapPosition; json?: boolean; report?: boolean }) =>
      run(dir, () => verifyCommand(ctx, dir, { snap: o.snap, json: o.json === true, report: o.report === true })),
    );

  program
    .command('snapshots')
    .description('list the snapshots the WAL in DIR can be opened at (Wal.validSnapshotEntries)')
    .argument('<DIR>', 'WAL directory')
    .option('--json', 'print {"snapshots": [...], "error": ...} as `etcdwal snapshots`')
    .action(async (dir: string, o: { json?: boolean }) => run(dir, () => snapshotsCommand(ctx, dir, { json: o.json === true })));

  program
    .command('repair')
    .summary('cut a torn tail off the last segment (shows the plan, asks; --yes for scripts)')
    .description(
      'cut a torn tail off the last segment of the WAL in DIR (Wal.repair; keeps <segment>.wal.broken): ' +
        'prints the plan first and asks for confirmation on a terminal',
    )
    .argument('<DIR>', 'WAL directory (modified in place)')
    .option('--yes', 'apply the plan without asking (needed when stdin or stderr is not a terminal)')
    .option('--json', 'print {"ok": bool, "files": [{name, size, sha256}]} as `etcdwal repair`')
    .addHelpText(
      'after',
      '\nWithout --yes and without a terminal to ask on, a repair that would change a file changes nothing and exits 4.\n\nExamples:\n  walnut repair data/wal\n  walnut repair data/wal --yes --json',
    )
    .action(async (dir: string, o: { json?: boolean; yes?: boolean }) =>
      run(dir, () => repairCommand(ctx, dir, { json: o.json === true, yes: o.yes === true })),
    );

  program
    .command('stat')
    .summary('segments, sizes, index ranges, records by type, snapshots, hard state')
    .description(
      'what the WAL in DIR holds: segments (name, seq, first index, size, entries), total size, index and term range, ' +
        'records by type, entries by type and request kind, snapshot records, the last hard state, problems',
    )
    .argument('<DIR>', 'WAL directory')
    .option('--json', 'print the figures as JSON')
    .addHelpText('after', '\nExamples:\n  walnut stat data/wal\n  walnut stat examples/etcd-wal/wal --json')
    .action(async (dir: string, o: { json?: boolean }) => run(dir, () => statCommand(ctx, dir, { json: o.json === true })));

  program
    .command('demo')
    .description('write a small multi-segment WAL to DIR/wal on local disk, read it back and dump it')
    .argument('[DIR]', 'data directory (its wal/ sub-directory is replaced)', './data')
    .option('--json', 'print a JSON summary (segments, entries read, hard state, valid snapshots) instead of the text and dump')
    .action(async (dir: string, o: { json?: boolean }) => run(dir, () => demoCommand(ctx, dir, { json: o.json === true })));

  const archive = program
    .command('archive')
    .description('the S3 archive of released WAL segments (@walnut/fs-s3-archive): ls, verify, push, prune')
    .addHelpText('after', ARCHIVE_HELP);

  withArchiveOptions(
    archive.command('ls').description('list the archived segments of a WAL directory: index ranges, sizes, CRCs, gaps and chain breaks'),
  )
    .addHelpText('after', '\nExample:\n  walnut archive ls --bucket backups --prefix cluster-a/member-1/wal/')
    .action(async (o: ArchiveFlags & { json?: boolean }) => run('.', () => archiveLsCommand(ctx, o)));

  withArchiveOptions(
    archive
      .command('verify')
      .description('check the metadata and CRC chain of the archived segments; --deep downloads and decodes every one'),
  )
    .option('--deep', 'download every object, check size, CRC-32C and chunk CRCs, decode it')
    .action(async (o: ArchiveFlags & { json?: boolean; deep?: boolean }) => run('.', () => archiveVerifyCommand(ctx, o)));

  withArchiveOptions(
    archive
      .command('push')
      .description('archive the released segments of the live WAL in DIR now (upload, verify, remove locally)')
      .argument('<DIR>', 'live WAL directory'),
  )
    .option('--max <N>', 'keep at least the newest N segments locally (as purge)', parsePositiveInt, 5)
    .action(async (dir: string, o: ArchiveFlags & { json?: boolean; max: number }) => run(dir, () => archivePushCommand(ctx, dir, o)));

  withArchiveOptions(
    archive
      .command('prune')
      .description('remove archived segments all of whose entries are below INDEX (dry run unless --yes)')
      .requiredOption('--before <INDEX>', 'the oldest snapshot index to keep restorable (decimal uint64)', parseIndexArg),
  )
    .option('--yes', 'delete (without it: only list what would be removed)')
    .action(async (o: ArchiveFlags & { json?: boolean; before: bigint; yes?: boolean }) =>
      run('.', () => archivePruneCommand(ctx, { ...o, yes: o.yes === true })),
    );

  withArchiveOptions(
    program
      .command('restore')
      .description('download what a WAL needs to open at a snapshot from the archive into DIR, verified (resumable)')
      .requiredOption('--to <DIR>', 'directory to restore the WAL into (created if needed; empty or an earlier restore of it)')
      .addOption(optionalSnapOption('restore what opening at this snapshot needs (default: every archived segment)'))
      .option('--live <DIR>', 'also take the segments not archived yet from this live WAL directory'),
  )
    .addHelpText(
      'after',
      ARCHIVE_HELP + '\n\nExample:\n  walnut restore --bucket backups --prefix cluster-a/member-1/wal/ --to /tmp/wal --snap 390:4',
    )
    .action(async (o: ArchiveFlags & { json?: boolean; to: string; snap?: SnapPosition; live?: string }) =>
      run(o.to, () => restoreCommand(ctx, { ...o, snap: o.snap, live: o.live })),
    );

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
