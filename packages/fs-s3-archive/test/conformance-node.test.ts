// The FileSystem contract and the WAL behaviour suite on S3ArchiveFileSystem over fs-node (real files)
// with S3ObjectStore on the real S3 server the global setup started: every listing the suites make also
// lists the store; the WAL suite archives released segments before it reads (see conformance.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { fileSystemSuite, walSuite } from '@walnut/conformance';
import { NodeFileSystem } from '@walnut/fs-node';
import { S3ArchiveFileSystem } from '../src/index.js';
import { archiveReleased } from './support/archive-released.js';
import { freshS3Store } from './support/s3-lab.js';

async function fixture(label: string) {
  const dir = await mkdtemp(join(tmpdir(), `walnut-s3a-${label}-`));
  const { store, prefix } = freshS3Store({}, label);
  const fs = new S3ArchiveFileSystem(new NodeFileSystem(), store, { prefix, root: dir, allowUnarchivedRemoval: true });
  return { fs, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

fileSystemSuite({ name: 's3-archive over node + S3', create: () => fixture('fs') });
const moved = { rounds: 0, segments: 0 };
afterAll(() => {
  expect(moved.rounds).toBeGreaterThan(10);
  expect(moved.segments).toBeGreaterThan(20);
});

// With archiving active: released segments go to the real S3 server before the suite's reads.
walSuite({
  name: 's3-archive over node + S3',
  create: () => fixture('wal'),
  moveReleasedSegments: (fs, dir) => archiveReleased(fs as S3ArchiveFileSystem, dir, moved),
});
