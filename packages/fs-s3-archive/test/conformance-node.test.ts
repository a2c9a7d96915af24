// The FileSystem contract and the WAL behaviour suite on S3ArchiveFileSystem over fs-node (real files)
// with S3ObjectStore on the real S3 server the global setup started: every listing the suites make also
// lists the store. Reading across both tiers with archiving active on this stack: node-s3.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemSuite, walSuite } from '@walnut/conformance';
import { NodeFileSystem } from '@walnut/fs-node';
import { S3ArchiveFileSystem } from '../src/index.js';
import { freshS3Store } from './support/s3-lab.js';

async function fixture(label: string) {
  const dir = await mkdtemp(join(tmpdir(), `walnut-s3a-${label}-`));
  const { store, prefix } = freshS3Store({}, label);
  const fs = new S3ArchiveFileSystem(new NodeFileSystem(), store, { prefix, root: dir, allowUnarchivedRemoval: true });
  return { fs, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

fileSystemSuite({ name: 's3-archive over node + S3', create: () => fixture('fs') });
walSuite({ name: 's3-archive over node + S3', create: () => fixture('wal') });
