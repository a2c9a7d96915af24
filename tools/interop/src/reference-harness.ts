/**
 * Locates, installs and builds `etcdwal`, the reference harness in `../shared/reference`: a small Go
 * program compiled against the real etcd 3.4 `wal` package from Debian's golang-etcd-server-dev.
 *
 * DESIGN §7: the test setup installs missing Debian packages with apt-get and, where it cannot,
 * fails with the exact command to run. It never skips.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Debian packages the harness needs. */
export const REFERENCE_APT_PACKAGES = ['golang-go', 'golang-etcd-server-dev'] as const;

/** The command an operator runs when the automatic install fails. */
export const REFERENCE_INSTALL_COMMAND = `apt-get update && apt-get install -y ${REFERENCE_APT_PACKAGES.join(' ')}`;

/** Where golang-etcd-server-dev puts its sources (GOPATH mode; `ETCD_GOPATH` overrides, as in build.sh). */
export function referenceGopath(): string {
  return process.env['ETCD_GOPATH'] || '/usr/share/gocode';
}

/**
 * Source directories `etcdwal/main.go` imports. golang-etcd-server-dev depends on the packages holding
 * the last two, so checking them catches a half-installed system, not only a missing etcd.
 */
const REQUIRED_SOURCES = [
  'src/go.etcd.io/etcd/wal/wal.go',
  'src/go.etcd.io/etcd/raft/raftpb',
  'src/go.uber.org/zap',
  'src/golang.org/x/sys/unix',
];

/** The repository root: the nearest directory above this file holding nx.json (never the cwd: nx runs tasks per package). */
export async function repositoryRoot(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (await exists(join(dir, 'nx.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${fileURLToPath(import.meta.url)}: cannot find the walnut repository root`);
    dir = parent;
  }
}

/** `../shared` beside the repository root. */
export async function sharedDir(): Promise<string> {
  return resolve(await repositoryRoot(), '..', 'shared');
}

let pending: Promise<string> | undefined;

/**
 * Returns the path of a built `etcdwal` binary, installing the Go toolchain and etcd's sources with apt-get
 * when they are missing and (re)building the binary when it is missing or older than `main.go`.
 * The binary lives in `tools/interop/.reference-bin/` because `../shared` is read-only.
 * Memoized per process.
 */
export function ensureReferenceHarness(): Promise<string> {
  pending ??= build().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function build(): Promise<string> {
  const root = await repositoryRoot();
  const source = join(root, '..', 'shared', 'reference', 'etcdwal');
  const mainGo = join(source, 'main.go');
  if (!(await exists(mainGo))) {
    throw new Error(`the reference harness sources are missing: ${mainGo} (../shared must sit beside the repository root ${root})`);
  }
  const out = join(root, 'tools', 'interop', '.reference-bin', 'etcdwal');
  await mkdir(dirname(out), { recursive: true });
  // vitest runs test files in parallel processes: one of them installs and builds, the others wait.
  return withLock(join(dirname(out), '.lock'), () => buildLocked(source, mainGo, out));
}

async function buildLocked(source: string, mainGo: string, out: string): Promise<string> {
  const goBinary = await ensureToolchain();

  const built = await stat(out).catch(() => undefined);
  const sourceTime = (await stat(mainGo)).mtimeMs;
  if (built && built.mtimeMs >= sourceTime) return out;

  // Build beside the target and rename: concurrent workers never see a half-written binary.
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off', // GOPATH mode against Debian's sources: no go.mod, no module proxy
    GOPATH: referenceGopath(),
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    // ../shared is read-only and HOME may not be writable in CI: keep Go's build cache in the temp dir.
    GOCACHE: process.env['GOCACHE'] || join(tmpdir(), 'walnut-etcdwal-gocache'),
  };
  try {
    await run(goBinary, ['build', '-o', tmp, '.'], { cwd: source, env, timeoutMs: 600_000 });
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(
      `building the reference harness failed: (cd ${source} && GO111MODULE=off GOPATH=${referenceGopath()} go build -o ${out} .)\n${describe(err)}`,
    );
  }
  return out;
}

/** Returns the `go` binary, installing golang-go and golang-etcd-server-dev first if anything is missing. */
async function ensureToolchain(): Promise<string> {
  const missing = await missingPrerequisites();
  if (missing.length === 0) return (await findGo())!;

  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], { env, timeoutMs: 600_000 });
    // Wait for a dpkg lock held by another job rather than failing at once.
    await run('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=300', ...REFERENCE_APT_PACKAGES], { env, timeoutMs: 900_000 });
  } catch (err) {
    throw new Error(
      `the etcd reference harness needs ${missing.join(', ')}; installing them failed. Run:\n  ${REFERENCE_INSTALL_COMMAND}\n(as root or with sudo), then run the tests again.\n${describe(err)}`,
    );
  }
  const still = await missingPrerequisites();
  if (still.length > 0) {
    throw new Error(
      `after "${REFERENCE_INSTALL_COMMAND}" these are still missing: ${still.join(', ')}. Install them by hand (GOPATH ${referenceGopath()}, go on PATH), then run the tests again.`,
    );
  }
  return (await findGo())!;
}

/** Runs `fn` holding a cross-process lock (a directory, created atomically; a dead holder's lock is taken over). */
async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(join(lockDir, 'pid'), 'utf8').catch(() => '')).trim());
    if (holder > 0 && !isAlive(holder)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${lockDir} (held by pid ${holder || '?'}); remove it if no build is running`);
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function missingPrerequisites(): Promise<string[]> {
  const missing: string[] = [];
  if (!(await findGo())) missing.push('go (golang-go)');
  for (const rel of REQUIRED_SOURCES) {
    const path = join(referenceGopath(), rel);
    if (!(await exists(path))) missing.push(`${path} (golang-etcd-server-dev)`);
  }
  return missing;
}

/** `go` on PATH, else Debian's default location (golang-go links /usr/bin/go, but PATH may be minimal). */
async function findGo(): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((d) => join(d, 'go')), '/usr/bin/go', '/usr/lib/go/bin/go']) {
    if (await exists(candidate, fsConstants.X_OK)) return candidate;
  }
  return undefined;
}

async function exists(path: string, mode: number = fsConstants.F_OK): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
}

function run(cmd: string, args: string[], options: RunOptions): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${tail(stderr)}`));
          return;
        }
        resolvePromise(stdout);
      },
    );
  });
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
