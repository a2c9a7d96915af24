/**
 * The trace of a simulated run: one line per step (WAL call, crash, bootstrap, check). Every line feeds a
 * running SHA-256, so "the same seed gives the same trace hash" is one comparison; only the last lines are
 * kept for a failure report unless the run is verbose (then every line is kept, and optionally printed as it
 * happens).
 */
import { createHash, type Hash } from 'node:crypto';

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  private readonly ring: string[] = [];
  private readonly all: string[] | undefined;
  private count = 0;

  constructor(
    private readonly keep = 30,
    options: { verbose?: boolean; echo?: (line: string) => void } = {},
  ) {
    this.all = options.verbose ? [] : undefined;
    this.echo = options.echo;
  }

  private readonly echo: ((line: string) => void) | undefined;

  /** Appends a line (it must not contain anything non-deterministic: no times, no addresses). */
  line(text: string): void {
    const l = `${this.count}: ${text}`;
    this.count++;
    this.hash.update(l);
    this.hash.update('\n');
    this.ring.push(l);
    if (this.ring.length > this.keep) this.ring.shift();
    this.all?.push(l);
    this.echo?.(l);
  }

  /** Number of lines so far. */
  get length(): number {
    return this.count;
  }

  /** The last lines kept (all of them in verbose mode). */
  lines(): string[] {
    return this.all ? [...this.all] : [...this.ring];
  }

  /** The last `n` lines. */
  tail(n: number): string[] {
    const src = this.all ?? this.ring;
    return src.slice(Math.max(0, src.length - n));
  }

  /** Hex SHA-256 of every line so far (call once, at the end). */
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}
