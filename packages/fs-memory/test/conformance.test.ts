import { fileSystemSuite } from '@walnut/conformance';
import { MemoryFileSystem } from '../src/index.js';

let n = 0;

// A fresh volume per test, so nothing one test does can leak into the next; the scratch
// directory sits below the root so that tests also exercise non-root parents.
fileSystemSuite({
  name: 'memory',
  async create() {
    const fs = new MemoryFileSystem({ seed: ++n });
    const dir = `/scratch/t${n}`;
    await fs.mkdir(dir, { recursive: true });
    return { fs, dir, cleanup: async () => {} };
  },
});
