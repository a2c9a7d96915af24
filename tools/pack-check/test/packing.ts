/**
 * What the pack checks share: the workspaces of the repository, `npm pack --json`, and a scanner for
 * the bare module specifiers a built file imports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The fields of a package.json the checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  keywords?: string[];
  license?: string;
  type?: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  files?: string[];
  engines?: Record<string, string>;
  sideEffects?: boolean | string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A workspace of the root package.json: its directory and manifest. */
export interface Workspace {
  dir: string;
  manifest: Manifest;
}

/** One file of a tarball as `npm pack --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

/** One package of `npm pack --json`. */
export interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: PackedFile[];
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Every workspace of the root package.json (entries ending in `/*` expanded to their subdirectories). */
export function workspaces(): Workspace[] {
  const patterns = readJson<{ workspaces: string[] }>(join(root, 'package.json')).workspaces;
  const dirs: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('/*')) {
      const base = join(root, p.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const d of readdirSync(base, { withFileTypes: true })) if (d.isDirectory()) dirs.push(join(base, d.name));
    } else {
      dirs.push(join(root, p));
    }
  }
  return dirs
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => ({ dir, manifest: readJson<Manifest>(join(dir, 'package.json')) }))
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** The workspaces npm would publish (not `private`). */
export function publishable(): Workspace[] {
  return workspaces().filter((w) => w.manifest.private !== true);
}

/**
 * `npm pack --json` for the named workspaces from the root: a dry run, or real tarballs written to
 * `destination`.
 */
export function npmPack(names: string[], destination?: string): PackResult[] {
  const args = ['pack', '--json', ...(destination === undefined ? ['--dry-run'] : ['--pack-destination', destination])];
  for (const n of names) args.push('--workspace', n);
  const out = execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  return JSON.parse(out) as PackResult[];
}

const builtins = new Set(builtinModules);

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Whether a specifier is a Node.js builtin (`node:fs`, `fs`, `fs/promises`). */
export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(packageOf(specifier));
}

const importPatterns = [
  /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, // import/export ... from 'x'
  /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g, // import 'x'
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('x'), also in .d.ts types
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('x')
  /\bcreateRequire\([^)]*\)\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // createRequire(import.meta.url)('x')
];

/** The bare specifiers (packages, builtins) a built .js or .d.ts file imports; relative ones are left out. */
export function bareImports(code: string): string[] {
  const found = new Set<string>();
  for (const re of importPatterns) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!;
      if (!spec.startsWith('.') && !spec.startsWith('/')) found.add(spec);
    }
  }
  return [...found];
}
