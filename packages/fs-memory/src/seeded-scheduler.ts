/**
 * {@link SeededScheduler}: latency and completion order of file system operations from a seed, in
 * virtual time. No clock is read: an operation admitted at virtual time `t` is due at `t + latency`
 * (latency drawn from the seed); whenever the event loop has nothing else to do (a `setImmediate`
 * turn: every promise callback has run), the due-first operation (ties: first admitted) proceeds and
 * virtual time jumps to its due time. Operations in flight together thus complete in a seeded order,
 * and the same program with the same seed sees the same order.
 */
import type { OperationInfo, OperationScheduler } from './fault-injecting-file-system.js';
import { SplitMix64, toSeed } from './prng.js';

/** Options of {@link SeededScheduler}. */
export interface SeededSchedulerOptions {
  /** Seeds the latencies: the same seed and operations give the same order. */
  readonly seed: number | bigint;
  /** Largest latency drawn, in virtual milliseconds (uniform in [0, maxLatency]; default 10). */
  readonly maxLatency?: number;
}

interface Waiting {
  readonly due: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** See the module comment. Pass it as `FaultInjectingFileSystem`'s `scheduler`. */
export class SeededScheduler implements OperationScheduler {
  readonly #rng: SplitMix64;
  readonly #maxLatency: number;
  readonly #waiting: Waiting[] = [];
  #now = 0;
  #seq = 0;
  #turnQueued = false;

  constructor(options: SeededSchedulerOptions) {
    this.#rng = new SplitMix64(toSeed(options.seed, 'SeededScheduler: seed'));
    const max = options.maxLatency ?? 10;
    if (!Number.isSafeInteger(max) || max < 0)
      throw new RangeError(`SeededScheduler: maxLatency must be a non-negative integer, got ${max}`);
    this.#maxLatency = max;
  }

  /** Virtual time in milliseconds (usable as a WAL clock's `now`). */
  now(): number {
    return this.#now;
  }

  /** Number of operations waiting to proceed. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves when the operation may run (see the module comment). */
  admit(_op: OperationInfo): Promise<void> {
    const due = this.#now + this.#rng.int(this.#maxLatency + 1);
    return new Promise<void>((resolve) => {
      this.#waiting.push({ due, seq: ++this.#seq, resolve });
      this.#queueTurn();
    });
  }

  /**
   * Runs `task` once it is admitted like an operation: usable as `WalOptions.scheduler`, so the WAL's
   * background work (the file pipeline) interleaves with its other operations in a seeded order.
   */
  readonly schedule = (task: () => Promise<void>): void => {
    void this.admit({ index: 0, kind: 'open', path: '' }).then(() => task());
  };

  #queueTurn(): void {
    if (this.#turnQueued) return;
    this.#turnQueued = true;
    setImmediate(() => this.#turn());
  }

  #turn(): void {
    this.#turnQueued = false;
    if (this.#waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < this.#waiting.length; i++) {
      const w = this.#waiting[i]!;
      const b = this.#waiting[best]!;
      if (w.due < b.due || (w.due === b.due && w.seq < b.seq)) best = i;
    }
    const [next] = this.#waiting.splice(best, 1);
    this.#now = Math.max(this.#now, next!.due);
    next!.resolve();
    if (this.#waiting.length > 0) this.#queueTurn();
  }
}
