import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { afterEach, expect, it } from 'vitest';
import { RaftNode } from '../src/raft-node.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it('the demo (npm start) runs on local disk and recovers exactly what it committed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'walnut-raft-node-'));
  dirs.push(dir);
  const { stdout } = await promisify(execFile)(process.execPath, [main, join(dir, 'node')]);
  expect(stdout.trim().split('\n').slice(1)).toEqual([
    "term 1: leader's empty entry + 60 commands committed, commit index 61; segments: 5",
    'snapshot at 61:1; purged 3 segments; segments left: 2',
    'appended 62..63 at term 1, not committed (commit 61)',
    'term 2: leader 2 replaced 62..63: log tail 62@2 63@2, commit 63',
    'restarted: opened at snapshot 61:1, read 2 entries, repaired: false',
    'hard state: term=2 vote=2 commit=63; last index 63',
    'state: 26 keys, equal to what was committed; overwritten entries gone: true',
  ]);
});

// The same node on fs-memory, where a crash is a function call: a process kill while the WAL is open (the
// machine keeps running: nothing the process handed to the OS is lost), and a power cut that keeps only
// what was synced.
it.each(['keep-all', 'durable-only'] as const)('a node that dies without closing recovers every acknowledged entry (%s)', async (mode) => {
  const mem = new MemoryFileSystem({ seed: 7 });
  const options = { dir: '/node', id: 1n, segmentSizeBytes: 16 * 1024, keepSegments: 1, fs: mem };
  const node = await RaftNode.start(options);
  await node.campaign();
  const stateAt = new Map<bigint, Map<string, string>>(); // commit index -> applied state
  for (let i = 1; i <= 40; i++) {
    await node.propose({ key: `k${i % 7}`, value: `${i}`.repeat(200) });
    stateAt.set(node.hardState.commit, new Map(node.state));
    if (i === 30) await node.takeSnapshot();
  }

  const after = mem.crash({ mode }); // `node` is never closed: its process is gone
  const again = await RaftNode.start({ ...options, fs: after });
  expect(again.recovery.snapshot).toEqual({ index: 31n, term: 1n });
  expect(again.lastIndex).toBe(41n); // every proposal resolved after its entry was synced
  // The last commit-only HardState is not synced (raft's MustSync), so the commit index may come back lower;
  // a leader sends it again. The state is exactly the committed state at the recovered commit index.
  expect(again.hardState.commit).toBeGreaterThanOrEqual(40n);
  expect(again.state).toEqual(stateAt.get(again.hardState.commit));
  await again.acceptLeader(1n, 1n, [], 41n, 42n); // the leader's next heartbeat
  expect(again.state).toEqual(stateAt.get(41n));
  await again.close();
});
