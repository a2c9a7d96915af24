/**
 * The npm tarball of every publishable workspace (every workspace not marked private), as
 * `npm pack --dry-run` lists it after the build: the files it must hold and must not, the package.json
 * fields a consumer relies on, and dependencies that cover every import of the built code.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bareImports, isBuiltin, npmPack, packageOf, publishable, readJson, root, type Manifest, type PackedFile } from './packing.js';

const packages = publishable();
const packed = new Map(npmPack(packages.map((p) => p.manifest.name)).map((r) => [r.name, r]));
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const workspaceVersions = new Map(packages.map((p) => [p.manifest.name, p.manifest.version]));

/** Everything main, types, bin and exports point at, as tarball paths. */
function referencedFiles(m: Manifest): string[] {
  const refs: string[] = [];
  if (m.main) refs.push(m.main);
  if (m.types) refs.push(m.types);
  if (typeof m.bin === 'string') refs.push(m.bin);
  else if (m.bin) refs.push(...Object.values(m.bin));
  for (const target of Object.values(m.exports ?? {})) {
    if (typeof target === 'string') refs.push(target);
    else refs.push(...Object.values(target));
  }
  return refs.map((r) => posix.normalize(r));
}

/** Paths no tarball may hold: tests, fixtures, build state, configuration of the repository. */
const forbidden = [
  /(^|\/)(test|tests|__tests__|fixtures?|testdata|__snapshots__|coverage)\//,
  /\.(test|spec)\.[cm]?[jt]sx?(\.map)?$/,
  /\.d\.(test|spec)\.ts$/,
  /\.tsbuildinfo$/,
  /(^|\/)(tsconfig[^/]*\.json|vitest\.config\.[cm]?[jt]s|\.eslintrc[^/]*|eslint\.config\.[cm]?js|\.prettierrc[^/]*)$/,
  /(^|\/)node_modules\//,
  /(^|\/)\.nx\//,
];

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s tarball', (name, ws) => {
  const m = ws.manifest;
  const result = packed.get(name)!;
  const files: PackedFile[] = result.files;
  const paths = new Set(files.map((f) => f.path));

  it('holds package.json, README.md and the Apache-2.0 LICENSE of the repository', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE']) expect(paths, f).toContain(f);
    expect(readFileSync(join(ws.dir, 'LICENSE'), 'utf8'), 'LICENSE differs from the root LICENSE').toBe(rootLicense);
  });

  it('holds every file main, types, bin and exports refer to', () => {
    const refs = referencedFiles(m);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(paths, `${r} is referenced by package.json but not packed`).toContain(r);
  });

  it('has no top-level await in its library code (require(esm) in Node >= 22 and some bundlers refuse it)', () => {
    // tsc keeps top-level statements unindented; a bin entry point may await at its top level.
    const bins = new Set(Object.values(typeof m.bin === 'string' ? { bin: m.bin } : (m.bin ?? {})).map((b) => posix.normalize(b)));
    const offenders = files
      .filter((f) => /^dist\/.*\.js$/.test(f.path) && !bins.has(f.path))
      .filter((f) => /^[^\s/*].*\bawait\b/m.test(readFileSync(join(ws.dir, f.path), 'utf8')))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('holds no tests, fixtures, build state or repository configuration', () => {
    const bad = [...paths].filter((p) => forbidden.some((re) => re.test(p)));
    expect(bad).toEqual([]);
  });

  it('holds the sources its source maps and declaration maps point at', () => {
    const missing: string[] = [];
    for (const f of files.filter((x) => x.path.endsWith('.map'))) {
      const map = readJson<{ sources: string[]; sourceRoot?: string }>(join(ws.dir, f.path));
      for (const s of map.sources) {
        const target = posix.normalize(posix.join(posix.dirname(f.path), map.sourceRoot ?? '', s));
        if (!paths.has(target)) missing.push(`${f.path} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('holds no stale build output (every dist file comes from a file in src; rebuild from a clean dist if this fails)', () => {
    const stale = [...paths]
      .filter((p) => p.startsWith('dist/') && !p.endsWith('.map'))
      .filter((p) => {
        const base = 'src/' + p.slice('dist/'.length);
        const candidates = p.endsWith('.d.ts') ? [base.replace(/\.d\.ts$/, '.ts'), base] : [base.replace(/\.js$/, '.ts'), base];
        return !candidates.some((c) => paths.has(c));
      });
    expect(stale).toEqual([]);
  });

  it('declares license, description, keywords, ESM, engines and sideEffects', () => {
    expect(m.license).toBe('Apache-2.0');
    expect(m.description?.length ?? 0).toBeGreaterThan(10);
    expect(m.keywords?.length ?? 0).toBeGreaterThan(0);
    expect(m.type).toBe('module');
    expect(m.engines?.node).toBe('>=20');
    if (Array.isArray(m.sideEffects)) {
      for (const f of m.sideEffects) expect(paths, `sideEffects names ${f}`).toContain(posix.normalize(f));
    } else {
      expect(m.sideEffects).toBe(false);
    }
    expect(m.files, 'files must list what is packed, so nothing else leaks in').toBeDefined();
  });

  it('exports "." with types first and default last, and ./package.json', () => {
    const dot = m.exports?.['.'];
    expect(typeof dot).toBe('object');
    const keys = Object.keys(dot as Record<string, string>);
    expect(keys[0]).toBe('types');
    expect(keys[keys.length - 1]).toBe('default');
    expect(m.exports?.['./package.json']).toBe('./package.json');
    expect(m.types).toBe((dot as Record<string, string>).types);
    expect(m.main).toBe((dot as Record<string, string>).default);
  });

  it('has an executable bin with a node shebang', () => {
    const bins = typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {});
    for (const b of bins.map((x) => posix.normalize(x))) {
      const f = files.find((x) => x.path === b)!;
      expect(f.mode & 0o111, `${b} is not executable`).not.toBe(0);
      expect(readFileSync(join(ws.dir, b), 'utf8').startsWith('#!/usr/bin/env node\n'), `${b} has no shebang`).toBe(true);
    }
  });

  it('declares every package its built code and declarations import, and no dependency they never import', () => {
    const declared = new Set([
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.optionalDependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}),
    ]);
    const imported = new Set<string>();
    const undeclared: string[] = [];
    for (const f of files.filter((x) => /^dist\/.*\.(js|d\.ts)$/.test(x.path))) {
      for (const spec of bareImports(readFileSync(join(ws.dir, f.path), 'utf8'))) {
        if (isBuiltin(spec)) continue;
        const pkg = packageOf(spec);
        imported.add(pkg);
        if (!declared.has(pkg)) undeclared.push(`${f.path}: ${spec}`);
      }
    }
    expect(undeclared, 'imports missing from dependencies/peerDependencies').toEqual([]);
    expect(
      [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.optionalDependencies ?? {})].filter((d) => !imported.has(d)),
      'dependencies neither the built code nor its declarations import (devDependencies?)',
    ).toEqual([]);
    const both = Object.keys(m.dependencies ?? {}).filter((d) => d in (m.devDependencies ?? {}) || d in (m.peerDependencies ?? {}));
    expect(both).toEqual([]);
  });

  it('pins workspace dependencies to the workspace version', () => {
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        const v = workspaceVersions.get(dep);
        if (v !== undefined) expect(range, `${field}.${dep}`).toBe(v);
      }
    }
  });

  it('is a devDependency of @walnut/pack-check, so nx builds it before these checks', () => {
    const self = readJson<Manifest>(join(root, 'tools', 'pack-check', 'package.json'));
    expect(Object.keys(self.devDependencies ?? {})).toContain(name);
  });
});
