/**
 * The real S3 server of the tests: Ceph RADOS Gateway started by `<repo>/../shared/s3/s3-server.sh`
 * (see its README for how it differs from AWS). `test/s3-server.ts` (vitest globalSetup) starts it once
 * per run and `provide`s its settings as `s3` (read them with `inject('s3')`, or {@link s3Env}); the
 * helpers here give each test a store under a fresh prefix and crash / restart the gateway.
 *
 * Walnut's instances use their own state dirs and ports ({@link MAIN_LAB}, {@link CRASH_LAB}), so they never
 * collide with another s3-server.sh instance (default `/tmp/s3lab` on 17480/13301).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/s3-object-store.js';

/** What `s3-server.sh start --json` prints. */
export interface S3Env {
  readonly S3_ENDPOINT: string;
  readonly S3_REGION: string;
  readonly S3_ACCESS_KEY_ID: string;
  readonly S3_SECRET_ACCESS_KEY: string;
  readonly S3_BUCKET: string;
  readonly S3_FORCE_PATH_STYLE: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running test server's settings (from `test/s3-server.ts`). */
    s3: S3Env;
  }
}

/** `<repo>/../shared/s3/s3-server.sh`, resolved from this file (never from the working directory). */
export const S3_SERVER_SCRIPT = fileURLToPath(new URL('../../../../../shared/s3/s3-server.sh', import.meta.url));

/** One instance of the server: its state dir, ports and OSD store. */
export interface S3Lab {
  readonly dir: string;
  readonly port: number;
  readonly monPort: number;
  readonly store: 'bluestore' | 'memstore';
}

/**
 * The instance every test shares (started by the globalSetup): `<os tmp>/walnut-s3lab`, ports 17581 and
 * 13381, BlueStore. `S3LAB_DIR`, `S3LAB_PORT`, `S3LAB_MON_PORT` in the environment override them.
 */
export const MAIN_LAB: S3Lab = {
  dir: process.env.S3LAB_DIR ?? join(tmpdir(), 'walnut-s3lab'),
  port: Number(process.env.S3LAB_PORT ?? 17581),
  monPort: Number(process.env.S3LAB_MON_PORT ?? 13381),
  store: 'bluestore',
};

/**
 * A second instance only for tests that crash the gateway, so they never pull the server from under
 * test files running in parallel: `<os tmp>/walnut-s3lab-crash`, ports 17582 and 13382, memstore (starts in
 * about 2 s; its data survives `kill9 rgw`, not `stop`). Started and purged by the test file that uses it.
 */
export const CRASH_LAB: S3Lab = { dir: join(tmpdir(), 'walnut-s3lab-crash'), port: 17582, monPort: 13382, store: 'memstore' };

/** The environment the script runs with for `lab`. */
export function scriptEnv(lab: S3Lab = MAIN_LAB): NodeJS.ProcessEnv {
  // No colours: the script reads HTTP statuses that its `node -e` helper prints with console.log, which
  // colours numbers when FORCE_COLOR is set (nx sets it), so "200" would not compare equal.
  const { FORCE_COLOR: _forceColor, ...env } = process.env;
  return {
    ...env,
    NO_COLOR: '1',
    S3LAB_DIR: lab.dir,
    S3LAB_PORT: String(lab.port),
    S3LAB_MON_PORT: String(lab.monPort),
    S3LAB_STORE: lab.store,
  };
}

/** Runs `s3-server.sh <args>` for `lab`; stderr (progress) goes to ours. Returns stdout. */
export function runScript(args: string[], lab: S3Lab = MAIN_LAB, timeoutMs = 240_000): string {
  return execFileSync('bash', [S3_SERVER_SCRIPT, ...args], {
    env: scriptEnv(lab),
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * Starts (or resumes, e.g. after {@link killServer}) the server and returns its settings. `start` is
 * idempotent, so a failed start (seen on a loaded machine: a gateway that came up slowly, or state left
 * by an earlier run that does not resume) is retried once, then once more from a fresh state directory —
 * the tests use unique prefixes and need nothing from earlier runs.
 */
export function startServer(lab: S3Lab = MAIN_LAB): S3Env {
  const attempts: (() => void)[] = [() => {}, () => sleepSync(3000), () => runScript(['purge'], lab, 120_000)];
  let last: unknown;
  for (const [i, before] of attempts.entries()) {
    try {
      before();
      return JSON.parse(runScript(['start', '--json'], lab)) as S3Env;
    } catch (e) {
      last = e;
      process.stderr.write(`s3-lab: start attempt ${i + 1} of ${attempts.length} failed: ${(e as Error).message}\n`);
    }
  }
  throw last;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGKILLs the gateway (`kill9 rgw`) or the whole cluster (`kill9 all`); {@link startServer} brings it back. */
export function killServer(which: 'rgw' | 'all' = 'rgw', lab: S3Lab = MAIN_LAB): void {
  runScript(['kill9', which], lab, 60_000);
}

/** {@link killServer} without blocking the event loop (for a kill while requests are in flight). */
export function killServerAsync(which: 'rgw' | 'all' = 'rgw', lab: S3Lab = MAIN_LAB): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [S3_SERVER_SCRIPT, 'kill9', which], { env: scriptEnv(lab), timeout: 60_000 }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

/** Stops the daemons (SIGTERM); `purge` also deletes the state directory. */
export function stopServer(lab: S3Lab = MAIN_LAB, purge = false): void {
  runScript([purge ? 'purge' : 'stop'], lab, 120_000);
}

/** The settings the globalSetup provided (only inside test files). */
export function s3Env(): S3Env {
  return inject('s3');
}

/** A key prefix no other test (or earlier run) uses: `walnut-test/<label>/<random>/`. */
export function uniquePrefix(label = 't'): string {
  return `walnut-test/${label}/${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/`;
}

/** Store options for the test server (`env`: another instance's settings), before overrides. */
export function s3StoreOptions(overrides: Partial<S3ObjectStoreOptions> = {}, env: S3Env = s3Env()): S3ObjectStoreOptions {
  return {
    bucket: env.S3_BUCKET,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    ...overrides,
  };
}

/** An {@link S3ObjectStore} on the test bucket with a fresh prefix: keys the test writes should start with `prefix`. */
export function freshS3Store(
  overrides: Partial<S3ObjectStoreOptions> = {},
  label?: string,
  env: S3Env = s3Env(),
): { store: S3ObjectStore; prefix: string } {
  const prefix = uniquePrefix(label);
  return { store: new S3ObjectStore(s3StoreOptions({ prefix, ...overrides }, env)), prefix };
}
