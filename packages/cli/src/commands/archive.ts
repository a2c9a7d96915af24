/**
 * The archive commands: `walnut archive ls | verify | push | prune` and `walnut restore`, over an
 * `ObjectStore` (S3 by default; see {@link CommandContext.objectStore}) and the key prefix of one archived
 * WAL directory.
 */
import { Wal } from '@walnut/wal-core';
import type { ArchiveError, CatalogSegment, ObjectStore } from '@walnut/fs-s3-archive';
import { describeLocation, resolveArchiveLocation, UsageError, type ArchiveFlags } from '../archive-location.js';
import { isWalError, reportWalError, shellQuote } from '../errors.js';
import { formatHardState } from '../format.js';
import { ExitCode } from '../io.js';
import type { ArchiveLocation, CommandContext } from '../io.js';
import { toJson, type JsonValue } from '../json.js';
import { formatBytes, progressBar } from '../progress.js';
import { formatSnap, type SnapPosition } from '../snap.js';

/** Options every archive command takes. */
export interface ArchiveCommandOptions extends ArchiveFlags {
  /** Print JSON to stdout. */
  readonly json?: boolean;
}

const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

function problemJson(p: ArchiveError): JsonValue {
  const key = (p as { key?: unknown }).key;
  return { code: p.code, message: p.message, key: typeof key === 'string' ? key : undefined };
}

/** The index range a segment's entries can be in: from its first index to the next segment's, exclusive. */
function indexRange(segs: readonly CatalogSegment[], i: number): { first: bigint; last: bigint | null } {
  const s = segs[i]!;
  const next = segs[i + 1];
  return { first: s.firstIndex, last: next && next.seq === s.seq + 1n && next.firstIndex > s.firstIndex ? next.firstIndex - 1n : null };
}

/**
 * Runs an archive command body: resolves the location, makes the store, and turns failures into the
 * CLI's exit codes (typed errors: message + hint, exit 1; location mistakes: exit 2). With `--json`, a
 * thrown error is also printed as `{"error": {"code", "message"}}`.
 */
async function withStore(
  ctx: CommandContext,
  flags: ArchiveCommandOptions,
  hintDir: string,
  body: (store: ObjectStore, loc: ArchiveLocation) => Promise<ExitCode>,
): Promise<ExitCode> {
  let loc: ArchiveLocation;
  try {
    loc = resolveArchiveLocation(flags, ctx.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    ctx.io.stderr(`walnut: ${e.message}\n${e.hint === undefined ? '' : `hint: ${e.hint}\n`}(run \`walnut archive --help\` for usage)\n`);
    return ExitCode.Usage;
  }
  try {
    const store = await ctx.objectStore(loc);
    return await body(store, loc);
  } catch (e) {
    if (!isWalError(e)) throw e;
    if (flags.json === true) ctx.io.stdout(toJson({ error: { code: e.code, message: e.message } }) + '\n');
    await reportWalError(ctx.io, e, ctx.fs, hintDir);
    return ExitCode.WalError;
  }
}

/** Reports problems found in the archive on stderr: the first one and a hint, and how many more. */
async function reportProblems(ctx: CommandContext, problems: readonly ArchiveError[], hintDir: string): Promise<void> {
  const first = problems[0];
  if (!first) return;
  await reportWalError(ctx.io, first, ctx.fs, hintDir);
  if (problems.length > 1) ctx.io.stderr(`walnut: and ${problems.length - 1} more problem(s), listed above\n`);
}

/**
 * `walnut archive ls`: the archived segments of the WAL directory at `--prefix`, in order, with their
 * index ranges, sizes and CRCs, and any gaps, chain breaks or bad metadata (from one listing and one HEAD per object).
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} when it found problems
 */
export async function archiveLsCommand(ctx: CommandContext, opts: ArchiveCommandOptions): Promise<ExitCode> {
  return withStore(ctx, opts, '.', async (store, loc) => {
    const { listArchive } = await import('@walnut/fs-s3-archive');
    const cat = await listArchive(store, loc.prefix);
    const segs = cat.segments;
    const totalBytes = segs.reduce((n, s) => n + s.size, 0);
    if (opts.json === true) {
      ctx.io.stdout(
        toJson({
          location: describeLocation(loc),
          prefix: loc.prefix,
          segments: segs.map((s, i) => ({
            key: s.key,
            name: s.name,
            seq: s.seq,
            firstIndex: s.firstIndex,
            lastIndex: indexRange(segs, i).last,
            size: s.size,
            crc32c: s.facts ? hex(s.facts.crc32c) : null,
            chainStart: s.facts ? hex(s.facts.chainStart) : null,
            chainEnd: s.facts ? hex(s.facts.chainEnd) : null,
          })),
          totalBytes,
          ignored: [...cat.ignored],
          problems: cat.problems.map(problemJson),
        }) + '\n',
      );
    } else {
      ctx.io.stdout(`archive ${describeLocation(loc)}: ${segs.length} segment(s), ${formatBytes(totalBytes)}\n`);
      if (segs.length > 0) {
        const rows = segs.map((s, i) => {
          const r = indexRange(segs, i);
          return {
            name: s.name,
            seq: s.seq.toString(),
            range: `${r.first}..${r.last ?? ''}`,
            size: String(s.size),
            crc: s.facts ? hex(s.facts.crc32c) : '(no metadata)',
          };
        });
        const w = (k: keyof (typeof rows)[number], h: string) => Math.max(h.length, ...rows.map((r) => r[k].length));
        const ws = w('seq', 'seq');
        const wr = w('range', 'indexes');
        const wz = w('size', 'bytes');
        const wn = w('name', 'segment');
        ctx.io.stdout(`  ${'segment'.padEnd(wn)}  ${'seq'.padStart(ws)}  ${'indexes'.padEnd(wr)}  ${'bytes'.padStart(wz)}  crc32c\n`);
        for (const r of rows)
          ctx.io.stdout(`  ${r.name.padEnd(wn)}  ${r.seq.padStart(ws)}  ${r.range.padEnd(wr)}  ${r.size.padStart(wz)}  ${r.crc}\n`);
      }
      for (const k of cat.ignored) ctx.io.stdout(`ignored (not a segment of this directory): ${k}\n`);
      for (const p of cat.problems) ctx.io.stdout(`problem: ${p.code}: ${p.message}\n`);
    }
    if (cat.problems.length === 0) return ExitCode.Ok;
    await reportProblems(ctx, cat.problems, '.');
    return ExitCode.WalError;
  });
}

/** Options of {@link archiveVerifyCommand}. */
export interface ArchiveVerifyOptions extends ArchiveCommandOptions {
  /** Download and decode every object. */
  readonly deep?: boolean;
}

/**
 * `walnut archive verify [--deep]`: the metadata chain of the archived WAL directory; with `--deep`,
 * every object downloaded, checked against its metadata (size, CRC-32C, chunk CRCs) and decoded.
 * @returns {@link ExitCode.Ok} when it verifies, else {@link ExitCode.WalError}
 */
export async function archiveVerifyCommand(ctx: CommandContext, opts: ArchiveVerifyOptions): Promise<ExitCode> {
  return withStore(ctx, opts, '.', async (store, loc) => {
    const { verifyArchive } = await import('@walnut/fs-s3-archive');
    const bar = progressBar(ctx.io, 'verify');
    let report;
    try {
      report = await verifyArchive(store, loc.prefix, { deep: opts.deep === true, onProgress: (p) => bar.update(p) });
    } finally {
      bar.done();
    }
    if (opts.json === true) {
      ctx.io.stdout(
        toJson({
          ok: report.ok,
          deep: report.deep,
          segments: report.segments.length,
          checked: report.checked,
          bytes: report.bytes,
          problems: report.problems.map(problemJson),
        }) + '\n',
      );
    } else if (report.ok) {
      const first = report.segments[0];
      const last = report.segments[report.segments.length - 1];
      const span = first && last ? ` (${first.name} .. ${last.name})` : '';
      ctx.io.stdout(
        `ok: ${report.segments.length} archived segment(s)${span} in ${describeLocation(loc)}: metadata and CRC chain consistent` +
          (report.deep
            ? `; all ${report.checked} downloaded (${formatBytes(report.bytes)}), checked and decoded\n`
            : ' (use --deep to download and decode them)\n'),
      );
    } else {
      for (const p of report.problems) ctx.io.stdout(`problem: ${p.code}: ${p.message}\n`);
    }
    if (report.ok) return ExitCode.Ok;
    await reportProblems(ctx, report.problems, '.');
    return ExitCode.WalError;
  });
}

/** Options of {@link archivePushCommand}. */
export interface ArchivePushOptions extends ArchiveCommandOptions {
  /** Newest live segments to keep (default 5). */
  readonly max: number;
}

/**
 * `walnut archive push DIR [--max N]`: one archive round over the live WAL directory `DIR` (the segments
 * purge would delete, beyond the newest `max`, each only if no one holds its lock): upload, verify, then
 * remove locally.
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} on a typed failure (what was archived before it stays archived)
 */
export async function archivePushCommand(ctx: CommandContext, dir: string, opts: ArchivePushOptions): Promise<ExitCode> {
  return withStore(ctx, opts, dir, async (store, loc) => {
    const { S3ArchiveFileSystem, archiveSegments } = await import('@walnut/fs-s3-archive');
    const fs = new S3ArchiveFileSystem(ctx.fs, store, { prefix: loc.prefix, root: dir });
    const r = await archiveSegments(fs, dir, { max: opts.max });
    if (opts.json === true) {
      ctx.io.stdout(toJson({ archived: r.archived, resumed: r.resumed, blockedBy: r.blockedBy ?? null, bytes: r.bytes }) + '\n');
    } else {
      ctx.io.stdout(
        r.archived.length === 0
          ? `nothing to archive in ${dir} (it keeps the newest ${opts.max} segment(s))\n`
          : `archived ${r.archived.length} segment(s) of ${dir} to ${describeLocation(loc)} (${formatBytes(r.bytes)} uploaded` +
              `${r.resumed.length > 0 ? `, ${r.resumed.length} already there from an earlier round` : ''}); removed locally\n`,
      );
      for (const n of r.archived) ctx.io.stdout(`  ${n}${r.resumed.includes(n) ? '  (resumed)' : ''}\n`);
      if (r.blockedBy !== undefined) {
        ctx.io.stdout(`stopped at ${r.blockedBy}: the WAL still holds it (it is released once a snapshot covers it)\n`);
      }
    }
    return ExitCode.Ok;
  });
}

/** Options of {@link restoreCommand}. */
export interface RestoreCommandOptions extends ArchiveCommandOptions {
  /** The directory to restore into. */
  readonly to: string;
  /** Restore what opening at this snapshot needs; everything when undefined. */
  readonly snap: SnapPosition | undefined;
  /** Also take the segments not archived (yet) from this live WAL directory. */
  readonly live: string | undefined;
}

/**
 * `walnut restore --to DIR [--snap INDEX:TERM] [--live DIR]`: downloads what a WAL needs to open at the
 * snapshot (every segment without one), verifies checksums and the CRC chain, writes each with fsync and a
 * directory sync; resumable. With `--snap`, the restored WAL is then verified at that snapshot (`Wal.verify`).
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} when a segment is missing or corrupt, the target conflicts, or the WAL does not verify
 */
export async function restoreCommand(ctx: CommandContext, opts: RestoreCommandOptions): Promise<ExitCode> {
  return withStore(ctx, opts, opts.to, async (store, loc) => {
    const { restoreWal } = await import('@walnut/fs-s3-archive');
    const bar = progressBar(ctx.io, 'restore');
    let r;
    try {
      r = await restoreWal({
        store,
        dirPrefix: loc.prefix,
        to: { fs: ctx.fs, dir: opts.to },
        ...(opts.snap === undefined ? {} : { snapshot: opts.snap }),
        ...(opts.live === undefined ? {} : { liveFs: ctx.fs, liveDir: opts.live }),
        onProgress: (p) => bar.update(p),
      });
    } finally {
      bar.done();
    }
    let verifyError: unknown;
    let hardState;
    if (opts.snap !== undefined) {
      try {
        hardState = await Wal.verify(ctx.fs, opts.to, opts.snap);
      } catch (e) {
        if (!isWalError(e)) throw e;
        verifyError = e;
      }
    }
    const count = (a: string) => r.segments.filter((s) => s.action === a).length;
    if (opts.json === true) {
      ctx.io.stdout(
        toJson({
          dir: r.dir,
          firstIndex: r.firstIndex,
          downloadedBytes: r.downloadedBytes,
          segments: r.segments.map((s) => ({ name: s.name, size: s.size, source: s.source, action: s.action })),
          verify: opts.snap === undefined ? null : { error: isWalError(verifyError) ? verifyError.etcdMessage : null },
        }) + '\n',
      );
    } else {
      const parts = [`${count('downloaded')} downloaded (${formatBytes(r.downloadedBytes)})`];
      if (count('copied') + count('replaced') > 0) parts.push(`${count('copied') + count('replaced')} copied from ${opts.live}`);
      if (count('kept') > 0) parts.push(`${count('kept')} already in place`);
      ctx.io.stdout(
        `restored ${r.segments.length} segment(s) from ${describeLocation(loc)} to ${r.dir}: ${parts.join(', ')}; checksums and CRC chain verified\n`,
      );
      if (opts.snap !== undefined && !isWalError(verifyError) && hardState) {
        ctx.io.stdout(`ok: ${r.dir} verifies from snapshot ${formatSnap(opts.snap)}; hard state: ${formatHardState(hardState)}\n`);
      } else if (opts.snap === undefined) {
        ctx.io.stdout(`it opens at snapshots from index ${r.firstIndex} on: list them with \`walnut snapshots ${shellQuote(r.dir)}\`\n`);
      }
    }
    if (isWalError(verifyError)) {
      await reportWalError(ctx.io, verifyError, ctx.fs, opts.to);
      return ExitCode.WalError;
    }
    return ExitCode.Ok;
  });
}

/** Options of {@link archivePruneCommand}. */
export interface ArchivePruneOptions extends ArchiveCommandOptions {
  /** Remove segments all of whose entries are below this index. */
  readonly before: bigint;
  /** Delete (without it: a dry run). */
  readonly yes: boolean;
}

/**
 * `walnut archive prune --before INDEX [--yes]`: archive retention. Lists (or, with `--yes`, deletes,
 * oldest first) the archived segments all of whose entries are below INDEX; never the last one whose first
 * index is at or below INDEX; refuses on an inconsistent archive.
 * @returns {@link ExitCode.Ok}, or {@link ExitCode.WalError} when refused
 */
export async function archivePruneCommand(ctx: CommandContext, opts: ArchivePruneOptions): Promise<ExitCode> {
  return withStore(ctx, opts, '.', async (store, loc) => {
    const { pruneArchive } = await import('@walnut/fs-s3-archive');
    const r = await pruneArchive({ store, dirPrefix: loc.prefix, before: opts.before, yes: opts.yes });
    if (opts.json === true) {
      ctx.io.stdout(
        toJson({
          dryRun: r.dryRun,
          before: opts.before,
          removed: r.removed.map((s) => ({ key: s.key, name: s.name, firstIndex: s.firstIndex, size: s.size })),
          removedBytes: r.removedBytes,
          keeper: r.keeper ? { key: r.keeper.key, name: r.keeper.name, firstIndex: r.keeper.firstIndex } : null,
          remaining: r.remaining,
        }) + '\n',
      );
    } else {
      const verb = r.dryRun ? 'would remove' : 'removed';
      ctx.io.stdout(
        `${verb} ${r.removed.length} archived segment(s) (${formatBytes(r.removedBytes)}) of ${describeLocation(loc)}, all entries below ${opts.before}\n`,
      );
      for (const s of r.removed) ctx.io.stdout(`  ${s.name}\n`);
      if (r.keeper) {
        ctx.io.stdout(
          `kept: ${r.keeper.name} (first index ${r.keeper.firstIndex}), which a restore at index ${opts.before} starts from, and ${r.remaining - 1} later\n`,
        );
      }
      if (r.dryRun && r.removed.length > 0) ctx.io.stdout('dry run: nothing was deleted; run again with --yes to delete\n');
    }
    return ExitCode.Ok;
  });
}
