/**
 * The kill -9 campaign behind crash.test.ts: a child process (fixtures/crash-writer.mjs, on the built
 * packages) writes a seeded raft-like workload and reports every acknowledged save; the parent SIGKILLs it
 * at a seeded random moment, reopens the WAL as etcd does (open, readAll; on an unexpected EOF close, repair
 * once, retry), checks the recovered log against its model of what was acknowledged, appends one entry to
 * prove the WAL accepts appends again, and starts the next child on the same directory.
 *
 * What a kill may legitimately leave: every acknowledged save, plus a prefix of the records of the one save
 * that was in flight (its entries in order, then its HardState). Nothing else: no acknowledged entry missing
 * or changed, no byte of data different, nothing that was never written.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, open as openFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wal, isWalError, type Entry, type HardState } from '@walnut/wal-core';
import { SeededRandom } from '@walnut/conformance';
import { NodeFileSystem } from '../src/index.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
/** A lane starts a fresh directory once its log holds this much data, so reopening stays fast. */
const ROTATE_BYTES = 6 * 1024 * 1024;
const SEGMENT_SIZES = [16 * 1024, 64 * 1024];
const ZERO = { index: 0n, term: 0n };
/** The page writer's buffer: a save larger than this reaches the file in several writes. */
const BIG = 128 * 1024;

/** The entry payload for a data seed: xorshift32 bytes. Must match entryData in fixtures/crash-writer.mjs. */
export function entryData(dataSeed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = dataSeed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let k = 0; k < 4 && i + k < len; k++) out[i + k] = (x >>> (8 * k)) & 0xff;
  }
  return out;
}

/** One save as the child announced it (BEGIN line), with its payloads regenerated. */
export interface SaveSpec {
  readonly n: number;
  readonly hardState: HardState;
  readonly entries: Entry[];
}

/** The log as raft sees it: entries after overwrites, and the last HardState. */
export interface LogModel {
  readonly entries: Entry[];
  readonly hardState: HardState;
}

const EMPTY: HardState = { term: 0n, vote: 0n, commit: 0n };

/** Applies entries with raft's overwrite rule (an entry at index i drops every entry from i on), as readAll does. */
export function appendEntries(log: readonly Entry[], add: readonly Entry[]): Entry[] {
  let out = log.slice();
  for (const e of add) {
    const keep = out.findIndex((x) => x.index >= e.index);
    if (keep >= 0) out = out.slice(0, keep);
    out.push(e);
  }
  return out;
}

/** The model after a whole save. */
export function applySave(model: LogModel, save: SaveSpec): LogModel {
  return { entries: appendEntries(model.entries, save.entries), hardState: save.hardState };
}

/**
 * Every log a kill may leave when `model` was acknowledged and `inFlight` (if any) had been issued: the
 * model, then the model plus the first j of the save's records (entries, then its HardState).
 */
export function allowedOutcomes(model: LogModel, inFlight: SaveSpec | undefined): { label: string; log: LogModel }[] {
  const out = [{ label: inFlight ? 'in-flight save absent' : 'no save in flight', log: model }];
  if (!inFlight) return out;
  const sameState =
    firstDifference({ entries: [], hardState: model.hardState }, { entries: [], hardState: inFlight.hardState }) === undefined;
  for (let j = 1; j <= inFlight.entries.length; j++) {
    // With an unchanged HardState, "entries complete, HardState lost" is the complete save.
    if (j === inFlight.entries.length && sameState) break;
    out.push({
      label: j === inFlight.entries.length ? 'in-flight entries complete, HardState lost' : `in-flight save: ${j} entries`,
      log: { entries: appendEntries(model.entries, inFlight.entries.slice(0, j)), hardState: model.hardState },
    });
  }
  out.push({ label: 'in-flight save complete', log: applySave(model, inFlight) });
  return out;
}

const hsText = (h: HardState) => `{term ${h.term}, vote ${h.vote}, commit ${h.commit}}`;
const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/** The first difference between a recovered log and an expected one, or undefined if they are identical. */
export function firstDifference(got: LogModel, want: LogModel): string | undefined {
  const n = Math.max(got.entries.length, want.entries.length);
  for (let i = 0; i < n; i++) {
    const g = got.entries[i];
    const w = want.entries[i];
    if (!g) return `entry ${w!.index} (term ${w!.term}) is missing: the log ends at position ${i}`;
    if (!w) return `entry ${g.index} (term ${g.term}) was never acknowledged or in flight`;
    if (g.index !== w.index || g.term !== w.term || g.type !== w.type)
      return `position ${i}: got index ${g.index} term ${g.term} type ${g.type}, want index ${w.index} term ${w.term} type ${w.type}`;
    const gd = g.data ?? new Uint8Array(0);
    const wd = w.data ?? new Uint8Array(0);
    if (!bytesEqual(gd, wd)) {
      let at = 0;
      while (at < Math.min(gd.length, wd.length) && gd[at] === wd[at]) at++;
      return `entry ${g.index}: data differs (got ${gd.length} bytes, want ${wd.length}; first difference at byte ${at})`;
    }
  }
  const a = got.hardState;
  const b = want.hardState;
  if (a.term !== b.term || a.vote !== b.vote || a.commit !== b.commit) return `hardState ${hsText(a)}, want ${hsText(b)}`;
  return undefined;
}

/** Checks a recovered log: the matching outcome, or a violation naming the difference from what was acknowledged. */
export function checkRecovery(
  recovered: LogModel,
  model: LogModel,
  inFlight: SaveSpec | undefined,
): { ok: true; label: string; log: LogModel } | { ok: false; problem: string } {
  for (const o of allowedOutcomes(model, inFlight)) {
    if (firstDifference(recovered, o.log) === undefined) return { ok: true, label: o.label, log: o.log };
  }
  const last = recovered.entries[recovered.entries.length - 1];
  return {
    ok: false,
    problem:
      `recovered ${recovered.entries.length} entries (last ${last ? `${last.index}/term ${last.term}` : 'none'}), hardState ${hsText(recovered.hardState)}; ` +
      `against the acknowledged log: ${firstDifference(recovered, model)}` +
      (inFlight
        ? `; against acknowledged + the whole in-flight save ${inFlight.n}: ${firstDifference(recovered, applySave(model, inFlight))}`
        : ''),
  };
}

function parseBegin(json: string): SaveSpec {
  const o = JSON.parse(json) as { n: number; hs: [string, string, string]; e: [string, string, number, number, number][] };
  return {
    n: o.n,
    hardState: { term: BigInt(o.hs[0]), vote: BigInt(o.hs[1]), commit: BigInt(o.hs[2]) },
    entries: o.e.map(([index, term, type, len, seed]) => ({ index: BigInt(index), term: BigInt(term), type, data: entryData(seed, len) })),
  };
}

/** When the parent kills the child. */
export type KillPlan =
  | { readonly kind: 'startup'; readonly ms: number } // ms after spawn, often before READY (during open/readAll)
  | { readonly kind: 'time'; readonly ms: number } // ms after READY
  | { readonly kind: 'ack'; readonly n: number } // as soon as the n-th ACK arrives
  | { readonly kind: 'big-save'; readonly fallbackMs: number }; // as soon as a save > 128 KiB begins (it is written in several pieces)

/** What one child's life reported. */
export interface LifeReport {
  readonly ready: boolean;
  readonly acked: SaveSpec[];
  readonly inFlight: SaveSpec | undefined;
}

/** Runs the writer on `dir` and kills it as planned; resolves once it has exited and its output is read. */
export function runLife(
  dir: string,
  args: { seed: number; segmentSizeBytes: number; io?: 'sync' | 'async'; plant?: 'ack-before-save' | 'ack-then-delay' },
  plan: KillPlan,
): Promise<LifeReport> {
  const child = spawn(process.execPath, [WRITER, JSON.stringify({ dir, ...args })], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: SaveSpec[] = [];
  let inFlight: SaveSpec | undefined;
  let ready = false;
  let killed = false;
  let stderr = '';
  let buffered = '';
  let protocolError: string | undefined;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const kill = () => {
    if (!killed) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  const onLine = (line: string) => {
    const sp = line.indexOf(' ');
    const word = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    if (word === 'READY') {
      ready = true;
      if (plan.kind === 'time') timers.push(setTimeout(kill, plan.ms));
      if (plan.kind === 'big-save') timers.push(setTimeout(kill, plan.fallbackMs));
    } else if (word === 'BEGIN') {
      if (inFlight) protocolError ??= `BEGIN ${rest} while save ${inFlight.n} is not acknowledged`;
      inFlight = parseBegin(rest);
      if (plan.kind === 'big-save' && inFlight.entries.some((e) => (e.data?.length ?? 0) > BIG)) kill();
    } else if (word === 'ACK') {
      if (!inFlight || inFlight.n !== Number(rest)) protocolError ??= `ACK ${rest} without its BEGIN`;
      else acked.push(inFlight);
      inFlight = undefined;
      if (plan.kind === 'ack' && acked.length >= plan.n) kill();
    } else {
      protocolError ??= `unexpected line from the writer: ${line.slice(0, 200)}`;
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (plan.kind === 'startup') timers.push(setTimeout(kill, plan.ms));
  timers.push(
    setTimeout(() => {
      if (!ready) {
        protocolError ??= `the writer did not report READY within ${READY_TIMEOUT_MS} ms`;
        kill();
      }
    }, READY_TIMEOUT_MS),
  );
  const stdoutDone = new Promise<void>((resolve) => child.stdout.once('close', () => resolve()));
  return new Promise<LifeReport>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      void stdoutDone.then(() => {
        // An incomplete last line (the child died while writing it) was never received: not acknowledged.
        if (protocolError) reject(new Error(`${protocolError} (stderr: ${stderr.slice(0, 2000)})`));
        else if (!killed || signal !== 'SIGKILL')
          reject(new Error(`the writer exited on its own (code ${code}, signal ${signal}): ${stderr.slice(0, 4000)}`));
        else resolve({ ready, acked, inFlight });
      });
    });
  });
}

/** Opens the WAL and reads it as etcd's bootstrap does: on an unexpected EOF, close, repair once, retry. */
export async function reopen(
  fs: NodeFileSystem,
  dir: string,
  segmentSizeBytes: number,
): Promise<{ wal: Wal; log: LogModel; repaired: boolean }> {
  let repaired = false;
  for (;;) {
    const wal = await Wal.open(fs, dir, ZERO, { segmentSizeBytes });
    try {
      const r = await wal.readAll();
      return { wal, log: { entries: r.entries, hardState: r.hardState }, repaired };
    } catch (e) {
      await wal.close().catch(() => {});
      if (repaired || !isWalError(e, 'WAL_UNEXPECTED_EOF')) throw e;
      if (!(await Wal.repair(fs, dir, { segmentSizeBytes }))) throw new Error(`Wal.repair could not repair: ${(e as Error).message}`);
      repaired = true;
    }
  }
}

/** Options of {@link runCrashCampaign}. */
export interface CampaignOptions {
  /** Total kills, spread over the lanes. */
  readonly kills: number;
  readonly seed: number;
  /** Directories worked on in parallel, each by its own sequence of children. */
  readonly lanes: number;
  /** A deliberately broken writer (self-test). */
  readonly plant?: 'ack-before-save' | 'ack-then-delay';
  /** Only kill as soon as an ACK arrives (the self-test's plan). */
  readonly killOnAckOnly?: boolean;
  /** Stop at the first violation (default) or count them. */
  readonly stopAtViolation?: boolean;
  /** Keep the directory of a violation for inspection (default true). */
  readonly keepViolations?: boolean;
  readonly log?: (line: string) => void;
}

/** What a campaign saw. */
export interface CampaignStats {
  kills: number;
  killedBeforeReady: number;
  acknowledgedSaves: number;
  repairs: number;
  outcomes: Record<string, number>;
  /** Kills that found a temp file holding a new segment head (the child died inside a cut, before the rename). */
  killedInsideCut: number;
  segmentsCreated: number;
  directories: number;
  violations: string[];
}

function pickPlan(rng: SeededRandom, killOnAckOnly: boolean): KillPlan {
  if (killOnAckOnly) return { kind: 'ack', n: 1 + rng.int(3) };
  const r = rng.int(100);
  if (r < 10) return { kind: 'startup', ms: rng.int(400) };
  if (r < 45) return { kind: 'time', ms: rng.int(250) };
  if (r < 60) return { kind: 'big-save', fallbackMs: 1000 };
  return { kind: 'ack', n: 1 + rng.int(120) };
}

const u32 = (rng: SeededRandom) => Number(rng.next64() & 0xffffffffn);

/** Whether a pipeline temp file holds records (its first length word is not zero): the kill came inside a cut. */
async function tempFileHoldsHead(dir: string): Promise<boolean> {
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.tmp')) continue;
    const h = await openFile(join(dir, name), 'r');
    try {
      const b = Buffer.alloc(8);
      const { bytesRead } = await h.read(b, 0, 8, 0);
      if (bytesRead === 8 && !b.equals(Buffer.alloc(8))) return true;
    } finally {
      await h.close();
    }
  }
  return false;
}

const modelBytes = (m: LogModel) => m.entries.reduce((n, e) => n + (e.data?.length ?? 0) + 16, 0);

/**
 * Runs the campaign; resolves with its statistics. A violation (or any unexpected error) leaves its
 * directory in place and is reported with the seed, lane and life that produced it.
 */
export async function runCrashCampaign(o: CampaignOptions): Promise<CampaignStats> {
  const stats: CampaignStats = {
    kills: 0,
    killedBeforeReady: 0,
    acknowledgedSaves: 0,
    repairs: 0,
    outcomes: {},
    killedInsideCut: 0,
    segmentsCreated: 0,
    directories: 0,
    violations: [],
  };
  const fs = new NodeFileSystem();
  const stopAt = o.stopAtViolation ?? true;
  let stop = false;
  let logged = 0;
  const lane = async (laneNo: number, kills: number): Promise<void> => {
    const rng = new SeededRandom(BigInt(o.seed) * 1000n + BigInt(laneNo));
    let dir: string | undefined;
    let segmentSizeBytes = SEGMENT_SIZES[0]!;
    let model: LogModel = { entries: [], hardState: EMPTY };
    for (let life = 0; life < kills && !stop; life++) {
      if (!dir || modelBytes(model) > ROTATE_BYTES) {
        if (dir) {
          stats.segmentsCreated += readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.wal')).length - 1;
          await rm(dir, { recursive: true, force: true });
        }
        dir = await mkdtemp(join(tmpdir(), 'walnut-crash-'));
        stats.directories++;
        segmentSizeBytes = SEGMENT_SIZES[rng.int(SEGMENT_SIZES.length)]!;
        const w = await Wal.create(fs, join(dir, 'wal'), new TextEncoder().encode(`crash lane ${laneNo}`), { segmentSizeBytes });
        model = { entries: [], hardState: EMPTY };
        model = await appendOne(w, model, rng);
        await w.close();
      }
      const walDir = join(dir, 'wal');
      const plan = pickPlan(rng, o.killOnAckOnly ?? false);
      const childSeed = u32(rng);
      const io = childSeed % 2 === 0 ? 'sync' : 'async';
      const where = `seed ${o.seed}, lane ${laneNo}, life ${life}, writer seed ${childSeed} (io ${io}), segment size ${segmentSizeBytes}, kill ${JSON.stringify(plan)}, directory ${walDir}`;
      const report = await runLife(walDir, { seed: childSeed, segmentSizeBytes, io, ...(o.plant ? { plant: o.plant } : {}) }, plan);
      stats.kills++;
      if (!report.ready) stats.killedBeforeReady++;
      stats.acknowledgedSaves += report.acked.length;
      for (const s of report.acked) model = applySave(model, s);
      if (await tempFileHoldsHead(walDir)) stats.killedInsideCut++;

      let opened;
      try {
        opened = await reopen(fs, walDir, segmentSizeBytes);
      } catch (e) {
        const problem = `reopen failed: ${(e as Error).message} (${where})`;
        stats.violations.push(problem);
        if (stopAt) stop = true;
        if (o.keepViolations === false) await rm(dir, { recursive: true, force: true });
        dir = undefined; // kept for inspection
        continue;
      }
      if (opened.repaired) stats.repairs++;
      const verdict = checkRecovery(opened.log, model, report.inFlight);
      if (!verdict.ok) {
        await opened.wal.close();
        stats.violations.push(`${verdict.problem} (${where})`);
        if (stopAt) stop = true;
        if (o.keepViolations === false) await rm(dir, { recursive: true, force: true });
        dir = undefined; // kept for inspection
        continue;
      }
      stats.outcomes[verdict.label] = (stats.outcomes[verdict.label] ?? 0) + 1;
      // The recovered prefix of the in-flight save is part of the log now; prove the WAL appends again.
      model = await appendOne(opened.wal, verdict.log, rng);
      await opened.wal.close();
      if (o.log && stats.kills >= logged + 500) {
        logged = stats.kills;
        o.log(`crash: ${stats.kills} kills, ${stats.violations.length} violations`);
      }
    }
    if (dir) {
      stats.segmentsCreated += readdirSync(join(dir, 'wal')).filter((n) => n.endsWith('.wal')).length - 1;
      await rm(dir, { recursive: true, force: true });
    }
  };
  const per = Math.floor(o.kills / o.lanes);
  // A lane that fails (a writer that exits on its own, a protocol error) stops the others before the
  // campaign reports it, so no child outlives the test.
  const settled = await Promise.allSettled(
    Array.from({ length: o.lanes }, (_, i) =>
      lane(i, per + (i < o.kills % o.lanes ? 1 : 0)).catch((e: unknown) => {
        stop = true;
        throw e;
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return stats;
}

/** Appends one entry through `wal` (the parent's proof that the WAL accepts appends) and returns the new model. */
async function appendOne(wal: Wal, model: LogModel, rng: SeededRandom): Promise<LogModel> {
  const last = model.entries[model.entries.length - 1];
  const term = model.hardState.term > 0n ? model.hardState.term : 1n;
  const e: Entry = { index: (last?.index ?? 0n) + 1n, term, type: 0, data: entryData(u32(rng), rng.int(3001)) };
  const hardState = { term, vote: model.hardState.vote, commit: model.hardState.commit };
  await wal.save(hardState, [e]);
  return { entries: appendEntries(model.entries, [e]), hardState };
}

/** Fails early with the command to run when the built packages the writer imports are missing; warns when older than their sources. */
export function checkBuilt(): void {
  const pkgs = ['wal-core', 'fs-node'].map((p) => fileURLToPath(new URL(`../../${p}/`, import.meta.url)));
  for (const p of pkgs) {
    const dist = join(p, 'dist', 'index.js');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: the crash writer runs the built packages; run \`npm run build\` first`);
    const built = statSync(dist).mtimeMs;
    const newer = readdirSync(join(p, 'src'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts') && statSync(join(p, 'src', f)).mtimeMs > built);
    if (newer.length > 0) console.warn(`crash test: ${p}dist is older than src (${newer.slice(0, 3).join(', ')}); run \`npm run build\``);
  }
}
