/**
 * The packed tarballs on their own, outside the repository: each is unpacked into node_modules of a
 * fresh project in the temp directory, install scripts run as npm would run them, which is then imported by plain Node.js, type-checked by a
 * consumer under NodeNext resolution, and whose `walnut` bin runs through its shebang.
 *
 * Why not `npm install --offline <tarballs>`: npm resolves the tarballs' dependency ranges against
 * package metadata, not against the repository's lockfile. After `npm ci` the cache holds the tarballs
 * of the locked versions but no metadata (a fresh CI machine) or metadata newer than the lock (a
 * developer's machine, where npm then picks a version whose tarball is not cached): both end in
 * ENOTCACHED, and going to the registry would make this check depend on the network. So the external
 * dependencies each tarball declares (dependencies, optionalDependencies and peerDependencies, nothing else) are linked from
 * the repository's node_modules, where `npm ci` installed the locked versions. A package importing
 * something it does not declare, a file missing from a tarball, or an `exports`/`types` entry that
 * does not resolve fails here as it would for a user.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmPack, publishable, root, type Manifest } from './packing.js';

const packages = publishable();
const names = packages.map((p) => p.manifest.name);
let work = '';
let app = '';

/** Where the repository installed `dep` for the workspace in `dir`: its own node_modules, else the root's. */
function installed(dep: string, dir: string): string {
  for (const base of [join(dir, 'node_modules'), join(root, 'node_modules')]) {
    const d = join(base, dep);
    if (existsSync(join(d, 'package.json'))) return realpathSync(d);
  }
  throw new Error(`${dep} is not installed in the repository (run npm ci)`);
}

function link(target: string, dep: string): void {
  const at = join(app, 'node_modules', dep);
  if (existsSync(at)) return;
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at, 'dir');
}

/** The environment of the child processes, without nx's and vitest's colour settings. */
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'FORCE_COLOR')) as NodeJS.ProcessEnv;
plainEnv['NO_COLOR'] = '1';

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: plainEnv });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'walnut-pack-check-'));
  app = join(work, 'app');
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'walnut-consumer', private: true, type: 'module' }));

  const packed = npmPack(names, tarballs);
  for (const r of packed) {
    const stage = join(work, 'stage', r.name);
    mkdirSync(stage, { recursive: true });
    execFileSync('tar', ['-xzf', join(tarballs, r.filename), '-C', stage]);
    mkdirSync(dirname(join(app, 'node_modules', r.name)), { recursive: true });
    renameSync(join(stage, 'package'), join(app, 'node_modules', r.name));
  }
  for (const ws of packages) {
    const m: Manifest = ws.manifest;
    for (const dep of [
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.optionalDependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}),
    ]) {
      if (!names.includes(dep)) link(installed(dep, ws.dir), dep);
    }
  }
  // What a TypeScript consumer has anyway.
  link(installed('@types/node', root), '@types/node');
  // What npm does after unpacking: run each package's install script (@walnut/crc32c builds its addon
  // from the C sources in its tarball, so a file missing from the tarball fails here).
  for (const ws of packages) {
    if (ws.manifest.scripts?.['install'] === undefined) continue;
    execFileSync('npm', ['run-script', 'install'], { cwd: join(app, 'node_modules', ws.manifest.name), stdio: 'pipe', env: plainEnv });
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages, installed in a project of their own', () => {
  it('import in plain Node.js, each with its exports', () => {
    const script = `const r = {}; for (const n of ${JSON.stringify(names)}) r[n] = Object.keys(await import(n)).length; process.stdout.write(JSON.stringify(r));`;
    const counts = JSON.parse(node(['--input-type=module', '-e', script])) as Record<string, number>;
    for (const n of names) expect(counts[n], `exports of ${n}`).toBeGreaterThan(0);
  });

  it('resolve from the unpacked tarballs, not from the repository', () => {
    const script = `for (const n of ${JSON.stringify(names)}) console.log(import.meta.resolve(n));`;
    const out = node(['--input-type=module', '-e', script]);
    for (const line of out.trim().split('\n')) expect(line.startsWith('file://' + realpathSync(app))).toBe(true);
  });

  it('type-check in a strict NodeNext consumer through their exports', () => {
    const imports = names.map((n, i) => `import * as p${i} from '${n}';`).join('\n');
    writeFileSync(join(app, 'index.ts'), `${imports}\nexport const all = [${names.map((_, i) => `p${i}`).join(', ')}];\n`);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['index.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      out = node([tsc, '-p', 'tsconfig.json']);
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    // Only the packages' own declarations count: errors inside third-party declaration files are theirs.
    const ours = out.split('\n').filter((l) => /error TS/.test(l) && (l.startsWith('index.ts') || l.includes('node_modules/@walnut/')));
    expect(ours).toEqual([]);
  });

  it('run the walnut bin through its shebang: --help and --version', () => {
    const cli = packages.find((p) => p.manifest.bin !== undefined);
    expect(cli).toBeDefined();
    const bin = cli!.manifest.bin as Record<string, string>;
    const path = join(app, 'node_modules', cli!.manifest.name, bin.walnut!);
    const help = execFileSync(path, ['--help'], { cwd: app, encoding: 'utf8', env: plainEnv });
    expect(help).toMatch(/Usage: walnut/);
    const version = execFileSync(path, ['--version'], { cwd: app, encoding: 'utf8', env: plainEnv });
    expect(version.trim()).toBe(cli!.manifest.version);
  });
});
