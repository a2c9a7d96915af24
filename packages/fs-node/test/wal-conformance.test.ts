import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walSuite } from '@walnut/conformance';
import { NodeFileSystem } from '../src/index.js';
import { holdLockInChild } from './lock-holder.js';

// The WAL behaviour suite on real files (the heavy cases run on fs-memory).
walSuite({
  name: 'node',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'walnut-wal-node-'));
    return { fs: new NodeFileSystem(), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  crossProcess: { holdLock: (path) => holdLockInChild(path) },
});
