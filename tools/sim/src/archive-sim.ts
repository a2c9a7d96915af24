/**
 * The archive simulation (`npm run sim -- --archive`): one seeded run per seed of a WAL on
 * `S3ArchiveFileSystem` (@walnut/fs-s3-archive) over the simulator's crash-capable disk and a
 * `MemoryObjectStore`, with archive rounds at random points and crashes armed at random file system
 * operations and store requests — inside saves, cuts and archive rounds (between upload and local delete,
 * between delete and directory sync, after a PUT landed but before the client saw the answer), plus store
 * outages injected in the middle of rounds.
 *
 * The store is remote: a crash of the client leaves it exactly as it was at that instant (a copy is taken
 * there; the dead process's requests after it go nowhere). A power cut is `MemoryFileSystem.crash()`
 * (`random`, `durable-only`, `keep-all`); a kill keeps the disk as it is and releases the dead process's locks.
 *
 * Checked after every crash and restart (and around every round):
 * 1. every save acknowledged as durable is read back exactly: `Wal.open` at the newest snapshot the node
 *    has a `.snap` file for + `readAll`, and `Wal.openForRead` from index 0 over both tiers returns every
 *    entry from the first one (archived segments included), exactly as written;
 * 2. every segment known durable (present after a call that synced the directory) exists locally or as an
 *    object whose bytes match its metadata (size + CRC-32C), never neither; every object matches its
 *    metadata, and an object whose segment is still local holds the same bytes;
 * 3. the next archive round completes (or fails with a typed WalError only when an outage was injected),
 *    and afterwards the local tier holds at most `max` segments the WAL does not hold (its locks are the
 *    barrier); what a round reports archived is gone locally and present remotely;
 * 4. no object is ever overwritten with other bytes (every PUT is watched; a PUT to an existing key must
 *    not happen, or carry the same bytes);
 * 5. the same seed gives the same trace and trace hash.
 *
 * Stack per boot: WAL / archiver → S3ArchiveFileSystem → SimFileSystem (operation count, crash point) →
 * MemoryFileSystem (the disk); S3ArchiveFileSystem → SimStore (request count, crash point, outages, the
 * overwrite watch) → MemoryObjectStore.
 */
import {
  Wal,
  WalError,
  crc32cUpdate,
  type Entry,
  type HardState,
  type Snapshot,
  type WalClock,
  type WalLogger,
  type WalOptions,
} from '@walnut/wal-core';
import { MemoryFileSystem, type CrashMode } from '@walnut/fs-memory';
import {
  ArchiveUnreachableError,
  MemoryObjectStore,
  S3ArchiveFileSystem,
  archiveSegments,
  metadataToFacts,
  type ArchiveRoundResult,
  type ObjectInfo,
  type ObjectStore,
  type ObjectSummary,
  type PutOptions,
  type PutResult,
} from '@walnut/fs-s3-archive';
import { checkTyped, errorCode, SimFailure, withWatchdog } from './checker.js';
import { hsText, sameEntry } from './model.js';
import { fillBytes, SplitMix64 } from './prng.js';
import { SimFileSystem } from './sim-fs.js';
import { Trace } from './trace.js';

export const ARCHIVE_WAL_DIR = '/data/member/wal';
const PREFIX = 'sim/';

export interface ArchiveRunOptions {
  /** Keep (and return) every trace line. */
  readonly verbose?: boolean;
  /** Called with every trace line as it is produced. */
  readonly echo?: (line: string) => void;
  /** Override the number of workload steps. */
  readonly steps?: number;
  /** Trace lines kept for a failure report (default 30). */
  readonly keep?: number;
  /** Wall-clock limit per call before the run is declared hung (default 30 s). Never used in a decision. */
  readonly hangMs?: number;
}

export interface ArchiveSeedStats {
  steps: number;
  saves: number;
  snapshots: number;
  boots: number;
  crashes: number;
  kills: number;
  /** Crashes that struck inside an archive round (any kind). */
  crashesInRounds: number;
  /** ... at the local remove of a segment whose object was stored and verified (between upload and delete). */
  crashesUploadToDelete: number;
  /** ... at the directory sync after a local remove (between delete and sync). */
  crashesDeleteToSync: number;
  /** ... at a store request (before it was sent, or after it landed and before the answer). */
  crashesAtStoreRequests: number;
  crashesInSaves: number;
  repairs: number;
  rounds: number;
  roundsFailed: number;
  outages: number;
  /** Start-ups (validSnapshotEntries, open, readAll, repair) with the store down. */
  outagesAtStartUp: number;
  archived: number;
  resumed: number;
  /** PUTs to a key that already held an object (refused by a conditional put, or the same bytes). */
  putsToExistingKeys: number;
  segments: number;
}

export interface ArchiveSeedResult {
  readonly seed: bigint;
  readonly ok: boolean;
  readonly hash: string;
  readonly failure?: string;
  readonly trace: string[];
  readonly stats: ArchiveSeedStats;
}

/** The one-line command that replays a seed. */
export function archiveReplayCommand(seed: bigint | number, steps?: number): string {
  return `npm run sim -- --archive --seeds 1 --from ${seed}${steps === undefined ? '' : ` --steps ${steps}`} --verbose`;
}

export async function runArchiveSeed(seed: bigint, options: ArchiveRunOptions = {}): Promise<ArchiveSeedResult> {
  const sim = new ArchiveSimulation(seed, options);
  let failure: string | undefined;
  try {
    await sim.run();
  } catch (e) {
    failure = e instanceof SimFailure ? e.message : `simulator error: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`;
    sim.trace.line(`FAILURE: ${failure.split('\n')[0]}`);
  }
  return {
    seed,
    ok: failure === undefined,
    hash: sim.trace.digest(),
    ...(failure === undefined ? {} : { failure }),
    trace: sim.trace.lines(),
    stats: sim.stats,
  };
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WalError };
type CrashKind = CrashMode | 'kill';

const crc32 = (b: Uint8Array): number => crc32cUpdate(0, b) >>> 0;
const hex = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * The object store as one client process sees it: counts requests so the client can die at request N
 * (before it is sent, or after it landed and before the answer came back), injects an outage (the next
 * requests fail) from request N on, and watches every PUT: a PUT to a key that holds an object must not
 * succeed with other bytes than the key's first object, ever.
 */
class SimStore implements ObjectStore {
  requests = 0;
  /** The client dies at request `n`, or at the `left`-th next request of kind `kind` (before it is sent, or after it landed). */
  crashAt: { readonly n?: number; readonly kind?: string; left?: number; readonly after: boolean } | undefined;
  outage: { readonly at: number; readonly len: number } | undefined;
  outagesFired = 0;
  putsToExisting = 0;
  /** The client process died: it sends nothing more. */
  dead = false;

  constructor(
    readonly inner: MemoryObjectStore,
    /** Key → size and CRC-32C of the first object ever stored under it (in this store's history). */
    readonly first: Map<string, { readonly size: number; readonly crc: number }>,
    private readonly hooks: { readonly crash: (what: string) => void; readonly violation: (what: string) => void },
  ) {}

  get location(): string {
    return this.inner.location;
  }

  /** The store after the client crashed now: as it is at this instant (it is remote). */
  survivor(hooks: SimStore['hooks']): SimStore {
    return new SimStore(this.inner.clone(), new Map(this.first), hooks);
  }

  /** The outage ends (the server is back). */
  endOutage(): void {
    this.outage = undefined;
    this.inner.failNext(0);
  }

  private before(what: string): boolean {
    this.requests++;
    if (this.dead) throw new ArchiveUnreachableError(this.location, `the client process is dead (${what})`);
    if (this.outage && this.requests >= this.outage.at) {
      this.inner.failNext(this.outage.len);
      this.outage = undefined;
      this.outagesFired++;
    }
    const c = this.crashAt;
    if (c && (c.n !== undefined ? this.requests >= c.n : what.startsWith(`${c.kind} `) && (c.left = (c.left ?? 1) - 1) <= 0)) {
      const after = c.after;
      this.crashAt = undefined;
      if (!after) {
        this.hooks.crash(`store ${what} (before it was sent)`);
        throw new ArchiveUnreachableError(this.location, `the client lost power before ${what}`);
      }
      return true;
    }
    return false;
  }

  private after(crash: boolean, what: string): void {
    if (!crash) return;
    this.hooks.crash(`store ${what} (it landed; the answer was lost)`);
    throw new ArchiveUnreachableError(this.location, `the client lost power during ${what}`);
  }

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    const crash = this.before(`put ${key}`);
    const existed = this.inner.keys().includes(key);
    if (existed) this.putsToExisting++;
    let r: PutResult | undefined;
    let err: unknown;
    try {
      r = await this.inner.put(key, body, options);
    } catch (e) {
      err = e;
    }
    if (r) {
      const mine = { size: body.length, crc: crc32(body) };
      const was = this.first.get(key);
      if (was && (was.size !== mine.size || was.crc !== mine.crc)) {
        this.hooks.violation(
          `object ${key} ${existed ? 'overwritten' : 'stored again'} with other bytes: first ${was.size} B crc ${hex(was.crc)}, now ${mine.size} B crc ${hex(mine.crc)}`,
        );
      }
      if (!was) this.first.set(key, mine);
    }
    this.after(crash, `put ${key}`);
    if (err !== undefined) throw err;
    return r!;
  }

  async get(key: string, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array> {
    const what = `get ${key}${range ? ` ${range.start}-${range.end}` : ''}`;
    const crash = this.before(what);
    const p = this.inner.get(key, range);
    p.catch(() => {});
    this.after(crash, what);
    return p;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const crash = this.before(`head ${key}`);
    const p = this.inner.head(key);
    p.catch(() => {});
    this.after(crash, `head ${key}`);
    return p;
  }

  async list(prefix: string): Promise<ObjectSummary[]> {
    const crash = this.before(`list ${prefix}`);
    const p = this.inner.list(prefix);
    p.catch(() => {});
    this.after(crash, `list ${prefix}`);
    return p;
  }

  async delete(key: string): Promise<void> {
    const crash = this.before(`delete ${key}`);
    const p = this.inner.delete(key);
    p.catch(() => {});
    this.after(crash, `delete ${key}`);
    return p;
  }
}

/**
 * The simulator's file system wrapper, able to crash at the n-th next operation of a kind (the n-th local
 * remove of a segment, directory sync, ...) as well as at the n-th next operation.
 */
class TargetingSimFileSystem extends SimFileSystem {
  target: { readonly kind: string; left: number } | undefined;

  override step(kind: string, path: string): void {
    const t = this.target;
    if (t && kind.startsWith(t.kind) && (kind !== 'remove' || path.endsWith('.wal')) && --t.left <= 0) {
      this.target = undefined;
      this.crashAt = this.ops + 1;
    }
    super.step(kind, path);
  }
}

interface Config {
  readonly segmentSizeBytes: number;
  readonly steps: number;
  readonly crashInCallPercent: number;
  readonly crashInRoundPercent: number;
  readonly outagePercent: number;
  readonly verifiesChecksums: boolean;
  readonly honoursConditionalPut: boolean;
  readonly metadata: Uint8Array | undefined;
}

interface PendingCrash {
  readonly kind: CrashKind;
  readonly post: MemoryFileSystem;
  readonly store: SimStore;
  readonly where: string;
}

class ArchiveSimulation {
  readonly trace: Trace;
  readonly stats: ArchiveSeedStats = {
    steps: 0,
    saves: 0,
    snapshots: 0,
    boots: 0,
    crashes: 0,
    kills: 0,
    crashesInRounds: 0,
    crashesUploadToDelete: 0,
    crashesDeleteToSync: 0,
    crashesAtStoreRequests: 0,
    crashesInSaves: 0,
    repairs: 0,
    rounds: 0,
    roundsFailed: 0,
    outages: 0,
    outagesAtStartUp: 0,
    archived: 0,
    resumed: 0,
    putsToExistingKeys: 0,
    segments: 0,
  };
  private readonly rng: SplitMix64;
  private readonly crashRng: SplitMix64;
  private readonly schedRng: SplitMix64;
  private readonly dataRng: SplitMix64;
  private readonly config: Config;
  private readonly hangMs: number;
  private readonly walOptions: WalOptions;
  private time = 0;

  // The machine.
  private live: MemoryFileSystem;
  private sim!: TargetingSimFileSystem;
  private store!: SimStore;
  private fs!: S3ArchiveFileSystem;
  private wal: Wal | undefined;
  private boots = 0;
  private pendingCrash: PendingCrash | undefined;
  private inCall = '';
  private readonly violations: string[] = [];

  // The node.
  /** Entries written in this history, entry i at [i - 1] (a crash can take an unacknowledged suffix). */
  private hist: Entry[] = [];
  /** Every entry up to this index is acknowledged durable. */
  private acked = 0;
  /** The commit of the last HardState written, and of the last one acknowledged durable. */
  private hsCommit = 0;
  private ackedCommit = 0;
  private term = 1n;
  private vote = 0n;
  /** The node's `.snap` files (written before the WAL's snapshot record, as etcd does). */
  private readonly snapFiles: Snapshot[] = [];
  private lastSnap = 0;
  /** Segments known durable: present in the directory after a call that synced it. Each must survive in some tier. */
  private readonly durableSegments = new Set<string>();

  constructor(
    readonly seed: bigint,
    private readonly options: ArchiveRunOptions,
  ) {
    const root = new SplitMix64(seed ^ 0xa5c4_17e0_0b5e_ed00n);
    this.rng = root.fork();
    this.crashRng = root.fork();
    this.schedRng = root.fork();
    this.dataRng = root.fork();
    const c = this.rng;
    this.config = {
      segmentSizeBytes: c.range(4, 16) * 1024,
      steps: options.steps ?? c.range(30, 80),
      crashInCallPercent: c.pick([4, 10, 20]),
      crashInRoundPercent: c.pick([15, 30, 50]),
      outagePercent: c.pick([0, 15, 35]),
      verifiesChecksums: !c.chance(35),
      honoursConditionalPut: !c.chance(20),
      metadata: c.chance(70) ? fillBytes(c.next(), c.range(1, 64)) : undefined,
    };
    this.trace = new Trace(options.keep ?? 30, { verbose: options.verbose ?? false, ...(options.echo ? { echo: options.echo } : {}) });
    this.hangMs = options.hangMs ?? 30_000;
    this.live = new MemoryFileSystem({ seed });
    const clock: WalClock = {
      now: () => (this.time += 1),
      wallTime: () => new Date(1_700_000_000_000 + this.time),
    };
    this.walOptions = {
      segmentSizeBytes: this.config.segmentSizeBytes,
      clock,
      logger: this.logger(),
      scheduler: (task) => this.schedule(task),
    };
  }

  /** Warnings and errors go to the trace, from the current process only. */
  private logger(): WalLogger {
    const log =
      (level: string) =>
      (fields: Record<string, unknown>, msg: string): void => {
        if (this.pendingCrash || this.sim?.crashed) return;
        const err = typeof fields['error'] === 'string' ? `: ${fields['error']}` : '';
        this.trace.line(`  log ${level}: ${msg}${err}`);
      };
    return { debug() {}, info() {}, warn: log('warn'), error: log('error') };
  }

  /** The WAL's background work runs now, after a few microtasks, or on a later macrotask (seeded). */
  private schedule(task: () => Promise<void>): void {
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

  private storeHooks(): SimStore['hooks'] {
    return { crash: (what) => this.strike(what), violation: (v) => this.violation(v) };
  }

  private violation(v: string): void {
    this.violations.push(v);
    this.trace.line(`  VIOLATION: ${v}`);
  }

  /** A new process on the current disk and store: fresh wrappers. */
  private boot(): void {
    this.boots++;
    this.stats.boots++;
    this.sim = new TargetingSimFileSystem(this.live, { onCrash: (_op, what) => this.strike(what), opBudget: 5_000_000 });
    this.fs = new S3ArchiveFileSystem(this.sim, this.store, { prefix: PREFIX, logger: this.logger() });
  }

  /** The crash point was reached (synchronously, inside a file system operation or a store request). */
  private strike(where: string): void {
    if (this.pendingCrash) return;
    this.sim.crashed ??= { op: this.sim.ops, what: where };
    this.sim.crashAt = undefined;
    this.sim.target = undefined;
    this.store.crashAt = undefined;
    if (this.inCall.startsWith('archive')) {
      this.stats.crashesInRounds++;
      if (where.startsWith('store')) this.stats.crashesAtStoreRequests++;
      else if (where.startsWith('remove') && where.endsWith('.wal')) this.stats.crashesUploadToDelete++;
      else if (where.startsWith('syncDir')) this.stats.crashesDeleteToSync++;
    } else if (this.inCall.startsWith('save')) {
      this.stats.crashesInSaves++;
    }
    const kind = this.pickCrash();
    const post = kind === 'kill' ? this.live : this.live.crash({ seed: this.crashRng.next(), mode: kind });
    this.pendingCrash = { kind, post, store: this.store.survivor(this.storeHooks()), where };
    this.store.dead = true;
  }

  private pickCrash(): CrashKind {
    return this.crashRng.weighted({ kill: 25, random: 50, 'durable-only': 15, 'keep-all': 10 });
  }

  private fail(msg: string): never {
    throw new SimFailure(msg);
  }

  /**
   * Runs one call, maybe arming a crash at one of its next file system operations or store requests. Every
   * error must be typed; the caller judges failures. A crash armed here is disarmed when the call returns.
   */
  private async call<T>(
    label: string,
    fn: () => Promise<T>,
    opts: { crashPercent?: number; span?: readonly number[]; storeSpan?: readonly number[]; targeted?: boolean } = {},
  ): Promise<Outcome<T>> {
    this.inCall = label;
    let armed = '';
    const pct = opts.crashPercent ?? 0;
    if (pct > 0 && this.crashRng.chance(pct)) {
      const cr = this.crashRng;
      if (opts.targeted && cr.chance(60)) {
        // At an operation that matters to the archive: the n-th next local remove of a segment (between
        // upload and delete), directory sync (between delete and sync), PUT, HEAD, read-back GET, ...
        const kind = cr.weighted({ remove: 30, syncDir: 20, put: 20, head: 8, get: 8, tryLock: 5, read: 5, close: 4 });
        const left = 1 + cr.int(cr.pick([1, 3]));
        if (kind === 'put' || kind === 'head' || kind === 'get') {
          const after = cr.chance(50);
          this.store.crashAt = { kind, left, after };
          armed = ` [crash armed at store ${kind} #${left}${after ? ', after it lands' : ''}]`;
        } else {
          this.sim.target = { kind, left };
          armed = ` [crash armed at fs ${kind} #${left}]`;
        }
      } else if (opts.storeSpan && cr.chance(40)) {
        const n = this.store.requests + 1 + this.crashRng.int(this.crashRng.pick(opts.storeSpan));
        const after = this.crashRng.chance(50);
        this.store.crashAt = { n, after };
        armed = ` [crash armed at store request +${n - this.store.requests}${after ? ', after it lands' : ''}]`;
      } else {
        this.sim.crashAt = this.sim.ops + 1 + this.crashRng.int(this.crashRng.pick(opts.span ?? [4, 12, 40]));
        armed = ` [crash armed at fs op +${this.sim.crashAt - this.sim.ops}]`;
      }
    }
    let out: Outcome<T>;
    try {
      out = { ok: true, value: await withWatchdog(label, fn(), this.hangMs) };
    } catch (e) {
      out = { ok: false, error: checkTyped(label, e) };
    }
    this.sim.crashAt = undefined;
    this.sim.target = undefined;
    this.store.crashAt = undefined;
    this.inCall = '';
    const crash = this.pendingCrash ? ` CRASH (${this.pendingCrash.kind}) at ${this.pendingCrash.where}` : '';
    this.trace.line(`${label}${armed} -> ${out.ok ? 'ok' : `${out.error.code}`}${crash}`);
    if (this.violations.length) this.fail(this.violations[0]!);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // The run
  // -------------------------------------------------------------------------------------------

  async run(): Promise<void> {
    const c = this.config;
    this.trace.line(
      `archive seed ${this.seed}: segment ${c.segmentSizeBytes} B, ${c.steps} steps, crash-in-call ${c.crashInCallPercent}%, crash-in-round ${c.crashInRoundPercent}%, outages ${c.outagePercent}%, server checksums ${c.verifiesChecksums}, conditional put ${c.honoursConditionalPut}`,
    );
    this.store = new SimStore(
      new MemoryObjectStore({ verifiesChecksums: c.verifiesChecksums, honoursConditionalPut: c.honoursConditionalPut }),
      new Map(),
      this.storeHooks(),
    );
    await this.live.mkdir('/data/member', { recursive: true });
    for (const d of ['/', '/data', '/data/member']) await this.live.syncDir(d);
    this.boot();
    const created = await this.call('create', () => Wal.create(this.fs, ARCHIVE_WAL_DIR, c.metadata, this.walOptions));
    if (!created.ok) this.fail(`create failed: ${created.error.code}: ${created.error.message}`);
    this.wal = created.value;
    this.snapFiles.push({ index: 0n, term: 0n });
    await this.noteDurable();
    for (let step = 0; step < c.steps; step++) {
      this.stats.steps++;
      await this.step();
    }
    await this.restart('final');
    const r = await this.call('close', () => this.wal!.close());
    if (!r.ok) this.fail(`the final close failed: ${r.error.code}: ${r.error.message}`);
    this.stats.putsToExistingKeys += this.store.putsToExisting;
    this.stats.segments = this.durableSegments.size;
  }

  private async step(): Promise<void> {
    const kind = this.rng.weighted({ save: 55, snapshot: 14, round: 8, background: 4, restart: 3, crash: 3 });
    switch (kind) {
      case 'save':
        return this.save();
      case 'snapshot':
        return this.snapshot();
      case 'round':
        return this.round(false);
      case 'background':
        return this.round(true);
      case 'restart':
        return this.restart('restart');
      case 'crash': {
        const k = this.pickCrash();
        this.trace.line(`CRASH between calls (${k})`);
        this.stats.putsToExistingKeys += this.store.putsToExisting;
        this.store.dead = true;
        const post = k === 'kill' ? this.live : this.live.crash({ seed: this.crashRng.next(), mode: k });
        return this.switchTo({ kind: k, post, store: this.store.survivor(this.storeHooks()), where: 'between calls' });
      }
    }
  }

  /** The next save: 1-4 entries of 1-1500 bytes (a few up to 6 KiB), the HardState committing them. */
  private nextSave(): { hs: HardState; entries: Entry[] } {
    const r = this.rng;
    if (r.chance(4)) {
      this.term++;
      this.vote = r.chance(50) ? BigInt(r.range(1, 5)) : 0n;
    }
    const n = r.range(1, 4);
    const entries: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const size = r.chance(5) ? r.range(1500, 6000) : r.range(1, 1500);
      entries.push({ index: BigInt(this.hist.length + i + 1), term: this.term, type: 0, data: fillBytes(this.dataRng.next(), size) });
    }
    this.hsCommit = this.hist.length + n;
    return { hs: { term: this.term, vote: this.vote, commit: BigInt(this.hist.length + n) }, entries };
  }

  private saveLabel(s: { hs: HardState; entries: Entry[] }): string {
    return `save ${s.entries[0]!.index}..${s.entries[s.entries.length - 1]!.index} (${s.entries.map((e) => e.data!.length).join(',')}) ${hsText(s.hs)}`;
  }

  private async save(): Promise<void> {
    const wal = this.wal!;
    const s = this.nextSave();
    this.hist.push(...s.entries);
    this.stats.saves++;
    const r = await this.call(this.saveLabel(s), () => wal.save(s.hs, s.entries), { crashPercent: this.config.crashInCallPercent });
    if (r.ok) {
      this.acked = this.hist.length;
      this.ackedCommit = Number(s.hs.commit);
      await this.noteDurable();
    }
    return this.settle(r);
  }

  private async snapshot(): Promise<void> {
    const wal = this.wal!;
    // At a committed index (validSnapshotEntries returns only snapshots at or below the last commit).
    if (this.ackedCommit <= this.lastSnap) return this.save();
    const index = this.rng.range(Math.max(this.lastSnap + 1, this.ackedCommit - 4), this.ackedCommit);
    const snap: Snapshot = { index: BigInt(index), term: this.hist[index - 1]!.term };
    this.snapFiles.push(snap); // the .snap file first, as etcd does
    this.stats.snapshots++;
    const r = await this.call(`saveSnapshot ${index}/${snap.term}`, () => wal.saveSnapshot(snap), {
      crashPercent: this.config.crashInCallPercent,
    });
    if (!r.ok) return this.settle(r);
    this.lastSnap = index;
    await this.noteDurable();
    const rl = await this.call(`releaseLockTo ${index}`, () => wal.releaseLockTo(snap.index));
    return this.settle(rl);
  }

  /** A WAL call that failed: only a crash explains it here. */
  private async settle(r: Outcome<unknown>): Promise<void> {
    if (this.pendingCrash) return this.afterCrash();
    if (!r.ok) this.fail(`${this.trace.tail(1)[0] ?? 'a call'} failed with no crash to explain it: ${r.error.code}: ${r.error.message}`);
  }

  /** An archive round during the workload, maybe with an outage, maybe with a crash armed; maybe concurrent with saves (`background`). */
  private async round(background: boolean): Promise<void> {
    const wal = this.wal!;
    const max = this.rng.range(1, 3);
    const concurrency = this.rng.range(1, 3);
    const outage = this.armOutage();
    const saves: { hs: HardState; entries: Entry[] }[] = [];
    for (let i = background ? this.rng.range(1, 3) : 0; i > 0; i--) {
      const s = this.nextSave();
      this.hist.push(...s.entries);
      saves.push(s);
    }
    this.stats.saves += saves.length;
    const liveBefore = await this.liveSegments();
    const fired = this.store.outagesFired;
    const results: PromiseSettledResult<unknown>[] = [];
    const label = `archive round (max ${max}, concurrency ${concurrency})${outage}${saves.length ? ` with ${saves.map((s) => this.saveLabel(s)).join(' | ')}` : ''}`;
    this.stats.rounds++;
    const r = await this.call(
      label,
      async () => {
        const calls: Promise<unknown>[] = [archiveSegments(this.fs, ARCHIVE_WAL_DIR, { max, concurrency })];
        for (const s of saves) calls.push(wal.save(s.hs, s.entries));
        results.push(...(await Promise.allSettled(calls)));
        const bad = results.find((x) => x.status === 'rejected');
        if (bad) throw bad.reason;
        return (results[0] as PromiseFulfilledResult<ArchiveRoundResult>).value;
      },
      { crashPercent: this.config.crashInRoundPercent, span: [6, 16, 40], storeSpan: [3, 8, 16], targeted: true },
    );
    this.store.endOutage();
    const outaged = this.store.outagesFired > fired;
    if (outaged) this.stats.outages++;
    results.forEach((x, i) => {
      if (x.status === 'rejected') checkTyped(`${label} [${i}]`, x.reason);
    });
    // Saves that resolved are acknowledged (each one's sync covers everything before it).
    let ackTo = this.acked;
    let end = this.hist.length - saves.reduce((n, s) => n + s.entries.length, 0);
    saves.forEach((s, i) => {
      end += s.entries.length;
      if (results[i + 1]?.status === 'fulfilled') {
        ackTo = Math.max(ackTo, end);
        this.ackedCommit = Math.max(this.ackedCommit, Number(s.hs.commit));
      }
    });
    this.acked = ackTo;
    if (this.pendingCrash) return this.afterCrash();
    for (let i = 1; i < results.length; i++) {
      const x = results[i]!;
      if (x.status === 'rejected') this.fail(`${label}: save [${i - 1}] failed with no crash to explain it: ${errorCode(x.reason)}`);
    }
    if (saves.length) await this.noteDurable();
    const round = results[0];
    if (round?.status === 'fulfilled') {
      await this.checkRound(label, max, liveBefore, round.value as ArchiveRoundResult);
      return;
    }
    this.stats.roundsFailed++;
    const err = r.ok ? undefined : r.error;
    if (!outaged) this.fail(`${label} failed with no crash or outage to explain it: ${err?.code}: ${err?.message}`);
    // What the round did before the outage stays done; the local tier is checked at the next boot.
  }

  private armOutage(): string {
    if (!this.crashRng.chance(this.config.outagePercent)) return '';
    const at = this.store.requests + 1 + this.crashRng.int(8);
    const len = 1 + this.crashRng.int(4);
    this.store.outage = { at, len };
    return ` [outage of ${len} request(s) armed at store request +${at - this.store.requests}]`;
  }

  /** Live `.wal` names, read directly from the disk (uncounted). */
  private async liveSegments(fs: MemoryFileSystem = this.live): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(ARCHIVE_WAL_DIR);
    } catch {
      return [];
    }
    return names.filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(n)).sort();
  }

  /** After a call that synced the directory: every live segment is durable. */
  private async noteDurable(): Promise<void> {
    for (const n of await this.liveSegments()) this.durableSegments.add(n);
  }

  /** Whether someone (the WAL) holds the lock of a live segment: probed directly on the disk. */
  private async locked(name: string): Promise<boolean> {
    const h = await this.live.open(`${ARCHIVE_WAL_DIR}/${name}`, 'readWrite');
    try {
      await h.tryLock();
      await h.unlock();
      return false;
    } catch (e) {
      if ((e as { code?: string }).code === 'ELOCKED') return true;
      throw e;
    } finally {
      await h.close();
    }
  }

  /** Check 3: what a successful round reports is true, and it left at most `max` released segments locally. */
  private async checkRound(label: string, max: number, liveBefore: readonly string[], r: ArchiveRoundResult): Promise<void> {
    this.stats.archived += r.archived.length;
    this.stats.resumed += r.resumed.length;
    const live = await this.liveSegments();
    const keys = new Set(this.store.inner.keys());
    for (const n of r.archived) {
      if (live.includes(n)) this.fail(`${label}: reported ${n} archived, yet it is still local`);
      if (!keys.has(this.fs.keyOf(`${ARCHIVE_WAL_DIR}/${n}`)))
        this.fail(`${label}: reported ${n} archived, yet the store has no object for it`);
      if (!liveBefore.includes(n)) this.fail(`${label}: archived ${n}, which was not a live segment when the round started`);
    }
    const released: string[] = [];
    for (const n of live) if (!(await this.locked(n))) released.push(n);
    if (released.length > max)
      this.fail(
        `${label}: after the round the local tier holds ${released.length} segments the WAL does not hold (${released.join(' ')}), more than max ${max}; the round returned ${JSON.stringify(r)}`,
      );
    if (r.blockedBy !== undefined) {
      if (live.includes(r.blockedBy) && !(await this.locked(r.blockedBy)))
        this.fail(`${label}: blocked by ${r.blockedBy}, which nobody holds`);
      const older = live.filter((n) => n < r.blockedBy! && !r.archived.includes(n));
      if (older.length) this.fail(`${label}: blocked by ${r.blockedBy}, yet older released segments stay local: ${older.join(' ')}`);
    }
    this.trace.line(
      `  archived ${r.archived.length ? r.archived.map((n) => n.slice(0, 16).replace(/^0+(?=.)/, '')).join(',') : 'nothing'}${r.resumed.length ? ` (resumed ${r.resumed.length})` : ''}${r.blockedBy ? `, blocked by seq ${r.blockedBy.slice(0, 16).replace(/^0+(?=.)/, '')}` : ''}; local ${live.length} (${released.length} released)`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Crashes, restarts, start-up
  // -------------------------------------------------------------------------------------------

  private async afterCrash(): Promise<void> {
    const c = this.pendingCrash!;
    this.stats.putsToExistingKeys += this.store.putsToExisting;
    return this.switchTo(c);
  }

  private async switchTo(c: PendingCrash): Promise<void> {
    this.pendingCrash = undefined;
    if (c.kind === 'kill') this.stats.kills++;
    else this.stats.crashes++;
    // The process is gone: its handles close (locks released); its store requests go nowhere.
    this.sim.crashed ??= { op: this.sim.ops, what: 'process killed' };
    await this.sim.kill();
    this.wal = undefined;
    this.live = c.post;
    this.store = c.store;
    this.boot();
    await this.bootstrap(c.kind === 'kill' ? 'a kill' : `a power cut (${c.kind})`, true);
  }

  /** A clean restart: close (a crash may strike in it), then start again on the same disk and store. */
  private async restart(why: string): Promise<void> {
    const wal = this.wal!;
    const r = await this.call(`close (${why})`, () => wal.close(), { crashPercent: why === 'final' ? 0 : this.config.crashInCallPercent });
    if (this.pendingCrash) return this.afterCrash();
    if (!r.ok) this.fail(`close failed with no crash to explain it: ${r.error.code}: ${r.error.message}`);
    this.acked = this.hist.length;
    this.ackedCommit = this.hsCommit;
    this.wal = undefined;
    this.stats.putsToExistingKeys += this.store.putsToExisting;
    this.store.putsToExisting = 0;
    await this.sim.kill();
    this.boot();
    await this.bootstrap(`a restart (${why})`, false);
  }

  /**
   * The node starts as etcd does — validSnapshotEntries, open at the newest snapshot it has a .snap file
   * for, readAll (on an unexpected EOF: close, repair once, retry) — with checks 1 and 2 before and after,
   * then an archive round (check 3). Nothing but that round is crash-armed: the checks run on what the crash left.
   */
  private async bootstrap(after: string, crashed: boolean): Promise<void> {
    await this.checkTiers(after);
    // Sometimes the store is down while the node starts: it must start from its local segments
    // (S3ArchiveFileSystem's default whenArchiveUnavailable 'live-only'). The outage ends before check 1.
    const downAtStart = this.crashRng.chance(this.config.outagePercent / 2);
    if (downAtStart) {
      this.stats.outagesAtStartUp++;
      this.store.inner.failNext(1_000_000);
      this.trace.line('  the store is down while the node starts');
      after += ' (the store down while the node starts)';
    }

    const vse = await this.call('validSnapshotEntries', () => Wal.validSnapshotEntries(this.fs, ARCHIVE_WAL_DIR));
    if (!vse.ok) this.fail(`after ${after}: validSnapshotEntries failed: ${vse.error.code}: ${vse.error.message}: the node cannot start`);
    let snap: Snapshot = { index: 0n, term: 0n };
    for (const s of vse.value) if (this.snapFiles.some((f) => f.index === s.index && f.term === s.term)) snap = s;
    let repaired = false;
    let wal: Wal;
    let read: { hardState: HardState; entries: Entry[] };
    for (;;) {
      const opened = await this.call(`open at ${snap.index}/${snap.term}`, () => Wal.open(this.fs, ARCHIVE_WAL_DIR, snap, this.walOptions));
      if (!opened.ok)
        this.fail(`after ${after}: the WAL cannot be opened at ${snap.index}/${snap.term}: ${opened.error.code}: ${opened.error.message}`);
      wal = opened.value;
      const w = wal;
      const r = await this.call('readAll', () => w.readAll());
      if (r.ok) {
        read = r.value;
        break;
      }
      await this.call('close', () => w.close());
      if (r.error.code !== 'WAL_UNEXPECTED_EOF' || !crashed || repaired)
        this.fail(`after ${after}: readAll at ${snap.index}/${snap.term} failed: ${r.error.code}: ${r.error.message}`);
      const rep = await this.call('repair', () => Wal.repair(this.fs, ARCHIVE_WAL_DIR));
      if (!rep.ok || !rep.value) this.fail(`after ${after}: repair of a torn tail returned ${rep.ok ? 'false' : rep.error.code}`);
      this.stats.repairs++;
      repaired = true;
    }
    this.wal = wal;
    if (downAtStart) {
      this.store.endOutage();
      this.trace.line('  the store is back');
    }

    // Check 1: the acknowledged history, from the start snapshot (write mode) and from index 0 (both tiers).
    const k = snap.index + BigInt(read.entries.length);
    this.checkEntries(`readAll at ${snap.index}/${snap.term} after ${after}`, read.entries, Number(snap.index) + 1);
    if (read.hardState.commit > k) this.fail(`after ${after}: HardState ${hsText(read.hardState)} commits past the last entry ${k}`);
    if (Number(read.hardState.commit) < this.ackedCommit)
      this.fail(`after ${after}: HardState ${hsText(read.hardState)} lost the acknowledged commit ${this.ackedCommit}`);
    this.hsCommit = Number(read.hardState.commit);
    if (Number(snap.index) < this.lastSnap)
      this.fail(`after ${after}: validSnapshotEntries lost the acknowledged snapshot at ${this.lastSnap} (newest usable: ${snap.index})`);
    this.hist.length = Number(k);
    const last = this.hist[this.hist.length - 1];
    this.term = last && last.term > this.term ? last.term : this.term;
    this.trace.line(
      `  read ${hsText(read.hardState)}, ${read.entries.length} entries after ${snap.index}; history ${k} (${this.acked} acknowledged)`,
    );
    await this.noteDurable(); // open synced the directory

    const all = await this.call('openForRead at 0 + readAll (both tiers)', async () => {
      const r = await Wal.openForRead(this.fs, ARCHIVE_WAL_DIR, { index: 0n, term: 0n });
      try {
        return await r.readAll();
      } finally {
        await r.close().catch(() => {});
      }
    });
    if (!all.ok) this.fail(`after ${after}: reading from index 0 across both tiers failed: ${all.error.code}: ${all.error.message}`);
    this.checkEntries(`openForRead at 0 after ${after}`, all.value.entries, 1);
    if (all.value.entries.length !== this.hist.length)
      this.fail(
        `after ${after}: openForRead at 0 returned ${all.value.entries.length} entries, the WAL open at ${snap.index} reads to ${k}`,
      );

    // Check 3: the next round completes (an injected outage may fail it, typed; then the one after completes).
    for (let attempt = 0; ; attempt++) {
      const max = this.rng.range(1, 3);
      const concurrency = this.rng.range(1, 3);
      const outage = attempt === 0 ? this.armOutage() : '';
      const fired = this.store.outagesFired;
      const liveBefore = await this.liveSegments();
      const label = `archive round after start-up (max ${max}, concurrency ${concurrency})${outage}`;
      this.stats.rounds++;
      // The first round may itself crash (the next start-up then checks what it left).
      const r = await this.call(
        label,
        () => archiveSegments(this.fs, ARCHIVE_WAL_DIR, { max, concurrency }),
        attempt === 0
          ? { crashPercent: this.config.crashInRoundPercent / 2, span: [6, 16, 40], storeSpan: [3, 8, 16], targeted: true }
          : {},
      );
      this.store.endOutage();
      if (this.pendingCrash) return this.afterCrash();
      if (r.ok) {
        await this.checkRound(label, max, liveBefore, r.value);
        break;
      }
      this.stats.roundsFailed++;
      if (this.store.outagesFired === fired)
        this.fail(`after ${after}: ${label} failed with no outage to explain it: ${r.error.code}: ${r.error.message}`);
      this.stats.outages++;
    }
    await this.checkTiers(`the round after ${after}`);
  }

  /** `entries` must be the history from index `from` on, exactly, and cover every acknowledged entry. */
  private checkEntries(what: string, entries: readonly Entry[], from: number): void {
    for (let i = 0; i < entries.length; i++) {
      const want = this.hist[from - 1 + i];
      const got = entries[i]!;
      if (!want) this.fail(`${what}: entry ${got.index}/${got.term} was never written (history ends at ${this.hist.length})`);
      if (!sameEntry(want, got))
        this.fail(
          `${what}: entry [${i}] is ${got.index}/${got.term} (${got.data?.length ?? 'no'} B), written as ${want.index}/${want.term} (${want.data?.length} B)`,
        );
    }
    const end = from - 1 + entries.length;
    if (end < this.acked) this.fail(`${what}: reads to entry ${end}, but ${this.acked} are acknowledged durable; first lost: ${end + 1}`);
  }

  /**
   * Checks 2 and 4 on the tiers as they are: every object matches its metadata and its first bytes ever;
   * an object whose segment is also local holds the same bytes; every segment known durable is in a tier.
   */
  private async checkTiers(when: string): Promise<void> {
    const dirPrefix = this.fs.dirPrefix(ARCHIVE_WAL_DIR);
    const peek = this.store.inner.clone(); // reads that leave the store's log and outage untouched
    const live = new Set(await this.liveSegments());
    const archived = new Set<string>();
    for (const key of peek.keys()) {
      const name = key.slice(dirPrefix.length);
      if (!key.startsWith(dirPrefix)) this.fail(`after ${when}: object ${key} outside the WAL's prefix ${dirPrefix}`);
      const info = (await peek.head(key))!;
      const bytes = await peek.get(key);
      let facts;
      try {
        facts = metadataToFacts(key, name, info.metadata);
      } catch (e) {
        this.fail(`after ${when}: object ${key} has no valid metadata: ${(e as Error).message}`);
      }
      const crc = crc32(bytes);
      if (facts.size !== bytes.length || facts.crc32c !== crc)
        this.fail(
          `after ${when}: object ${key} holds ${bytes.length} B with CRC-32C ${hex(crc)}; its metadata says ${facts.size} B, ${hex(facts.crc32c)}`,
        );
      const first = this.store.first.get(key);
      if (first && (first.size !== bytes.length || first.crc !== crc))
        this.fail(
          `after ${when}: object ${key} changed since it was first stored (${first.size} B ${hex(first.crc)} -> ${bytes.length} B ${hex(crc)})`,
        );
      if (live.has(name)) {
        const local = await readFile(this.live, `${ARCHIVE_WAL_DIR}/${name}`);
        if (local.length !== bytes.length || crc32(local) !== crc)
          this.fail(
            `after ${when}: ${name} is local (${local.length} B ${hex(crc32(local))}) and archived with other bytes (${bytes.length} B ${hex(crc)})`,
          );
      }
      archived.add(name);
    }
    const lost = [...this.durableSegments].filter((n) => !live.has(n) && !archived.has(n)).sort();
    if (lost.length)
      this.fail(`after ${when}: segment(s) ${lost.join(' ')} exist neither locally nor as an object (local: ${[...live].join(' ')})`);
    this.trace.line(`  tiers after ${when}: ${live.size} local, ${archived.size} archived, ${this.durableSegments.size} known`);
  }
}

async function readFile(fs: MemoryFileSystem, path: string): Promise<Uint8Array> {
  const st = await fs.stat(path);
  const h = await fs.open(path, 'read');
  try {
    const buf = new Uint8Array(st.size);
    if (st.size) await h.read(buf, 0, st.size, 0);
    return buf;
  } finally {
    await h.close();
  }
}
