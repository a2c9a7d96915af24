/**
 * Archiving a WAL's released segments to S3, reading across both tiers, and restoring a WAL elsewhere.
 *
 *   node dist/main.js [DIR] [PREFIX]     (or npm start -w @walnut/example-s3-archive -- DIR PREFIX)
 *
 * DIR (default ./data/s3-archive, replaced) holds the live WAL `DIR/wal` and the restored copy
 * `DIR/restored`; PREFIX (default `walnut-example/<time>/`) is where the WAL directory goes in the bucket.
 * The store comes from the environment: S3_BUCKET, S3_REGION, S3_ENDPOINT and S3_FORCE_PATH_STYLE=true for
 * an S3-compatible server, S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (otherwise the AWS SDK's default chain).
 * `set -a; eval "$(../shared/s3/s3-server.sh start)"; set +a` starts a local server and sets all of them.
 */
import { rm } from 'node:fs/promises';
import { NodeFileSystem } from '@walnut/fs-node';
import { S3ArchiveFileSystem, S3ObjectStore, SegmentArchiver, restoreWal, verifyArchive } from '@walnut/fs-s3-archive';
import { EntryType, Wal } from '@walnut/wal-core';

const env = process.env;
if (!env.S3_BUCKET) {
  console.error('S3_BUCKET is not set: set the S3_* variables (see the comment at the top of this file)');
  process.exit(2);
}
const root = process.argv[2] ?? './data/s3-archive';
const prefix = process.argv[3] ?? `walnut-example/${Date.now().toString(36)}/`;
const say = (line: string) => console.log(line);

const store = new S3ObjectStore({
  bucket: env.S3_BUCKET,
  region: env.S3_REGION ?? 'us-east-1',
  ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
  forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' || env.S3_FORCE_PATH_STYLE === '1',
  ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
    ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } }
    : {}),
});

await rm(root, { recursive: true, force: true });
const disk = new NodeFileSystem();
await disk.mkdir(root, { recursive: true });

// The live tier is the local disk; everything under `root` maps to keys under `prefix`, so the WAL directory
// `${root}/wal` is archived under `${prefix}wal/`.
const fs = new S3ArchiveFileSystem(disk, store, { prefix, root });
const dir = `${root}/wal`;
const dirPrefix = `${prefix}wal/`;
say(`archiving ${dir} to s3://${env.S3_BUCKET}/${dirPrefix}`);

// 1. A WAL with small segments (64 KiB) so that 300 entries of 1 KB make a few of them.
const wal = await Wal.create(fs, dir, new TextEncoder().encode('node-1'), { segmentSizeBytes: 64 * 1024 });
// The archiver takes the segments purge would delete — those the WAL released with releaseLockTo — uploads
// each, proves the object equal to the file, and only then removes the file. It replaces purge: through
// S3ArchiveFileSystem nothing else may remove a segment that is not archived.
const archiver = new SegmentArchiver(fs, dir, { max: 1, intervalMs: 60_000 });
archiver.start();

for (let i = 1n; i <= 300n; i++) {
  const data = new TextEncoder().encode(`entry ${i} `.padEnd(1000, '.'));
  await wal.save({ term: 1n, vote: 1n, commit: i }, [{ index: i, term: 1n, type: EntryType.Normal, data }]);
  if (i % 100n === 0n) {
    // After a snapshot, segments wholly before it are no longer needed to open the WAL: release them.
    await wal.saveSnapshot({ index: i, term: 1n });
    await wal.releaseLockTo(i);
  }
}
const before = (await disk.readdir(dir)).filter((n) => n.endsWith('.wal')).length;
// Rounds also run every intervalMs in the background; archiveNow runs one at once.
const round = await archiver.archiveNow();
await archiver.stop(); // before closing the WAL: a round must not run on a WAL that is going away
await wal.close();
const after = (await disk.readdir(dir)).filter((n) => n.endsWith('.wal')).length;
say(`saved 300 entries in ${before} segments, snapshots at 100, 200, 300`);
say(`archive round: ${round.archived.length} segments archived (${round.bytes} bytes), ${after} left on local disk`);

// 2. The archive can be checked without the WAL: metadata, the CRC chain between segments and, with deep,
// every object downloaded and decoded.
const report = await verifyArchive(store, dirPrefix, { deep: true });
say(`verify --deep: ${report.segments.length} archived segments, ${report.checked} downloaded and checked, ok: ${report.ok}`);

// 3. Both tiers read as one directory: the WAL opens from the first entry, archived segments included.
const reader = await Wal.openForRead(fs, dir, { index: 0n, term: 0n });
const all = await reader.readAll();
await reader.close();
say(`read across both tiers: ${all.entries.length} entries (${all.entries[0]?.index}..${all.entries.at(-1)?.index})`);

// 4. A replica elsewhere: what opening at snapshot 200 needs, downloaded and checked, the newest segments
// copied from the live directory; written with fsync and a directory sync.
const restored = await restoreWal({
  store,
  dirPrefix,
  liveFs: fs.live,
  liveDir: dir,
  to: { fs: disk, dir: `${root}/restored` },
  snapshot: { index: 200n, term: 1n },
});
const fromArchive = restored.segments.filter((s) => s.source === 'archive').length;
say(
  `restored at 200:1: ${restored.segments.length} segments (${fromArchive} from the archive, ${restored.downloadedBytes} bytes downloaded)`,
);

const replica = await Wal.open(disk, `${root}/restored`, { index: 200n, term: 1n });
const tail = await replica.readAll();
await replica.close();
say(
  `restored WAL: ${tail.entries.length} entries (${tail.entries[0]?.index}..${tail.entries.at(-1)?.index}), commit ${tail.hardState.commit}`,
);

const ok =
  round.archived.length > 0 &&
  report.ok &&
  all.entries.length === 300 &&
  all.entries.every((e, k) => e.index === BigInt(k + 1)) &&
  tail.entries.length === 100 &&
  tail.entries[0]?.index === 201n;
if (!ok) process.exitCode = 1;
