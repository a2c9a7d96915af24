import { walSuite } from '@walnut/conformance';
import { MemoryFileSystem } from '../src/index.js';

let n = 0;

// The WAL behaviour suite on memory; the heavy cases (64 MiB entries, hundreds of segments, many
// seeds) run here, where they cost no disk I/O.
walSuite({
  name: 'memory',
  heavy: true,
  async create() {
    const fs = new MemoryFileSystem({ seed: ++n });
    const dir = `/wal-suite/t${n}`;
    await fs.mkdir(dir, { recursive: true });
    return { fs, dir, cleanup: async () => {} };
  },
});
