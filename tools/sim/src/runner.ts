/**
 * One simulated run per seed: a raft-like node drives a walnut WAL on fs-memory through the seeded workload
 * (workload.ts), with power cuts and process kills between calls and inside them (at the Nth file system
 * operation: in the middle of create, a cut, a repair, a purge), I/O errors and short writes from fs-memory's
 * FaultInjectingFileSystem, and clean restarts. After every crash and restart the node starts as etcd does
 * (etcd-wal-format.md §2.20): validSnapshotEntries, pick the newest snapshot it has a .snap file for,
 * open + readAll, on an unexpected EOF close, repair once and retry; the checker compares every step with the
 * model (model.ts, checker.ts).
 *
 * Everything is deterministic: the workload, crash points and crash outcomes come from splitmix64 streams of
 * the seed; the WAL's background work (file pipeline, purger) runs through a seeded scheduler, its purge timer
 * and clock are simulated, and file system latencies (some seeds) come from fs-memory's SeededScheduler. The
 * same seed gives the same trace and the same trace hash.
 *
 * Stack, per boot of the simulated machine: WAL → FaultInjectingFileSystem (faults, short writes, latency)
 * → SimFileSystem (operation count, crash point, allocation checks) → MemoryFileSystem (the disk).
 */
import {
  purgeSegments,
  Wal,
  WalError,
  type Entry,
  type HardState,
  type PurgeTimer,
  type Snapshot,
  type WalClock,
  type WalLogger,
  type WalOptions,
} from '@walnut/wal-core';
import { FaultInjectingFileSystem, MemoryFileSystem, SeededScheduler, type CrashMode, type OperationKind } from '@walnut/fs-memory';
import { checkReadAll, checkRepair, checkTyped, checkValidSnapshots, errorCode, SimFailure, withWatchdog } from './checker.js';
import {
  crcChainBreak,
  hsText,
  matchStream,
  sameBytes,
  parseWalDir,
  replayEtcd,
  validSnapshots,
  WalModel,
  type Expected,
  type StreamMatch,
} from './model.js';
import { SplitMix64 } from './prng.js';
import { SimFileSystem } from './sim-fs.js';
import { Trace } from './trace.js';
import { EMPTY_HS, makeConfig, RaftNode, sameHs, WorkloadGenerator, type Op, type WorkloadConfig } from './workload.js';

export const WAL_DIR = '/data/member/wal';

/** A deliberate bug to plant (to prove the checker can fail). */
export type PlantedBug = 'drop-synced-write' | 'none';

export interface RunOptions {
  /** Keep (and return) every trace line, not only the last ones. */
  readonly verbose?: boolean;
  /** Called with every trace line as it is produced. */
  readonly echo?: (line: string) => void;
  /** Override the number of workload steps. */
  readonly steps?: number;
  /** Trace lines kept for a failure report (default 30). */
  readonly keep?: number;
  /** A wall-clock limit per WAL call before the run is declared hung (default 30 s). */
  readonly hangMs?: number;
  readonly plant?: PlantedBug;
}

export interface SeedStats {
  steps: number;
  calls: number;
  fsOps: number;
  crashes: number;
  kills: number;
  crashesInCalls: number;
  /** Crashes that struck inside Wal.create, inside a cut (a save that was cutting a new segment), inside repair. */
  crashesInCreate: number;
  crashesInCut: number;
  crashesInRepair: number;
  restarts: number;
  repairs: number;
  faults: number;
  shortWrites: number;
  cuts: number;
  purged: number;
  records: number;
}

export interface SeedResult {
  readonly seed: bigint;
  readonly ok: boolean;
  readonly hash: string;
  readonly failure?: string;
  /** The last trace lines (every line in verbose mode). */
  readonly trace: string[];
  readonly stats: SeedStats;
}

/** A call's outcome. */
type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WalError };

type CrashKind = CrashMode | 'kill';

/** Operations an injected EIO/ENOSPC may hit (closing always releases the descriptor, as on Linux). */
const FAULT_KINDS: readonly OperationKind[] = [
  'open',
  'read',
  'write',
  'size',
  'truncate',
  'allocate',
  'datasync',
  'sync',
  'lock',
  'tryLock',
  'readdir',
  'stat',
  'mkdir',
  'remove',
  'rename',
  'syncDir',
];

export async function runSeed(seed: bigint, options: RunOptions = {}): Promise<SeedResult> {
  const sim = new Simulation(seed, options);
  let failure: string | undefined;
  try {
    await sim.run();
  } catch (e) {
    failure = e instanceof SimFailure ? e.message : `simulator error: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`;
    sim.trace.line(`FAILURE: ${failure.split('\n')[0]}`);
  }
  sim.finish();
  return {
    seed,
    ok: failure === undefined,
    hash: sim.trace.digest(),
    ...(failure === undefined ? {} : { failure }),
    trace: sim.trace.lines(),
    stats: sim.stats,
  };
}

/** The purger's timer, in simulated time: callbacks fire when the simulator advances the time. */
class SimTimer implements PurgeTimer {
  now = 0;
  private seq = 0;
  private pending: { due: number; id: number; cb: () => void }[] = [];

  setTimeout(cb: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ due: this.now + ms, id, cb });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Advances the time, firing what falls due (in due order). */
  advance(ms: number): void {
    this.now += ms;
    for (;;) {
      const due = this.pending.filter((p) => p.due <= this.now).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!due) return;
      this.pending = this.pending.filter((p) => p !== due);
      due.cb();
    }
  }

  /** The process died: its timers are gone. */
  reset(): void {
    this.pending = [];
  }
}

class Simulation {
  readonly trace: Trace;
  readonly stats: SeedStats = {
    steps: 0,
    calls: 0,
    fsOps: 0,
    crashes: 0,
    kills: 0,
    crashesInCalls: 0,
    crashesInCreate: 0,
    crashesInCut: 0,
    crashesInRepair: 0,
    restarts: 0,
    repairs: 0,
    faults: 0,
    shortWrites: 0,
    cuts: 0,
    purged: 0,
    records: 0,
  };
  private readonly rng: SplitMix64;
  private readonly crashRng: SplitMix64;
  private readonly schedRng: SplitMix64;
  private readonly clockRng: SplitMix64;
  /** How the node reads its WAL at start-up (readAll or replay). */
  private readonly readRng: SplitMix64;
  private readonly config: WorkloadConfig;
  private readonly gen: WorkloadGenerator;
  private readonly node = new RaftNode();
  private readonly model: WalModel;
  private readonly timer = new SimTimer();
  private readonly walOptions: WalOptions;
  private readonly hangMs: number;
  /** The disk. */
  private live: MemoryFileSystem;
  /** The crash point and checks, directly over the disk. */
  private sim!: SimFileSystem;
  /** What the WAL is given: fault injection over `sim`. */
  private fs!: FaultInjectingFileSystem;
  private io: SeededScheduler | undefined;
  private boots = 0;
  private wal: Wal | undefined;
  /** Wal.create has resolved (the WAL exists durably). */
  private created = false;
  private pendingCrash: { readonly kind: CrashKind; readonly post: MemoryFileSystem } | undefined;
  /** Injected errors at the start of the current WAL instance: more since then explain its failures. */
  private faultBase = 0;
  private time = 0;

  constructor(
    readonly seed: bigint,
    private readonly options: RunOptions,
  ) {
    const root = new SplitMix64(seed);
    this.rng = root.fork();
    this.crashRng = root.fork();
    this.schedRng = root.fork();
    this.clockRng = root.fork();
    this.readRng = root.fork();
    this.config = makeConfig(this.rng, options.steps === undefined ? {} : { steps: options.steps });
    this.gen = new WorkloadGenerator(this.rng, this.config);
    this.model = new WalModel(this.config.metadata);
    this.trace = new Trace(options.keep ?? 30, { verbose: options.verbose ?? false, ...(options.echo ? { echo: options.echo } : {}) });
    this.hangMs = options.hangMs ?? 30_000;
    this.live = new MemoryFileSystem({ seed });
    this.boot();
    const clock: WalClock = {
      now: () => {
        this.time += this.clockRng.chance(1) ? 1500 : this.clockRng.int(3);
        return this.time;
      },
      wallTime: () => new Date(1_700_000_000_000 + this.time),
    };
    const log =
      (level: string) =>
      (fields: Record<string, unknown>, msg: string): void => {
        const err = typeof fields['error'] === 'string' ? `: ${fields['error']}` : '';
        this.trace.line(`  log ${level}: ${msg}${err}`);
      };
    const logger: WalLogger = { debug() {}, info() {}, warn: log('warn'), error: log('error') };
    this.walOptions = {
      segmentSizeBytes: this.config.segmentSizeBytes,
      clock,
      logger,
      scheduler: (task) => this.schedule(task),
    };
  }

  /** The WAL options of the current process (a purger of a dead process reports nothing). */
  private opts(): WalOptions {
    const c = this.config;
    if (c.purge !== 'background') return this.walOptions;
    const boot = this.boots;
    const alive = () => boot === this.boots;
    return {
      ...this.walOptions,
      purge: {
        max: c.purgeMax,
        intervalMs: 1000,
        timer: this.timer,
        onPurge: (r) => {
          if (!alive()) return;
          this.stats.purged += r.removed.length;
          if (r.removed.length) this.trace.line(`  background purge removed ${r.removed.join(' ')}`);
        },
        onError: (e) => {
          if (alive()) this.trace.line(`  background purge failed: ${e instanceof WalError ? e.code : String(e)}`);
        },
      },
    };
  }

  /** A new process on the current disk: fresh wrappers (and latencies). */
  private boot(): void {
    this.boots++;
    const c = this.config;
    this.sim = new SimFileSystem(this.live, {
      onCrash: () => this.strike(),
      onRename: (from, to) => this.onRename(from, to),
      observe: (kind, path) => this.observe(kind, path),
      opBudget: 2_000_000,
      ...(this.options.plant === 'drop-synced-write' ? { dropWrite: this.plantedDrop() } : {}),
    });
    const ioSeed = this.schedRng.next();
    this.io = c.seededIo ? new SeededScheduler({ seed: ioSeed, maxLatency: 4 }) : undefined;
    this.fs = new FaultInjectingFileSystem(this.sim, {
      seed: this.schedRng.next(),
      shortWrites: c.shortWrites,
      ...(this.io ? { scheduler: this.io } : {}),
    });
    this.faultBase = 0;
  }

  private observe(kind: string, path: string): void {
    if ((kind === 'datasync' || kind === 'sync') && path.startsWith(`${WAL_DIR}/`) && path.endsWith('.wal')) this.model.synced();
  }

  /** Wrap-up for statistics. */
  finish(): void {
    this.stats.fsOps += this.sim.ops;
    this.countFaults();
    this.stats.records = this.model.length;
  }

  private countFaults(): void {
    for (const f of this.fs.injected) {
      if (f.fault === 'shortWrite') this.stats.shortWrites++;
      else this.stats.faults++;
    }
  }

  /** Injected EIO/ENOSPC errors in this process so far. */
  private faultCount(): number {
    let n = 0;
    for (const f of this.fs.injected) if (f.fault === 'EIO' || f.fault === 'ENOSPC') n++;
    return n;
  }

  private get faulted(): boolean {
    return this.faultCount() > this.faultBase;
  }

  /** The WAL's background work runs now, after a few microtasks, or on a later macrotask. */
  private schedule(task: () => Promise<void>): void {
    if (this.io && this.schedRng.chance(50)) {
      this.io.schedule(task);
      return;
    }
    const r = this.schedRng.int(4);
    if (r === 0) {
      void task();
    } else if (r === 3) {
      setImmediate(() => void task());
    } else {
      let hops = 1 + this.schedRng.int(12);
      const go = (): void => {
        if (hops-- > 0) void Promise.resolve().then(go);
        else void task();
      };
      go();
    }
  }

  private pickCrash(): CrashKind {
    return this.crashRng.weighted({ kill: 20, random: 55, 'durable-only': 15, 'keep-all': 10 });
  }

  /** The WAL call in flight (for classifying crash points). */
  private inCall = '';

  /** The crash point was reached (inside a file system operation, synchronously). */
  private strike(): void {
    const op = this.sim.lastOp;
    if (this.inCall.startsWith('create')) this.stats.crashesInCreate++;
    else if (this.inCall.startsWith('repair')) this.stats.crashesInRepair++;
    else if (/^(save|batch)/.test(this.inCall) && (/\.tmp\b/.test(op) || /^(rename|syncDir|truncate)/.test(op))) this.stats.crashesInCut++;
    const kind = this.pickCrash();
    this.pendingCrash = { kind, post: kind === 'kill' ? this.live : this.live.crash({ seed: this.crashRng.next(), mode: kind }) };
  }

  private onRename(from: string, to: string): void {
    if (from.startsWith(`${WAL_DIR}/`) && from.endsWith('.tmp') && to.startsWith(`${WAL_DIR}/`) && to.endsWith('.wal')) {
      const name = to.slice(WAL_DIR.length + 1);
      this.model.cut(name);
      this.stats.cuts++;
      this.trace.line(`  cut -> ${name}`);
    }
  }

  /**
   * The planted bug: the disk silently loses the 4th write to a segment (the write "succeeds", a later
   * datasync "makes it durable"). The checker must notice.
   */
  private plantedDrop(): (path: string) => boolean {
    let writes = 0;
    return (path) => {
      if (!path.startsWith(`${WAL_DIR}/`) || !path.endsWith('.wal')) return false;
      writes++;
      if (writes !== 4) return false;
      this.trace.line(`  PLANTED BUG: write to ${path} dropped`);
      return true;
    };
  }

  // -------------------------------------------------------------------------------------------
  // Calls
  // -------------------------------------------------------------------------------------------

  /**
   * Runs one WAL call, maybe arming a crash (it stays armed until it strikes: in this call, in background
   * work, in a later call) or an I/O error inside it. Every error must be typed. A failure that neither a
   * crash nor an injected error explains fails the run, unless the caller judges it (`judged`).
   */
  private async call<T>(
    label: string,
    fn: () => Promise<T>,
    opts: { crashSpan?: number; crashPercent?: number; noFaults?: boolean; judged?: boolean } = {},
  ): Promise<Outcome<T>> {
    this.stats.calls++;
    this.inCall = label;
    const sim = this.sim;
    let armed = '';
    if (sim.crashAt === undefined && this.crashRng.chance(opts.crashPercent ?? this.config.crashInCallPercent)) {
      sim.crashAt = sim.ops + 1 + this.crashRng.int(opts.crashSpan ?? this.crashRng.pick([4, 12, 40]));
      armed = ` [crash armed at fs op +${sim.crashAt - sim.ops}]`;
    } else if (!opts.noFaults && this.crashRng.chance(this.config.faultPercent)) {
      const error = this.crashRng.chance(80) ? 'EIO' : 'ENOSPC';
      const nth = 1 + this.crashRng.int(30);
      this.fs.addFault({ kind: FAULT_KINDS, nth, error });
      armed = ` [${error} armed at op +${nth}]`;
    }
    const before = this.fs.injected.length;
    let out: Outcome<T>;
    try {
      out = { ok: true, value: await withWatchdog(label, fn(), this.hangMs) };
    } catch (e) {
      out = { ok: false, error: checkTyped(label, e) };
    }
    this.fs.clearFaults();
    const injected = this.fs.injected
      .slice(before)
      .map((f) => ` ${f.fault}${f.detail ? ` (${f.detail})` : ''} at ${f.kind} ${f.path}`)
      .join(',');
    const crash = sim.crashed ? ` CRASH (${this.pendingCrash?.kind ?? '?'}) at fs op ${sim.crashed.op}: ${sim.crashed.what}` : '';
    this.trace.line(`${label}${armed} -> ${out.ok ? 'ok' : out.error.code}${injected ? ` [injected${injected}]` : ''}${crash}`);
    if (!out.ok && !sim.crashed && !this.faulted && !opts.judged) {
      throw new SimFailure(`${label} failed with no crash or fault to explain it: ${out.error.code}: ${out.error.message}`);
    }
    return out;
  }

  /** After a call: if the crash struck, continue on what it left. */
  private async afterCrash(): Promise<void> {
    if (!this.sim.crashed) return;
    this.stats.crashesInCalls++;
    await this.switchTo(this.pendingCrash!);
  }

  private async switchTo(c: { readonly kind: CrashKind; readonly post: MemoryFileSystem }): Promise<void> {
    this.pendingCrash = undefined;
    if (c.kind === 'kill') this.stats.kills++;
    else this.stats.crashes++;
    this.stats.fsOps += this.sim.ops;
    this.countFaults();
    // The process is gone: its handles close (locks released), its timers and pending work die with it.
    this.boots++;
    await this.sim.kill();
    this.timer.reset();
    this.wal = undefined;
    this.live = c.post;
    this.boot();
    await this.bootstrap(c.kind !== 'kill', c.kind);
  }

  // -------------------------------------------------------------------------------------------
  // The run
  // -------------------------------------------------------------------------------------------

  async run(): Promise<void> {
    const c = this.config;
    this.trace.line(
      `seed ${this.seed}: segment ${c.segmentSizeBytes} B, ${c.steps} steps, metadata ${c.metadata === undefined ? 'absent' : `${c.metadata.length} B`}, big ${c.big}, crash-in-call ${c.crashInCallPercent}%, faults ${c.faultPercent}%, short writes ${c.shortWrites}, seeded io ${c.seededIo}, purge ${c.purge}${c.purge === 'background' ? ` (max ${c.purgeMax})` : ''}`,
    );
    // The member directory exists (durably) before etcd creates its WAL in it.
    await this.live.mkdir('/data/member', { recursive: true });
    for (const d of ['/', '/data', '/data/member']) await this.live.syncDir(d);
    await this.create();
    for (let step = 0; step < c.steps; step++) {
      this.stats.steps++;
      this.timer.advance(this.rng.int(1500));
      await this.exec(this.gen.next(this.node));
    }
    // A clean shutdown and a last check.
    await this.restart('final');
    const end = this.model.length;
    const r = await this.call('close', () => this.wal!.close(), { crashSpan: 1, noFaults: true });
    if (r.ok) this.model.ack(end);
  }

  private async create(): Promise<void> {
    this.model.reset();
    this.node.recover({ index: 0n, term: 0n }, EMPTY_HS, []);
    this.faultBase = this.faultCount();
    const r = await this.call('create', () => Wal.create(this.fs, WAL_DIR, this.config.metadata, this.opts()), {
      crashSpan: 20,
      judged: true,
    });
    if (r.ok) return this.created_(r.value);
    if (this.sim.crashed) return this.afterCrash();
    if (!this.faulted) throw new SimFailure(`create failed with no crash or fault to explain it: ${r.error.code}: ${r.error.message}`);
    await this.bootstrap(false, 'failed create');
  }

  private async created_(wal: Wal): Promise<void> {
    this.wal = wal;
    this.created = true;
    this.model.ack(1);
    this.model.opened();
    if (this.sim.crashed) return this.afterCrash();
  }

  private async exec(op: Op): Promise<void> {
    if (!this.wal) throw new SimFailure('internal: no WAL open');
    const wal = this.wal;
    switch (op.op) {
      case 'save': {
        const { end, mustSync } = this.model.save(op.hardState, op.entries);
        const r = await this.call(`save ${saveText(op.hardState, op.entries)}${mustSync ? ' (sync)' : ''}`, () =>
          wal.save(op.hardState, op.entries),
        );
        if (r.ok && mustSync) this.model.ack(end);
        return this.settle(r.ok);
      }
      case 'batch': {
        const ends = op.saves.map((s) => this.model.save(s.hardState, s.entries));
        const label = `batch ${op.saves.map((s) => saveText(s.hardState, s.entries)).join(' | ')}${op.sync ? ' + sync' : ''}`;
        const results: PromiseSettledResult<void>[] = [];
        const r = await this.call(label, async () => {
          // Issued together, awaited together: the WAL runs them in call order and shares datasyncs.
          const calls = op.saves.map((s) => wal.save(s.hardState, s.entries));
          if (op.sync) calls.push(wal.sync());
          results.push(...(await Promise.allSettled(calls)));
          const bad = results.find((x) => x.status === 'rejected');
          if (bad) throw bad.reason;
        });
        results.forEach((x, i) => {
          if (x.status === 'rejected') checkTyped(`${label} [${i}]`, x.reason);
          else if (i === op.saves.length)
            this.model.ack(ends[ends.length - 1]!.end); // the sync covers every save before it
          else if (ends[i]!.mustSync) this.model.ack(ends[i]!.end);
        });
        return this.settle(r.ok);
      }
      case 'snapshot': {
        const end = this.model.snapshot(op.snapshot);
        const s = op.snapshot;
        const r = await this.call(`saveSnapshot ${s.index}/${s.term}${s.confState ? ' +confState' : ''}`, () => wal.saveSnapshot(s));
        if (r.ok) this.model.ack(end);
        if (!r.ok || this.sim.crashed || !op.release) return this.settle(r.ok);
        const rl = await this.call(`releaseLockTo ${s.index}`, () => wal.releaseLockTo(s.index));
        return this.settle(rl.ok);
      }
      case 'release': {
        const r = await this.call(`releaseLockTo ${op.index}`, () => wal.releaseLockTo(op.index));
        return this.settle(r.ok);
      }
      case 'sync': {
        const end = this.model.length;
        const r = await this.call('sync', () => wal.sync());
        if (r.ok) this.model.ack(end);
        return this.settle(r.ok);
      }
      case 'purge': {
        const r = await this.call(`purge (keep ${op.max})`, () => purgeSegments(this.fs, WAL_DIR, { max: op.max }));
        if (r.ok) {
          this.stats.purged += r.value.removed.length;
          if (r.value.removed.length) this.trace.line(`  purged ${r.value.removed.join(' ')}`);
        }
        // A failed purge round (an injected error) does not concern the WAL.
        if (this.sim.crashed) return this.afterCrash();
        return;
      }
      case 'restart':
        return this.restart('restart');
      case 'crash': {
        const kind = this.pickCrash();
        this.trace.line(`CRASH between calls (${kind})`);
        return this.switchTo({ kind, post: kind === 'kill' ? this.live : this.live.crash({ seed: this.crashRng.next(), mode: kind }) });
      }
    }
  }

  /** After a call: a crash continues on what it left; a failure (an injected error) restarts the process. */
  private async settle(ok: boolean): Promise<void> {
    if (this.sim.crashed) return this.afterCrash();
    if (ok) return;
    this.trace.line('process restarts after the failure');
    const wal = this.wal!;
    this.wal = undefined;
    await this.call('close (after failure)', () => wal.close(), { noFaults: true, judged: true });
    if (this.sim.crashed) return this.afterCrash();
    await this.restartProcess('failure');
  }

  /** A clean restart: close, then start again on the same disk. */
  private async restart(why: string): Promise<void> {
    this.stats.restarts++;
    const wal = this.wal!;
    const end = this.model.length;
    const r = await this.call(`close (${why})`, () => wal.close());
    if (r.ok) this.model.ack(end);
    this.wal = undefined;
    if (this.sim.crashed) return this.afterCrash();
    await this.restartProcess(why);
  }

  /** The process exits and starts again (same disk, nothing lost, nothing made durable). */
  private async restartProcess(why: string): Promise<void> {
    this.stats.fsOps += this.sim.ops;
    this.countFaults();
    this.boots++;
    await this.sim.kill();
    this.timer.reset();
    this.boot();
    await this.bootstrap(false, why);
  }

  // -------------------------------------------------------------------------------------------
  // Start-up, as etcd does it, with every step checked
  // -------------------------------------------------------------------------------------------

  private async bootstrap(crashed: boolean, why: string): Promise<void> {
    let repaired = false;
    const after = crashed ? `a power cut (${why})` : `a restart (${why})`;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 20) throw new SimFailure('bootstrap: no progress after 20 attempts');
      this.faultBase = this.faultCount();
      const dir = await parseWalDir(this.live, WAL_DIR);
      if (dir.segments.length === 0) {
        if (this.created)
          throw new SimFailure(
            `after ${after}: the WAL directory has no segments, yet Wal.create resolved (holds: ${dir.others.join(' ')})`,
          );
        this.trace.line('bootstrap: no WAL (its create never completed): create again');
        this.model.reset();
        this.node.recover({ index: 0n, term: 0n }, EMPTY_HS, []);
        const r = await this.call('create', () => Wal.create(this.fs, WAL_DIR, this.config.metadata, this.opts()), {
          crashSpan: 20,
          judged: true,
        });
        if (r.ok) return this.created_(r.value);
        if (this.sim.crashed) return this.afterCrash();
        if (!this.faulted) throw new SimFailure(`create failed with no crash or fault to explain it: ${r.error.code}: ${r.error.message}`);
        continue;
      }
      const match = matchStream(this.model, dir);
      if (match.problems.length) throw new SimFailure(`after ${after}: ${match.problems.join('; ')}`);
      if (match.damagedTail) await this.damagedTail(match.damagedTail, after);

      // Sometimes an operator runs repair first (walnut repair): on a WAL that reads to its end it must say so
      // and change nothing.
      if (!match.torn && this.readRng.chance(8)) {
        const before = await snapshotFiles(this.live, WAL_DIR);
        const rep = await this.call('repair (nothing to repair)', () => Wal.repair(this.fs, WAL_DIR), { judged: true });
        if (this.sim.crashed) return this.afterCrash();
        if (!this.faulted) {
          if (!rep.ok || !rep.value)
            throw new SimFailure(`repair of a WAL that reads to its end returned ${rep.ok ? 'false' : rep.error.code}`);
          const now = await snapshotFiles(this.live, WAL_DIR);
          const changed = [...new Set([...before.keys(), ...now.keys()])].filter((k) => !sameBytes(before.get(k), now.get(k)));
          if (changed.length) throw new SimFailure(`repair of a WAL that reads to its end changed ${changed.join(', ')}`);
        }
      }
      this.trace.line(
        `bootstrap: disk holds ${match.survivors}/${this.model.length} records (${this.model.durable} durable) in ${dir.segments.length} segment(s)${match.torn ? `, torn at ${match.torn.segment}@${match.torn.offset} (${match.torn.why})` : ''}`,
      );

      // validSnapshotEntries, then the newest snapshot with a .snap file.
      const chain = crcChainBreak(dir.segments);
      const vse = await this.call('validSnapshotEntries', () => Wal.validSnapshotEntries(this.fs, WAL_DIR), { judged: true });
      if (this.sim.crashed) return this.afterCrash();
      if (!vse.ok) {
        if (this.faulted) continue; // an injected error: start again
        const why = chain ? ` (the CRC chain breaks at ${chain}: segments ${dir.segments.map((x) => x.seq).join(',')})` : '';
        throw new SimFailure(
          `after ${after}: validSnapshotEntries failed: ${vse.error.code}: ${vse.error.message}${why}: the node cannot start`,
        );
      }
      if (chain) throw new SimFailure(`after ${after}: validSnapshotEntries succeeded though the CRC chain breaks at ${chain}`);
      checkValidSnapshots(`validSnapshotEntries after ${after}`, validSnapshots(match.segments), vse.value);
      let chosen: Snapshot = { index: 0n, term: 0n };
      for (const s of vse.value) if (this.model.snapFiles.some((f) => f.index === s.index && f.term === s.term)) chosen = s;
      const snap = { index: chosen.index, term: chosen.term };
      const expected: Expected = match.torn
        ? { ok: false, code: 'WAL_UNEXPECTED_EOF', detail: `torn at ${match.torn.segment}@${match.torn.offset}` }
        : replayEtcd(match.segments, snap, dir);

      // Sometimes an operator looks first: openForRead + readAll (a torn tail ends it quietly) and verify.
      if (this.readRng.chance(20)) {
        const ro = await this.call(
          'openForRead+readAll',
          async () => {
            const w = await Wal.openForRead(this.fs, WAL_DIR, snap);
            try {
              return await w.readAll();
            } finally {
              await w.close().catch(() => {});
            }
          },
          { judged: true },
        );
        if (this.sim.crashed) return this.afterCrash();
        const want = replayEtcd(match.segments, snap, dir);
        if (ro.ok || !this.faulted)
          checkReadAll(
            `read mode at ${snap.index}/${snap.term} after ${after}`,
            want,
            ro.ok ? { ok: true, ...ro.value } : { ok: false, error: ro.error },
          );
        const vf = await this.call('verify', () => Wal.verify(this.fs, WAL_DIR, snap), { judged: true });
        if (this.sim.crashed) return this.afterCrash();
        if ((vf.ok || !this.faulted) && (want.ok || want.code !== 'WAL_SLICE_OUT_OF_RANGE')) {
          const got = vf.ok ? { ok: true as const, hardState: vf.value, entries: [] } : { ok: false as const, error: vf.error };
          checkReadAll(`verify at ${snap.index}/${snap.term} after ${after}`, want.ok ? { ...want, entries: [] } : want, got);
        }
      }

      const opened = await this.call(`open at ${snap.index}/${snap.term}`, () => Wal.open(this.fs, WAL_DIR, snap, this.opts()), {
        judged: true,
      });
      if (this.sim.crashed) return this.afterCrash();
      if (!opened.ok) {
        if (this.faulted && (expected.ok || expected.code !== opened.error.code)) continue;
        throw new SimFailure(
          `after ${after}: the WAL cannot be opened at ${snap.index}/${snap.term}: ${opened.error.code}: ${opened.error.message}`,
        );
      }
      const wal = opened.value;
      // etcd reads everything at once; walnut can also stream it (replay): either must give the same result.
      const streamed = this.readRng.chance(30);
      const read = await this.call(streamed ? 'replay' : 'readAll', () => (streamed ? readByReplay(wal, snap.index) : wal.readAll()), {
        judged: true,
      });
      if (this.sim.crashed) return this.afterCrash();
      if (!read.ok && this.faulted && (expected.ok || read.error.code !== expected.code)) {
        await this.call('close', () => wal.close(), { noFaults: true, judged: true });
        if (this.sim.crashed) return this.afterCrash();
        continue;
      }
      const what = `readAll at ${snap.index}/${snap.term} after ${after}`;
      checkReadAll(what, expected, read.ok ? { ok: true, ...read.value } : { ok: false, error: read.error });

      if (!read.ok) {
        // The only failure etcd recovers from: a torn tail. Close, repair once, retry.
        await this.call('close', () => wal.close(), { noFaults: true, judged: true });
        if (this.sim.crashed) return this.afterCrash();
        if (!match.torn) throw new SimFailure(`${what} failed: ${read.error.code}: ${read.error.message}`);
        if (repaired) throw new SimFailure(`${what}: still torn after a successful repair: ${read.error.message}`);
        const before = await snapshotFiles(this.live, WAL_DIR);
        // Repairs are rare: a crash in the middle of one is armed more often than elsewhere.
        const rep = await this.call('repair', () => Wal.repair(this.fs, WAL_DIR), { crashSpan: 14, crashPercent: 35, judged: true });
        if (this.sim.crashed) return this.afterCrash();
        if (!rep.ok || !rep.value) {
          if (this.faulted) continue;
          throw new SimFailure(
            `repair of the torn last segment ${match.torn.segment} (${match.torn.why}) returned ${rep.ok ? 'false' : rep.error.code}`,
          );
        }
        this.stats.repairs++;
        checkRepair('repair', match.torn.segment, match.torn.offset, before, await snapshotFiles(this.live, WAL_DIR));
        repaired = true;
        continue;
      }

      const { hardState, entries } = read.value;
      this.trace.line(
        `  read ${hsText(hardState)}, ${entries.length} entries${entries.length ? ` ${entries[0]!.index}..${entries[entries.length - 1]!.index}` : ''}`,
      );
      this.model.settle(match, crashed);
      this.model.opened();
      this.node.recover(snap, hardState, entries);
      this.wal = wal;
      return;
    }
  }

  /** etcd (and walnut) cannot start on this tail: report what walnut says, as the failure. */
  private async damagedTail(d: NonNullable<StreamMatch['damagedTail']>, after: string): Promise<never> {
    const out: string[] = [];
    try {
      const w = await Wal.open(this.live, WAL_DIR, { index: 0n, term: 0n });
      try {
        await w.readAll();
        out.push('readAll succeeded');
      } catch (e) {
        out.push(`readAll: ${errorCode(e)}: ${(e as Error).message}`);
      } finally {
        await w.close().catch(() => {});
      }
      const copy = this.live.crash({ mode: 'keep-all' });
      out.push(`repair: ${await Wal.repair(copy, WAL_DIR)}`);
    } catch (e) {
      out.push(`open: ${errorCode(e)}`);
    }
    throw new SimFailure(
      `after ${after}: the last record of ${d.segment} (@${d.offset}) is damaged at a byte offset, not torn by sectors (${d.why}${d.zerosAfter ? '; only zeros follow it' : ''}): the WAL cannot start: ${out.join('; ')}`,
    );
  }
}

/** Wal.replay, consumed as raft would: entries with the overwrite rule applied, the final HardState. */
async function readByReplay(wal: Wal, snapIndex: bigint): Promise<{ hardState: HardState; entries: Entry[] }> {
  const entries: Entry[] = [];
  const it = wal.replay();
  for (;;) {
    const r = await it.next();
    if (r.done) return { hardState: r.value.hardState, entries };
    const item = r.value;
    if (item.kind !== 'entry') continue;
    const e = item.entry;
    if (e.index <= snapIndex) throw new SimFailure(`replay yielded entry ${e.index}, at or below the start snapshot ${snapIndex}`);
    const pos = Number(e.index - snapIndex - 1n);
    if (pos > entries.length) throw new SimFailure(`replay yielded entry ${e.index} after ${entries.length} entries (a gap)`);
    entries.length = pos;
    entries.push(e);
  }
}

function saveText(hs: HardState, entries: readonly Entry[]): string {
  const h = sameHs(hs, EMPTY_HS) ? '-' : hsText(hs);
  if (entries.length === 0) return `hs ${h}`;
  const sizes = entries.map((e) => (e.data === undefined ? '-' : String(e.data.length))).join(',');
  return `hs ${h} ents ${entries[0]!.index}..${entries[entries.length - 1]!.index}@t${entries[entries.length - 1]!.term} [${sizes}]`;
}

/** Every file of `dir`, read directly from the disk. */
export async function snapshotFiles(fs: MemoryFileSystem, dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const name of (await fs.readdir(dir)).sort()) {
    const st = await fs.stat(`${dir}/${name}`);
    if (!st.isFile) continue;
    const h = await fs.open(`${dir}/${name}`, 'read');
    const buf = new Uint8Array(st.size);
    if (st.size) await h.read(buf, 0, st.size, 0);
    await h.close();
    out.set(name, buf);
  }
  return out;
}
