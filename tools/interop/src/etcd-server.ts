/**
 * A real etcd server (Debian's etcd-server 3.4) on 127.0.0.1 ports of its own, for the lock interop test:
 * install it with apt-get when missing (DESIGN §7: fail with the exact command where that is impossible,
 * never skip), start it on a data directory, wait until it is healthy, talk to it with etcdctl, stop it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, openSync, closeSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The Debian packages holding `etcd` and `etcdctl`. */
export const ETCD_SERVER_APT_PACKAGES = ['etcd-server', 'etcd-client'] as const;

/** The command an operator runs when the automatic install fails. */
export const ETCD_SERVER_INSTALL_COMMAND = `apt-get update && apt-get install -y ${ETCD_SERVER_APT_PACKAGES.join(' ')}`;

/** Paths of the installed binaries. */
export interface EtcdBinaries {
  readonly etcd: string;
  readonly etcdctl: string;
}

let pending: Promise<EtcdBinaries> | undefined;

/**
 * Returns the `etcd` and `etcdctl` binaries, installing etcd-server and etcd-client with apt-get if either
 * is missing (apt-get install first; apt-get update and again if that fails). Throws with the exact
 * command to run where the install is impossible. Memoized per process.
 */
export function ensureEtcdServer(): Promise<EtcdBinaries> {
  pending ??= install().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function install(): Promise<EtcdBinaries> {
  const found = await findBinaries();
  if (found) return found;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const installArgs = ['install', '-y', '-o', 'DPkg::Lock::Timeout=300', ...ETCD_SERVER_APT_PACKAGES];
  const failures: string[] = [];
  try {
    await run('apt-get', installArgs, { env, timeoutMs: 600_000 });
  } catch (err) {
    failures.push(describe(err));
    try {
      // The package lists may be missing or stale; another job may hold their lock for a moment.
      await retry(3, () => run('apt-get', ['update'], { env, timeoutMs: 600_000 }));
      await run('apt-get', installArgs, { env, timeoutMs: 600_000 });
    } catch (err2) {
      failures.push(describe(err2));
    }
  }
  const after = await findBinaries();
  if (after) return after;
  throw new Error(
    `the etcd lock interop test needs etcd and etcdctl (Debian's ${ETCD_SERVER_APT_PACKAGES.join(', ')}); installing them failed. Run:\n` +
      `  ${ETCD_SERVER_INSTALL_COMMAND}\n(as root or with sudo), then run the tests again.\n${failures.join('\n')}`,
  );
}

async function findBinaries(): Promise<EtcdBinaries | undefined> {
  const etcd = await findOnPath('etcd');
  const etcdctl = await findOnPath('etcdctl');
  return etcd && etcdctl ? { etcd, etcdctl } : undefined;
}

async function findOnPath(name: string): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => join(d, name)), join('/usr/bin', name)]) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel; another process could take it before etcd does). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** How a started etcd ended. */
export interface EtcdExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running (or finished) etcd process. */
export interface EtcdProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<client port>`. */
  readonly endpoint: string;
  /** Where etcd logs (zap JSON lines). */
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<EtcdExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. Safe to call at any time. */
  stop(graceMs?: number): Promise<EtcdExit>;
}

export interface StartEtcdOptions {
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly logFile: string;
  readonly name?: string;
  /** etcd's --snapshot-count (default: etcd's own). */
  readonly snapshotCount?: number;
}

/**
 * Starts `etcd` as a single-member cluster on 127.0.0.1 only, logging to `logFile`. Environment variables
 * named ETCD_* are not passed on: etcd reads them as flags (Debian's /etc/default/etcd sets some).
 */
export function startEtcd(bin: string, o: StartEtcdOptions): EtcdProcess {
  const name = o.name ?? 'walnut-interop';
  const endpoint = `http://127.0.0.1:${o.clientPort}`;
  const peer = `http://127.0.0.1:${o.peerPort}`;
  const args = [
    '--name',
    name,
    '--data-dir',
    o.dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `${name}=${peer}`,
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    `${name}-token`,
    '--logger=zap',
    `--log-outputs=${o.logFile}`,
    ...(o.snapshotCount === undefined ? [] : [`--snapshot-count=${o.snapshotCount}`]),
  ];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
  // etcd writes its log to the file; stdout/stderr only carry what happens before the logger is up.
  const out = openSync(`${o.logFile}.stderr`, 'a');
  const child = spawn(bin, args, { env, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<EtcdExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  const stop = async (graceMs = 10_000): Promise<EtcdExit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  return { child, endpoint, logFile: o.logFile, exited, stop };
}

/**
 * Waits until etcd answers `/health` with `"health":"true"`; rejects if it exits first or `timeoutMs`
 * passes (the message says which).
 */
export async function waitHealthy(p: EtcdProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: EtcdExit | undefined;
  void p.exited.then((e) => (exited = e));
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`etcd exited (code ${exited.code}, signal ${exited.signal}) before it was healthy; log: ${p.logFile}`);
    try {
      const res = await fetch(`${p.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      last = await res.text();
      if (res.ok && /"health"\s*:\s*"true"/.test(last)) return;
    } catch (err) {
      last = describe(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${p.endpoint} was not healthy within ${timeoutMs} ms (last answer: ${last}); log: ${p.logFile}`);
}

/** Runs `etcdctl --endpoints <endpoint> <args>` (API v3) and returns its stdout. */
export function etcdctl(bin: string, endpoint: string, args: readonly string[], timeoutMs = 15_000): Promise<string> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCDCTL_'))), ETCDCTL_API: '3' };
  return run(bin, [`--endpoints=${endpoint}`, '--dial-timeout=5s', '--command-timeout=10s', ...args], { env, timeoutMs });
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
}

function run(cmd: string, args: readonly string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr.split('\n').slice(-20).join('\n')}`));
      else resolve(stdout);
    });
  });
}

async function retry<T>(times: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= times) throw err;
      await new Promise((r) => setTimeout(r, 2000 * i));
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
