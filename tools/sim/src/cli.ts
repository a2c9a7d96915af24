#!/usr/bin/env node
/**
 * `npm run sim -- --seeds N --from S [--verbose] [--steps K]`: runs the simulation for seeds S..S+N-1 and
 * reports seeds per second and failures; each failure prints the one-line command that replays it and the
 * end of its trace.
 *
 * `npm run sim -- --archive --seeds N --from S`: the same for the archive simulation (archive-sim.ts): a WAL
 * on S3ArchiveFileSystem, archive rounds, crashes between upload and local delete, store outages.
 *
 * `npm run sim -- --fuzz N --from S`: runs N structure-aware fuzz cases (fuzz.ts) from case S.
 *
 * Exit code: 0 if every seed / case passed, 1 if any failed, 2 on bad arguments.
 */
import { archiveReplayCommand, runArchiveSeed } from './archive-sim.js';
import { runFuzzCase, type FuzzResult } from './fuzz.js';
import { runSeed } from './runner.js';

interface Args {
  seeds: number;
  from: bigint;
  fuzz: number | undefined;
  verbose: boolean;
  steps: number | undefined;
  determinism: boolean;
  archive: boolean;
}

/** What the CLI needs of a seed's result (either simulation). */
interface AnySeedResult {
  readonly seed: bigint;
  readonly ok: boolean;
  readonly hash: string;
  readonly failure?: string;
  readonly trace: string[];
  readonly stats: object;
}

const USAGE = `usage: npm run sim -- [--archive] [--seeds N] [--from S] [--verbose] [--steps K] [--determinism]
       npm run sim -- --fuzz N [--from S] [--verbose]

  --seeds N        simulate N seeds (default 100)
  --from S         first seed / fuzz case (default 0)
  --verbose        print every trace line (use with --seeds 1 to replay a failure)
  --steps K        workload steps per seed (default: chosen by the seed, 25-70)
  --determinism    run every seed twice and require the same trace hash
  --archive        the archive simulation (fs-s3-archive: rounds, crashes between upload and delete, outages)
  --fuzz N         run N fuzz cases instead of simulations`;

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seeds: 100, from: 0n, fuzz: undefined, verbose: false, steps: undefined, determinism: false, archive: false };
  const int = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${flag} needs a non-negative integer, got ${v ?? 'nothing'}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    switch (f) {
      case '--seeds':
        a.seeds = int(f, argv[++i]);
        break;
      case '--from': {
        const v = argv[++i];
        if (v === undefined || !/^\d+$/.test(v)) throw new Error(`--from needs a non-negative integer, got ${v ?? 'nothing'}`);
        a.from = BigInt(v);
        break;
      }
      case '--fuzz':
        a.fuzz = int(f, argv[++i]);
        break;
      case '--steps':
        a.steps = int(f, argv[++i]);
        break;
      case '--verbose':
      case '-v':
        a.verbose = true;
        break;
      case '--determinism':
        a.determinism = true;
        break;
      case '--archive':
        a.archive = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${f}`);
    }
  }
  return a;
}

function rate(n: number, ms: number): string {
  return ms > 0 ? (n / (ms / 1000)).toFixed(1) : '∞';
}

async function simulate(a: Args): Promise<number> {
  const t0 = performance.now();
  const failures: AnySeedResult[] = [];
  const runOne = (seed: bigint, o: { verbose?: boolean; echo?: (l: string) => void; steps?: number }): Promise<AnySeedResult> =>
    a.archive ? runArchiveSeed(seed, o) : runSeed(seed, o);
  const totals = new Map<string, number>();
  let lastReport = t0;
  const single = a.seeds === 1 && a.verbose;
  for (let i = 0; i < a.seeds; i++) {
    const seed = a.from + BigInt(i);
    const r = await runOne(seed, {
      verbose: a.verbose,
      ...(single ? { echo: (l: string) => console.log(l) } : {}),
      ...(a.steps === undefined ? {} : { steps: a.steps }),
    });
    for (const [k, v] of Object.entries(r.stats) as [string, number][]) totals.set(k, (totals.get(k) ?? 0) + v);
    let result = r;
    if (a.determinism && r.ok) {
      const again = await runOne(seed, { ...(a.steps === undefined ? {} : { steps: a.steps }) });
      if (again.hash !== r.hash) {
        result = { ...r, ok: false, failure: `not deterministic: trace hash ${r.hash} then ${again.hash}` };
      }
    }
    if (!result.ok) {
      failures.push(result);
      printFailure(result, a);
    } else if (single) {
      console.log(`seed ${seed} ok, trace hash ${r.hash}`);
    }
    const now = performance.now();
    if (!single && now - lastReport > 5000) {
      lastReport = now;
      console.log(`  ... ${i + 1}/${a.seeds} seeds, ${rate(i + 1, now - t0)} seeds/s, ${failures.length} failed`);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `${a.archive ? 'archive sim' : 'sim'}: ${a.seeds} seeds (${a.from}..${a.from + BigInt(a.seeds) - 1n}) in ${(ms / 1000).toFixed(1)} s: ${rate(a.seeds, ms)} seeds/s, ${failures.length} failed${failures.length ? `: ${failures.map((f) => f.seed).join(' ')}` : ''}`,
  );
  console.log(`     totals: ${[...totals].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return failures.length ? 1 : 0;
}

function printFailure(r: AnySeedResult, a: Args): void {
  const steps = a.steps === undefined ? '' : ` --steps ${a.steps}`;
  console.log(`\nFAILED seed ${r.seed}: ${r.failure}`);
  console.log(
    `  replay: ${a.archive ? archiveReplayCommand(r.seed, a.steps) : `npm run sim -- --seeds 1 --from ${r.seed}${steps} --verbose`}`,
  );
  if (!(a.seeds === 1 && a.verbose)) {
    console.log('  last trace lines:');
    for (const l of r.trace.slice(-30)) console.log(`    ${l}`);
  }
  console.log('');
}

async function fuzz(a: Args): Promise<number> {
  const n = a.fuzz!;
  const t0 = performance.now();
  const failures: FuzzResult[] = [];
  let lastReport = t0;
  for (let i = 0; i < n; i++) {
    const c = a.from + BigInt(i);
    const r = await runFuzzCase(c);
    if (!r.ok) {
      failures.push(r);
      console.log(`\nFAILED fuzz case ${c}: ${r.failure}`);
      console.log(`  case: ${r.description}`);
      console.log(`  replay: npm run sim -- --fuzz 1 --from ${c} --verbose\n`);
    } else if (a.verbose) {
      console.log(`case ${c}: ${r.description}\n  ${r.outcomes.join('\n  ')}`);
    }
    const now = performance.now();
    if (now - lastReport > 5000) {
      lastReport = now;
      console.log(`  ... ${i + 1}/${n} cases, ${rate(i + 1, now - t0)} cases/s, ${failures.length} failed`);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `fuzz: ${n} cases (${a.from}..${a.from + BigInt(n) - 1n}) in ${(ms / 1000).toFixed(1)} s: ${rate(n, ms)} cases/s, ${failures.length} failed${failures.length ? `: ${failures.map((f) => f.id).join(' ')}` : ''}`,
  );
  return failures.length ? 1 : 0;
}

async function main(): Promise<void> {
  let a: Args;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`sim: ${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = a.fuzz !== undefined ? await fuzz(a) : await simulate(a);
}

await main();
