/**
 * h (walnut only): save latency while released segments are archived to S3.
 *
 * A WAL on `S3ArchiveFileSystem(fs-node on the run's directory, S3ObjectStore on the server in S3_*)`, with
 * small segments so that many are cut, released and archived during one run: sequential saves of one 1 KiB
 * entry + a HardState, each datasynced; every {@link RELEASE_EVERY} saves the loop calls
 * `releaseLockTo(index)`, as a raft node does after a snapshot. With `archiver`, a {@link SegmentArchiver}
 * (max 1, a round every {@link ARCHIVE_INTERVAL_MS} ms) uploads the released segments meanwhile, in the same
 * process; without it the run is otherwise identical (same file system, same releases), so the ratio of the
 * two is the cost of archiving for the appender. Each save is timed on its own.
 */
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { S3ArchiveFileSystem, S3ObjectStore, SegmentArchiver } from '@walnut/fs-s3-archive';
import { Wal } from '@walnut/wal-core';
import { entriesFor, nodeFs, pool, result, type RunResult } from './workloads.js';

/** Calls `releaseLockTo` after this many saves. */
export const RELEASE_EVERY = 1000;
/** The archiver's pause between rounds. */
export const ARCHIVE_INTERVAL_MS = 100;

/** Sizes of h: segment size, and saves enough for `segments` full segments (≥ 8 archived during the run). */
export function archiveShape(quick: boolean): { segmentSizeBytes: number; saves: number; size: number } {
  const segmentSizeBytes = quick ? 4 * 1024 * 1024 : 8 * 1024 * 1024;
  const segments = 11;
  // One save: a 1 KiB entry's frame (8 + 1048 bytes) and a HardState frame (8 + 24).
  const perSave = 8 + Math.ceil((1024 + 24) / 8) * 8 + 32;
  return { segmentSizeBytes, saves: Math.ceil((segments * segmentSizeBytes) / perSave), size: 1024 };
}

/** Save latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** What h reports beyond {@link RunResult}. */
export interface ArchiveRunResult extends RunResult {
  archiver: boolean;
  segmentSizeBytes: number;
  latencyMs: LatencySummary;
  /** Bytes and segments uploaded by rounds that ended before the last save returned. */
  archivedBytes: number;
  archivedSegments: number;
  /** Segments the WAL wrote (files in the live directory + archived, at the end). */
  segments: number;
  /** The longest the event loop was blocked during the saves (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
  eventLoopDelayMaxMs: number;
}

export function summarize(lat: Float64Array): LatencySummary {
  const s = Float64Array.from(lat).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  let sum = 0;
  for (const x of s) sum += x;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1]!, mean: sum / s.length };
}

function storeFromEnv(prefix: string): S3ObjectStore {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`workload h needs ${k} (the cli starts ../shared/s3/s3-server.sh and sets S3_*)`);
    return v;
  };
  return new S3ObjectStore({
    bucket: env('S3_BUCKET'),
    prefix,
    endpoint: env('S3_ENDPOINT'),
    region: process.env['S3_REGION'] ?? 'us-east-1',
    forcePathStyle: process.env['S3_FORCE_PATH_STYLE'] === 'true',
    credentials: { accessKeyId: env('S3_ACCESS_KEY_ID'), secretAccessKey: env('S3_SECRET_ACCESS_KEY') },
  });
}

export async function walnutArchiving(dir: string, archiver: boolean, quick: boolean): Promise<ArchiveRunResult> {
  const shape = archiveShape(quick);
  const p = pool();
  const prefix = `walnut-bench/h/${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}/`;
  const store = storeFromEnv(prefix);
  const fs = new S3ArchiveFileSystem(nodeFs(), store, { prefix, root: dirname(dir) });
  const wal = await Wal.create(fs, dir, new TextEncoder().encode('bench'), { segmentSizeBytes: shape.segmentSizeBytes });

  let measuring = true;
  let archivedBytes = 0;
  let archivedSegments = 0;
  let failure: unknown;
  const arch = archiver
    ? new SegmentArchiver(fs, dir, {
        max: 1,
        intervalMs: ARCHIVE_INTERVAL_MS,
        onRound: (r) => {
          if (!measuring) return;
          archivedBytes += r.bytes;
          archivedSegments += r.archived.length;
        },
        onError: (e) => {
          failure ??= e;
        },
      })
    : undefined;
  arch?.start();

  const lat = new Float64Array(shape.saves);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  for (let i = 0; i < shape.saves; i++) {
    const idx = i + 1;
    const ents = entriesFor(p, idx, 1, shape.size);
    const s = performance.now();
    await wal.save({ term: 1n, vote: 1n, commit: BigInt(idx) }, ents);
    lat[i] = performance.now() - s;
    if (idx % RELEASE_EVERY === 0) await wal.releaseLockTo(BigInt(idx));
  }
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  measuring = false;
  await arch?.stop();
  await wal.close();
  if (failure !== undefined) throw new Error(`workload h: an archive round failed: ${String(failure)}`, { cause: failure });

  // Outside the measurement: count the segments, then remove this run's objects.
  const segments = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).length;
  for (const o of await store.list(prefix)) await store.delete(o.key);
  store.client.destroy();

  return {
    ...result(archiver ? 'walnut+archiver' : 'walnut', 'h', shape.saves, shape.saves, shape.saves * shape.size, seconds),
    archiver,
    segmentSizeBytes: shape.segmentSizeBytes,
    latencyMs: summarize(lat),
    archivedBytes,
    archivedSegments,
    segments,
    eventLoopDelayMaxMs: loop.max / 1e6,
  };
}
