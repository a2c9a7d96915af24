/** The built `walnut` binary as a real child process (needs `npx nx run-many -t build`). */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, copyWal, goJson, loadExpected, repoRoot } from './helpers.js';

afterAll(cleanupTemp);

const root = repoRoot();
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const built = ['cli/dist/bin.js', 'wal-core/dist/index.js', 'fs-node/dist/index.js'].every((p) => existsSync(join(root, 'packages', p)));
if (!built) console.warn(`bin.test: skipped, ${bin} or its dependencies are not built (run \`npx nx run-many -t build\`)`);

function walnut(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!built)('dist/bin.js', () => {
  it('dump --json prints the same bytes as etcdwal dump, exit 0', () => {
    const r = walnut('dump', copyWal('multiseg'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(goJson(loadExpected('multiseg').read));
  });

  it('a torn tail in write mode exits 1 with the hint on stderr', () => {
    const r = walnut('dump', copyWal('torn-cut'), '--write');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^walnut: unexpected EOF.*\nhint: .*walnut repair/);
  });

  it('a usage error exits 2', () => {
    expect(walnut('dump').status).toBe(2);
  });

  it('repair with stdin not a terminal and no --yes: the plan, exit 4, nothing changed; --yes repairs', () => {
    const dir = copyWal('torn-cut');
    const hashes = () =>
      readdirSync(dir).map((n) => [
        n,
        createHash('sha256')
          .update(readFileSync(join(dir, n)))
          .digest('hex'),
      ]);
    const before = hashes();
    const r = walnut('repair', dir);
    expect(r.status).toBe(4);
    expect(r.stdout).toMatch(/^plan: truncate .* at offset 9712 /);
    expect(r.stderr).toMatch(/^walnut: repair would change a file and needs confirmation.*\nhint: .*--yes/);
    expect(hashes()).toEqual(before);
    const y = walnut('repair', dir, '--yes');
    expect(y.status).toBe(0);
    expect(y.stdout).toContain('repaired: cut the torn tail');
    expect(existsSync(join(dir, '0000000000000004-0000000000000174.wal.broken'))).toBe(true);
  });

  // util-linux `script` runs the bin on a pseudo-terminal: the real readline prompt, answered through it.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('repair on a terminal asks; "n" changes nothing (exit 4), "y" repairs (exit 0)', () => {
    const dir = copyWal('torn-cut');
    const onTty = (answer: string) => {
      const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} repair ${dir}; echo EXIT=$?`, '/dev/null'], {
        cwd: root,
        input: `${answer}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      });
      return r.stdout.replace(/\r/g, '');
    };
    const no = onTty('n');
    expect(no).toContain('Apply this repair? [y/N] ');
    expect(no).toContain('walnut: repair not confirmed; nothing was changed\n');
    expect(no).toContain('EXIT=4\n');
    expect(existsSync(join(dir, '0000000000000004-0000000000000174.wal.broken'))).toBe(false);
    const yes = onTty('y');
    expect(yes).toContain('repaired: cut the torn tail');
    expect(yes).toContain('EXIT=0\n');
    expect(existsSync(join(dir, '0000000000000004-0000000000000174.wal.broken'))).toBe(true);
  });

  it.skipIf(!hasScript)('Ctrl+D at the repair prompt is a "no": exit 4, nothing changed, no internal error', () => {
    const dir = copyWal('torn-cut');
    const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} repair ${dir}; echo EXIT=$?`, '/dev/null'], {
      cwd: root,
      input: '\x04',
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout.replace(/\r/g, '');
    expect(out).toContain('Apply this repair? [y/N] ');
    expect(out).not.toContain('internal error');
    expect(out).toContain('EXIT=4\n');
    expect(existsSync(join(dir, '0000000000000004-0000000000000174.wal.broken'))).toBe(false);
  });

  it('stdout closed before the command finishes (| head): exit 141, never 0, even for a clean WAL', async () => {
    for (const name of ['multiseg', 'crcflip']) {
      const child = spawn(process.execPath, [bin, 'dump', copyWal(name), '--raw'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader goes away before the first line
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(code).toBe(141);
    }
  });

  it('stat --json and dump --raw on real etcd bytes and a damaged copy', () => {
    const s = walnut('stat', 'examples/etcd-wal/wal', '--json');
    expect(s.status).toBe(0);
    expect(s.stderr).toBe('');
    expect(s.stdout).toContain('"vote": 13668033151171901709');
    const d = walnut('dump', copyWal('crcflip'), '--raw');
    expect(d.status).toBe(1);
    expect(d.stdout.split('\n').filter((l) => l.includes('DAMAGED'))).toHaveLength(1);
    expect(d.stderr).toMatch(/^walnut: walpb: crc mismatch.*\nhint: /);
  });

  it('--help lists every command and the exit codes', () => {
    const h = walnut('--help');
    expect(h.status).toBe(0);
    for (const c of ['dump', 'verify', 'snapshots', 'repair', 'stat', 'demo', 'archive', 'restore']) expect(h.stdout).toContain(`  ${c}`);
    expect(h.stdout).toMatch(/\n {2}4 {2}not confirmed/);
  });
});
