/** The built `walnut` binary as a real child process (needs `npx nx run-many -t build`). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
});
