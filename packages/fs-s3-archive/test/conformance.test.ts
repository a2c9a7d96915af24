// The FileSystem contract and the WAL behaviour suite on S3ArchiveFileSystem over fs-memory, with the
// in-memory object store. (Over fs-node with the real S3 server: conformance-node.test.ts.) The WAL suite
// runs with archiving active: wherever it holds a WAL whose older segments are released (every golden
// etcd dataset, every round trip after releaseLockTo) they are archived before it reads, verifies and
// lists snapshots, so those cross both tiers.
import { afterAll, expect } from 'vitest';
import { fileSystemSuite, walSuite } from '@walnut/conformance';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem } from '../src/index.js';
import { archiveReleased } from './support/archive-released.js';

let n = 0;

function archiveOver(mem: MemoryFileSystem, store: MemoryObjectStore): S3ArchiveFileSystem {
  return new S3ArchiveFileSystem(mem, store, { prefix: 'conformance/', allowUnarchivedRemoval: true });
}

fileSystemSuite({
  name: 's3-archive over memory',
  async create() {
    const mem = new MemoryFileSystem({ seed: ++n });
    const dir = `/scratch/t${n}`;
    await mem.mkdir(dir, { recursive: true });
    await mem.syncDir('/');
    await mem.syncDir('/scratch');
    return { fs: archiveOver(mem, new MemoryObjectStore()), dir, cleanup: async () => {} };
  },
  // A crash takes the live tier down; the store, being remote, survives as it is.
  crash: (fs, request) => {
    const a = fs as S3ArchiveFileSystem;
    return archiveOver((a.live as MemoryFileSystem).crash(request), (a.store as MemoryObjectStore).clone());
  },
});

const moved = { rounds: 0, segments: 0 };
afterAll(() => {
  // The suite really read across tiers: many of its WALs had segments archived before the reads.
  expect(moved.rounds).toBeGreaterThan(15);
  expect(moved.segments).toBeGreaterThan(40);
});

walSuite({
  name: 's3-archive over memory',
  moveReleasedSegments: (fs, dir) => archiveReleased(fs as S3ArchiveFileSystem, dir, moved),
  async create() {
    const mem = new MemoryFileSystem({ seed: ++n });
    const dir = `/wal-suite/t${n}`;
    await mem.mkdir(dir, { recursive: true });
    return { fs: archiveOver(mem, new MemoryObjectStore()), dir, cleanup: async () => {} };
  },
});
