/** Test helpers: locating the shared golden data, temporary copies, capturing runCli output. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/index.js';
import type { CliOptions } from '../src/index.js';

/** The repository root: the nearest directory above this file that holds nx.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('nx.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** `<repo>/../shared/testdata/etcd34`. */
export const GOLDEN = join(repoRoot(), '..', 'shared', 'testdata', 'etcd34');

/** Names of the golden datasets (directories holding expected.json). */
export function datasets(): string[] {
  return readdirSync(GOLDEN)
    .filter((n) => existsSync(join(GOLDEN, n, 'expected.json')))
    .sort();
}

export interface SnapJson {
  index: number;
  term: number;
}
export interface DumpJson {
  metadataHex: string | null;
  hardState: { term: number; vote: number; commit: number };
  entries: unknown[];
  error: string | null;
}
export interface FileJson {
  name: string;
  size: number;
  sha256: string;
}
export interface Expected {
  scenario: string;
  snap: SnapJson;
  files: FileJson[];
  read: DumpJson;
  write: DumpJson;
  verify: { error: string | null };
  validSnapshotEntries: { snapshots: SnapJson[]; error: string | null };
  repair: { ok: boolean; files: FileJson[]; read: DumpJson; write: DumpJson };
  alsoAt: Array<{ snap: SnapJson; read: DumpJson; write: DumpJson; verify: { error: string | null } }> | null;
}

export function loadExpected(dataset: string): Expected {
  return JSON.parse(readFileSync(join(GOLDEN, dataset, 'expected.json'), 'utf8')) as Expected;
}

/** How `etcdwal` prints a JSON value (Go json.Encoder, 2-space indent, trailing newline). */
export function goJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

const tempRoots: string[] = [];

/** A writable copy of `<dataset>/wal` in a new temporary directory; returns the copy's wal/ path. */
export function copyWal(dataset: string): string {
  const base = mkdtempSync(join(tmpdir(), `walnut-cli-${dataset}-`));
  tempRoots.push(base);
  const src = join(GOLDEN, dataset, 'wal');
  const dst = join(base, 'wal');
  mkdirSync(dst, { mode: 0o700 });
  for (const name of readdirSync(src)) {
    const p = join(src, name);
    if (statSync(p).isFile()) writeFileSync(join(dst, name), readFileSync(p), { mode: 0o600 });
  }
  return dst;
}

/** A fresh empty temporary directory. */
export function tempDir(prefix = 'walnut-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempRoots.push(d);
  return d;
}

/** Removes every temporary directory made so far. */
export function cleanupTemp(): void {
  for (const d of tempRoots.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing its output. */
export async function cli(argv: string[], options?: CliOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }, options);
  return { code, stdout, stderr };
}

export const snapArg = (s: SnapJson): string => `${s.index}:${s.term}`;
