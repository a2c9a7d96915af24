/**
 * The demo: one node's life through walnut on local disk. Run with `npm start -w @walnut/example-raft-node`
 * (or `node dist/main.js [DIR]`; DIR defaults to ./data/raft-node and is replaced).
 *
 * 1. start fresh, become leader of term 1, commit 60 commands of 1 KB (the WAL cuts a segment every 16 KiB);
 * 2. snapshot at the commit index: state file, WAL snapshot record, releaseLockTo, purge old segments;
 * 3. append two commands it cannot commit (say the node is cut off from its followers);
 * 4. a leader of term 2 replaces them: its entries overwrite the uncommitted suffix;
 * 5. close, start again: the node recovers from the snapshot and the WAL and must hold exactly the state it
 *    had committed. Exit code 1 if anything differs.
 */
import { rm } from 'node:fs/promises';
import { RaftNode, type Command } from './raft-node.js';

const dir = process.argv[2] ?? './data/raft-node';
const options = { dir, id: 1n, segmentSizeBytes: 16 * 1024, keepSegments: 1 };
const expected = new Map<string, string>();
const say = (line: string) => console.log(line);

await rm(dir, { recursive: true, force: true });

// 1. A fresh node.
let node = await RaftNode.start(options);
say(`started fresh in ${dir}`);
await node.campaign();
for (let i = 1; i <= 60; i++) {
  const command: Command = { key: `key-${i % 25}`, value: `value ${i} `.padEnd(1000, '.') };
  await node.propose(command);
  expected.set(command.key, command.value);
}
say(
  `term 1: leader's empty entry + 60 commands committed, commit index ${node.hardState.commit}; segments: ${(await node.segments()).length}`,
);

// 2. Snapshot, release, purge.
const purged = await node.takeSnapshot();
say(
  `snapshot at ${node.snapshot.index}:${node.snapshot.term}; purged ${purged.length} segments; segments left: ${(await node.segments()).length}`,
);

// 3. Two entries this leader appends but never commits.
const lost1 = await node.propose({ key: 'lost', value: 'never committed' }, { commit: false });
await node.propose({ key: 'lost-too', value: 'never committed' }, { commit: false });
say(`appended ${lost1}..${node.lastIndex} at term 1, not committed (commit ${node.hardState.commit})`);

// 4. Node 2 won term 2 without those entries; from that index on its log has its own empty entry and a command.
const fromLeader: { term: bigint; command?: Command }[] = [{ term: 2n }, { term: 2n, command: { key: 'leader', value: 'node-2' } }];
await node.acceptLeader(2n, 2n, fromLeader, lost1 + 1n, lost1);
expected.set('leader', 'node-2');
const tail = node.entries.filter((e) => e.index >= lost1).map((e) => `${e.index}@${e.term}`);
say(`term 2: leader 2 replaced ${lost1}..${lost1 + 1n}: log tail ${tail.join(' ')}, commit ${node.hardState.commit}`);
await node.close();

// 5. Restart and recover.
node = await RaftNode.start(options);
const r = node.recovery;
const hs = node.hardState;
say(`restarted: opened at snapshot ${r.snapshot.index}:${r.snapshot.term}, read ${r.entries} entries, repaired: ${r.repaired}`);
say(`hard state: term=${hs.term} vote=${hs.vote} commit=${hs.commit}; last index ${node.lastIndex}`);

const same = node.state.size === expected.size && [...expected].every(([k, v]) => node.state.get(k) === v);
const overwritten = !node.state.has('lost') && !node.state.has('lost-too') && node.entries.every((e) => e.index < lost1 || e.term === 2n);
say(`state: ${node.state.size} keys, ${same ? 'equal to' : 'DIFFERENT from'} what was committed; overwritten entries gone: ${overwritten}`);
await node.close();
if (!same || !overwritten) process.exitCode = 1;
