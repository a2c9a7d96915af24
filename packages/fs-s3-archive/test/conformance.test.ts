// The FileSystem contract and the WAL behaviour suite on S3ArchiveFileSystem over fs-memory, with the
// in-memory object store. (Over fs-node with the real S3 server: conformance-node.test.ts.) Everything
// the suites do is live, so these prove the wrapper passes the live tier through exactly; reading across
// both tiers is proven by cross-tier.test.ts and archive.test.ts.
import { fileSystemSuite, walSuite } from '@walnut/conformance';
import { MemoryFileSystem } from '@walnut/fs-memory';
import { MemoryObjectStore, S3ArchiveFileSystem } from '../src/index.js';

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

walSuite({
  name: 's3-archive over memory',
  async create() {
    const mem = new MemoryFileSystem({ seed: ++n });
    const dir = `/wal-suite/t${n}`;
    await mem.mkdir(dir, { recursive: true });
    return { fs: archiveOver(mem, new MemoryObjectStore()), dir, cleanup: async () => {} };
  },
});
