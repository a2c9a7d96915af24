// The production stack end to end: fs-node + the real S3 server, the archiver running in the background
// while the WAL takes saves. Every entry reads back across both tiers; verify and validSnapshotEntries
// agree with the same WAL kept entirely on local disk.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EntryType, Wal, type Entry, type FileSystem } from '@walnut/wal-core';
import { NodeFileSystem } from '@walnut/fs-node';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ArchiveFileSystem, SegmentArchiver, archiveSegments, verifyArchive } from '../src/index.js';
import { freshS3Store, s3Env } from './support/s3-lab.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function entry(i: bigint): Entry {
  const data = new Uint8Array(3000 + Number(i % 500n));
  for (let k = 0; k < data.length; k++) data[k] = Number((i * 7n + BigInt(k)) % 251n);
  return { index: i, term: 1n + i / 400n, type: EntryType.Normal, data };
}

async function writeBoth(archive: FileSystem, archiveDir: string, plain: FileSystem, plainDir: string, archiver: SegmentArchiver) {
  const a = await Wal.create(archive, archiveDir, new TextEncoder().encode('m'), { segmentSizeBytes: 128 * 1024 });
  const b = await Wal.create(plain, plainDir, new TextEncoder().encode('m'), { segmentSizeBytes: 128 * 1024 });
  archiver.start();
  for (let i = 1n; i <= 1200n; i++) {
    const hs = { term: 1n + i / 400n, vote: 3n, commit: i };
    await a.save(hs, [entry(i)]);
    await b.save(hs, [entry(i)]);
    if (i % 150n === 0n) {
      for (const w of [a, b]) {
        await w.saveSnapshot({ index: i, term: hs.term });
        await w.releaseLockTo(i);
      }
    }
  }
  const last = await archiver.archiveNow();
  await archiver.stop();
  await a.close();
  await b.close();
  return last;
}

describe('fs-node + real S3, archiving active', () => {
  it('reads, verifies and lists snapshots across both tiers exactly as the same WAL on local disk', async () => {
    const root = await mkdtemp(join(tmpdir(), 'walnut-s3a-e2e-'));
    dirs.push(root);
    const { store, prefix } = freshS3Store({}, 'e2e');
    const node = new NodeFileSystem();
    const fs = new S3ArchiveFileSystem(node, store, { prefix, root });
    const rounds: number[] = [];
    const archiver = new SegmentArchiver(fs, `${root}/wal`, { max: 1, intervalMs: 20, onRound: (r) => rounds.push(r.archived.length) });
    await writeBoth(fs, `${root}/wal`, node, `${root}/plain`, archiver);
    const archived = await fs.archivedSegments(`${root}/wal`);
    expect(archived.length).toBeGreaterThan(10);
    expect(rounds.filter((n) => n > 0).length, 'segments were archived while saves went on').toBeGreaterThan(1);
    const local = (await node.readdir(`${root}/wal`)).filter((n) => n.endsWith('.wal'));
    expect(local.length).toBeLessThanOrEqual(3);

    for (const snap of [
      { index: 0n, term: 0n },
      { index: 600n, term: 2n },
      { index: 1200n, term: 4n },
    ]) {
      const read = async (f: FileSystem, d: string) => {
        const w = await Wal.openForRead(f, d, snap);
        try {
          return await w.readAll();
        } finally {
          await w.close();
        }
      };
      const got = await read(fs, `${root}/wal`);
      const want = await read(node, `${root}/plain`);
      expect(got.entries.length).toBe(want.entries.length);
      expect(got.entries).toEqual(want.entries);
      expect(got.hardState).toEqual(want.hardState);
      expect(await Wal.verify(fs, `${root}/wal`, snap)).toEqual(await Wal.verify(node, `${root}/plain`, snap));
    }
    expect(await Wal.validSnapshotEntries(fs, `${root}/wal`)).toEqual(await Wal.validSnapshotEntries(node, `${root}/plain`));
  });

  it("an object altered behind walnut's back on the real server: ARCHIVE_CORRUPT on read, and verifyArchive --deep names it", async () => {
    const root = await mkdtemp(join(tmpdir(), 'walnut-s3a-tamper-'));
    dirs.push(root);
    const { store, prefix } = freshS3Store({}, 'tamper');
    const node = new NodeFileSystem();
    const fs = new S3ArchiveFileSystem(node, store, { prefix, root, cacheBytes: 0 });
    const wal = await Wal.create(fs, `${root}/wal`, undefined, { segmentSizeBytes: 64 * 1024 });
    for (let i = 1n; i <= 100n; i++) await wal.save({ term: 1n, vote: 1n, commit: i }, [entry(i)]);
    await wal.releaseLockTo(100n);
    await wal.close();
    const { archived } = await archiveSegments(fs, `${root}/wal`, { max: 1 });
    expect(archived.length).toBeGreaterThan(2);
    const key = fs.keyOf(`${root}/wal/${archived[1]}`);
    expect((await verifyArchive(store, `${prefix}wal/`, { deep: true })).ok).toBe(true);
    // Rewritten behind walnut's back: one byte changed, the metadata copied over as it was.
    const info = (await store.head(key))!;
    const bytes = await store.get(key);
    bytes[bytes.length - 10]! ^= 0x40;
    await store.client.send(new PutObjectCommand({ Bucket: s3Env().S3_BUCKET, Key: key, Body: bytes, Metadata: { ...info.metadata } }));
    const read = async () => {
      const r = await Wal.openForRead(fs, `${root}/wal`, { index: 0n, term: 0n });
      try {
        return await r.readAll();
      } finally {
        await r.close();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', key });
    const report = await verifyArchive(store, `${prefix}wal/`, { deep: true });
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.code)).toContain('ARCHIVE_CORRUPT');
    expect(report.problems.some((p) => p.message.includes(key))).toBe(true);
  });
});
