import { fileSystemSuite } from '@walnut/conformance';
import { MemoryFileSystem } from '../src/index.js';

let n = 0;

// A fresh volume per test, so nothing one test does can leak into the next; the scratch
// directory sits below the root so that tests also exercise non-root parents. Its name is made
// durable (both parents synced), as the crash tests require.
fileSystemSuite({
  name: 'memory',
  async create() {
    const fs = new MemoryFileSystem({ seed: ++n });
    const dir = `/scratch/t${n}`;
    await fs.mkdir(dir, { recursive: true });
    await fs.syncDir('/');
    await fs.syncDir('/scratch');
    return { fs, dir, cleanup: async () => {} };
  },
  crash: (fs, { seed, mode }) => (fs as MemoryFileSystem).crash({ seed, mode }),
});
