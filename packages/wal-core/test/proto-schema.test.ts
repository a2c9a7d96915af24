/**
 * The committed protobufjs compilation (src/generated/proto.js, proto.d.ts) is up to date with
 * proto/*.proto: regenerate into a temporary directory with scripts/generate-proto.mjs and compare.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'walnut-proto-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('src/generated is the compilation of proto/*.proto', () => {
  it('node scripts/generate-proto.mjs <tmp> reproduces proto.js and proto.d.ts byte for byte', () => {
    execFileSync(process.execPath, [join(pkg, 'scripts', 'generate-proto.mjs'), out], { cwd: pkg, stdio: 'pipe' });
    for (const f of ['proto.js', 'proto.d.ts']) {
      const fresh = readFileSync(join(out, f), 'utf8');
      const committed = readFileSync(join(pkg, 'src', 'generated', f), 'utf8');
      expect(fresh.length, `${f}: regenerate with \`npm run proto -w @walnut/wal-core\``).toBeGreaterThan(1000);
      expect(committed, `src/generated/${f} is stale: regenerate with \`npm run proto -w @walnut/wal-core\``).toBe(fresh);
    }
  });

  it('the generated module has the messages the codec relies on', async () => {
    const { raftpb, walpb } = await import('../src/generated/proto.js');
    for (const m of [walpb.Record, walpb.Snapshot, raftpb.Entry, raftpb.HardState, raftpb.ConfState])
      expect(typeof m.decode).toBe('function');
    expect(raftpb.EntryType.EntryConfChangeV2).toBe(2);
  });
});
