import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSystemSuite } from '@walnut/conformance';
import { NodeFileSystem } from '../src/index.js';
import { holdLockInChild } from './lock-holder.js';

// One real temporary directory per test, removed afterwards. Without a root, the suite's paths
// are OS paths, which the lock-holding child process can use as they are.
fileSystemSuite({
  name: 'node',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'walnut-fs-node-'));
    return { fs: new NodeFileSystem(), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  crossProcess: { holdLock: (path) => holdLockInChild(path) },
});

// The same suite through a confined file system: paths are relative to the root, which the
// lock-holding child needs prepended (tests within a file run one at a time).
let currentRoot = '';
fileSystemSuite({
  name: 'node (root-confined)',
  async create() {
    currentRoot = await mkdtemp(join(tmpdir(), 'walnut-fs-node-root-'));
    const root = currentRoot;
    const fs = new NodeFileSystem({ root });
    await fs.mkdir('/scratch');
    return { fs, dir: '/scratch', cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  crossProcess: { holdLock: (path) => holdLockInChild(join(currentRoot, path)) },
});

// The same suite with writes and syncs through node:fs instead of @walnut/native (the default where
// the addon is installed, which the test below requires on Linux).
fileSystemSuite({
  name: 'node (nativeIo: false)',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'walnut-fs-node-nodefs-'));
    const fs = new NodeFileSystem({ nativeIo: false });
    if (fs.nativeIo) throw new Error('nativeIo: false still uses @walnut/native');
    return { fs, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  crossProcess: { holdLock: (path) => holdLockInChild(path) },
});

describe('nativeIo', () => {
  it('is on by default on Linux with io sync (the workspace builds @walnut/native), off with io async', () => {
    if (process.platform === 'linux') expect(new NodeFileSystem().nativeIo).toBe(true);
    expect(new NodeFileSystem({ io: 'async' }).nativeIo).toBe(false);
    expect(new NodeFileSystem({ nativeIo: false }).nativeIo).toBe(false);
  });
});

// The same suite with the data path on the libuv pool (io: 'async'; the default is 'sync').
fileSystemSuite({
  name: 'node (io: async)',
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'walnut-fs-node-sync-'));
    return { fs: new NodeFileSystem({ io: 'async' }), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  crossProcess: { holdLock: (path) => holdLockInChild(path) },
});
