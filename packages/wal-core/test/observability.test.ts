// Logging and metrics hooks: each WalMetrics hook fires with values checked against what is on the file
// system (records decoded back, bytes up to the last frame), the slow-datasync warning fires strictly above
// SLOW_SYNC_WARNING_MS of the injected clock, repair reports its outcome, purges report what they removed
// and their failures, and a throwing hook or logger never fails (or poisons) a write.
import { describe, expect, it } from 'vitest';
import {
  EntryType,
  FileSystemError,
  RecordDecoder,
  RecordType,
  SLOW_SYNC_WARNING_MS,
  SegmentPurger,
  Wal,
  purgeSegments,
  type Entry,
  type PurgeTimer,
  type WalClock,
  type WalLogger,
  type WalMetrics,
  type WalRecordKind,
  type WalRepairOutcome,
} from '../src/index.js';
import { MapFileSystem } from './support/map-file-system.js';

const DIR = '/wal';
const META = new TextEncoder().encode('observability');

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

function captureLogger(): WalLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Every hook, recording what it was called with. */
function recordingMetrics() {
  const records = new Map<WalRecordKind, number>();
  const calls = {
    syncs: [] as number[],
    bytes: [] as number[],
    records,
    recordCalls: 0,
    cuts: 0,
    repairs: [] as WalRepairOutcome[],
    purged: [] as number[],
    purgeFailures: 0,
  };
  const metrics: Required<WalMetrics> = {
    syncDuration: (s) => void calls.syncs.push(s),
    bytesWritten: (n) => void calls.bytes.push(n),
    recordsWritten: (kind, n) => {
      calls.recordCalls++;
      records.set(kind, (records.get(kind) ?? 0) + n);
    },
    segmentCut: () => void calls.cuts++,
    repair: (o) => void calls.repairs.push(o),
    segmentsPurged: (n) => void calls.purged.push(n),
    purgeFailed: () => void calls.purgeFailures++,
  };
  return { metrics, calls };
}

/** A clock whose every reading is `step` ms after the previous one: each timed sync measures exactly `step`. */
function steppingClock(step: number): WalClock {
  let t = 0;
  return { now: () => (t += step), wallTime: () => new Date(0) };
}

function entry(i: number, size = 300): Entry {
  const data = new Uint8Array(size);
  for (let k = 0; k < size; k++) data[k] = (i * 7 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

const KIND: Record<number, WalRecordKind> = {
  [RecordType.Entry]: 'entry',
  [RecordType.State]: 'state',
  [RecordType.Crc]: 'crc',
  [RecordType.Metadata]: 'metadata',
  [RecordType.Snapshot]: 'snapshot',
};

/** Decodes every segment on its own: records by kind, and the sum of each segment's end of records. */
async function onDisk(fs: MapFileSystem): Promise<{ records: Map<WalRecordKind, number>; bytes: number; segments: number }> {
  const names = (await fs.readdir(DIR)).filter((n) => n.endsWith('.wal')).sort();
  const records = new Map<WalRecordKind, number>();
  let bytes = 0;
  for (const name of names) {
    const file = await fs.open(`${DIR}/${name}`, 'read');
    try {
      const dec = new RecordDecoder([{ name, file, size: await file.size() }]);
      let end = 0;
      for (let rec = await dec.next(); rec; rec = await dec.next()) {
        if (rec.type === RecordType.Crc) dec.acceptCrcRecord(rec);
        const kind = KIND[rec.type]!;
        records.set(kind, (records.get(kind) ?? 0) + 1);
        end = rec.offset + rec.frameBytes;
      }
      bytes += end;
    } finally {
      await file.close();
    }
  }
  return { records, bytes, segments: names.length };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('WalMetrics', () => {
  it('counts records by kind, bytes written, cuts and syncs, matching what is on disk', async () => {
    const fs = new MapFileSystem();
    const { metrics, calls } = recordingMetrics();
    const clock = steppingClock(3);
    const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 4096, metrics, clock });
    expect(Object.fromEntries(calls.records)).toEqual({ crc: 1, metadata: 1, snapshot: 1 });
    for (let i = 1; i <= 60; i += 3) {
      await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i), entry(i + 1), entry(i + 2)]);
    }
    await wal.save({ term: 1n, vote: 1n, commit: 61n }, []); // a HardState alone
    await wal.saveSnapshot({ index: 30n, term: 1n });
    await wal.close();

    const disk = await onDisk(fs);
    expect(disk.segments).toBeGreaterThan(3);
    expect(calls.cuts).toBe(disk.segments - 1);
    expect(calls.records).toEqual(disk.records);
    expect(calls.records.get('entry')).toBe(60);
    // One call per kind per save (20 entry calls, not 60): create 3, saves 20 × 2 + 1, the snapshot 1, each cut 3.
    expect(calls.recordCalls).toBe(3 + 41 + 1 + 3 * calls.cuts);
    expect(sum(calls.bytes)).toBe(disk.bytes);
    expect(calls.bytes.every((n) => n > 0)).toBe(true);
    // Every sync measured with the injected clock: exactly one step each, in seconds.
    expect(calls.syncs.length).toBe(fs.syncs);
    expect(calls.syncs.every((s) => s === 0.003)).toBe(true);
    expect(calls.repairs).toEqual([]);
  });

  it('no metrics, or an empty metrics object, writes the same bytes', async () => {
    const write = async (metrics: WalMetrics | undefined) => {
      const fs = new MapFileSystem();
      const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 8 * 1024, ...(metrics ? { metrics } : {}) });
      for (let i = 1; i <= 30; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
      await wal.close();
      const names = (await fs.readdir(DIR)).sort();
      return names.map((n) => [n, fs.getFile(`${DIR}/${n}`)]);
    };
    const plain = await write(undefined);
    expect(await write({})).toEqual(plain);
    expect(await write(recordingMetrics().metrics)).toEqual(plain);
  });
});

describe('slow fdatasync warning', () => {
  async function syncWarnings(stepMs: number) {
    const fs = new MapFileSystem();
    const logger = captureLogger();
    const { metrics, calls } = recordingMetrics();
    const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 64 * 1024, logger, metrics, clock: steppingClock(stepMs) });
    await wal.save({ term: 1n, vote: 1n, commit: 1n }, [entry(1)]);
    await wal.sync();
    await wal.close();
    return { warnings: logger.lines.filter((l) => l.msg === 'slow fdatasync'), syncs: calls.syncs.length };
  }

  it(`warns for every sync that takes more than ${SLOW_SYNC_WARNING_MS} ms`, async () => {
    const { warnings, syncs } = await syncWarnings(SLOW_SYNC_WARNING_MS + 1);
    expect(syncs).toBeGreaterThan(3);
    expect(warnings.length).toBe(syncs);
    for (const w of warnings) {
      expect(w.level).toBe('warn');
      expect(w.fields).toEqual({ took: '1001.0ms', expectedDuration: '1000ms' });
    }
  });

  it(`does not warn at ${SLOW_SYNC_WARNING_MS} ms or less`, async () => {
    for (const step of [0, 10, SLOW_SYNC_WARNING_MS]) {
      const { warnings, syncs } = await syncWarnings(step);
      expect(syncs).toBeGreaterThan(3);
      expect(warnings).toEqual([]);
    }
  });
});

describe('repair outcomes', () => {
  async function closedWal(fs: MapFileSystem): Promise<string> {
    const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 64 * 1024 });
    for (let i = 1; i <= 5; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.close();
    return `${DIR}/${(await fs.readdir(DIR))
      .filter((n) => n.endsWith('.wal'))
      .sort()
      .at(-1)!}`;
  }

  async function repairWith(fs: MapFileSystem) {
    const logger = captureLogger();
    const { metrics, calls } = recordingMetrics();
    const ok = await Wal.repair(fs, DIR, { metrics, logger, clock: steppingClock(2) });
    return { ok, calls, logger };
  }

  it('clean: nothing to do', async () => {
    const fs = new MapFileSystem();
    await closedWal(fs);
    const { ok, calls } = await repairWith(fs);
    expect(ok).toBe(true);
    expect(calls.repairs).toEqual(['clean']);
    expect(calls.syncs).toEqual([]);
  });

  it('repaired: a torn tail is truncated, its sync measured', async () => {
    const fs = new MapFileSystem();
    const tail = await closedWal(fs);
    const disk = await onDisk(fs);
    const bytes = fs.getFile(tail)!;
    fs.putFile(tail, bytes.slice(0, disk.bytes - 20)); // the last frame cut short
    const { ok, calls, logger } = await repairWith(fs);
    expect(ok).toBe(true);
    expect(calls.repairs).toEqual(['repaired']);
    expect(calls.syncs).toEqual([0.002]);
    expect(logger.lines.some((l) => l.msg === 'wal: repairing')).toBe(true);
  });

  it('refused: damage that is not a torn tail', async () => {
    const fs = new MapFileSystem();
    const tail = await closedWal(fs);
    const bytes = fs.getFile(tail)!.slice();
    bytes[(await onDisk(fs)).bytes - 100]! ^= 0xff; // inside the last entry's data: a CRC mismatch
    fs.putFile(tail, bytes);
    const { ok, calls } = await repairWith(fs);
    expect(ok).toBe(false);
    expect(calls.repairs).toEqual(['refused']);
  });

  it('failed: the WAL is held open elsewhere (ELOCKED)', async () => {
    const fs = new MapFileSystem();
    await closedWal(fs);
    const open = await Wal.open(fs, DIR, { index: 0n, term: 0n });
    try {
      const { ok, calls, logger } = await repairWith(fs);
      expect(ok).toBe(false);
      expect(calls.repairs).toEqual(['failed']);
      expect(logger.lines.find((l) => l.msg === 'wal: repair failed')?.fields.code).toBe('ELOCKED');
    } finally {
      await open.close();
    }
  });
});

/** A MapFileSystem whose `remove` of a segment fails while `failRemoves` is set. */
class FailingRemoveFs extends MapFileSystem {
  failRemoves = false;
  override async remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    if (this.failRemoves && path.endsWith('.wal')) throw new FileSystemError('EIO', 'unlink', path);
    return super.remove(path, options);
  }
}

async function released(fs: MapFileSystem): Promise<Wal> {
  const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 4096 });
  for (let i = 1; i <= 40; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
  await wal.releaseLockTo(40n);
  return wal;
}

describe('purge metrics', () => {
  it('purgeSegments reports the segments it removed', async () => {
    const fs = new MapFileSystem();
    const wal = await released(fs);
    const { metrics, calls } = recordingMetrics();
    const r = await purgeSegments(fs, DIR, { max: 2, metrics });
    expect(r.removed.length).toBeGreaterThan(1);
    expect(calls.purged).toEqual([r.removed.length]);
    // A round with nothing to remove reports nothing.
    await purgeSegments(fs, DIR, { max: 2, metrics });
    expect(calls.purged).toEqual([r.removed.length]);
    expect(calls.purgeFailures).toBe(0);
    await wal.close();
  });

  it('a failing round reports the failure and what it removed before it', async () => {
    const fs = new FailingRemoveFs();
    const wal = await released(fs);
    const { metrics, calls } = recordingMetrics();
    fs.failRemoves = true;
    await expect(purgeSegments(fs, DIR, { max: 2, metrics })).rejects.toThrow(/EIO/);
    expect(calls.purgeFailures).toBe(1);
    expect(calls.purged).toEqual([]);
    fs.failRemoves = false;
    await wal.close();
  });

  it("the WAL's own purger and a SegmentPurger pass the WAL's metrics to every round", async () => {
    const fs = new MapFileSystem();
    const pending: (() => void)[] = [];
    const timer: PurgeTimer = { setTimeout: (cb) => pending.push(cb), clearTimeout: () => {} };
    const { metrics, calls } = recordingMetrics();
    const rounds: number[] = [];
    const wal = await Wal.create(fs, DIR, META, {
      segmentSizeBytes: 4096,
      metrics,
      purge: { max: 2, timer, onPurge: (r) => rounds.push(r.removed.length) },
    });
    for (let i = 1; i <= 40; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.releaseLockTo(40n);
    await new Promise((r) => setTimeout(r, 0));
    pending.shift()!(); // the next round
    await waitFor(() => rounds.length === 2);
    expect(rounds[1]).toBeGreaterThan(0);
    expect(calls.purged).toEqual([rounds[1]]);
    await wal.close();

    const fs2 = new FailingRemoveFs();
    const wal2 = await released(fs2);
    const m2 = recordingMetrics();
    const purger = new SegmentPurger(fs2, DIR, { max: 2, metrics: m2.metrics, onError: () => {} });
    fs2.failRemoves = true;
    await expect(purger.runOnce()).rejects.toThrow(/EIO/);
    fs2.failRemoves = false;
    const r = await purger.runOnce();
    await purger.stop();
    expect(m2.calls.purgeFailures).toBe(1);
    expect(m2.calls.purged).toEqual([r.removed.length]);
    await wal2.close();
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(cond()).toBe(true);
}

describe('hooks that throw', () => {
  it('a throwing metrics hook is logged once per hook and never fails or poisons the WAL', async () => {
    const fs = new MapFileSystem();
    const logger = captureLogger();
    const boom = () => {
      throw new Error('boom');
    };
    const metrics: WalMetrics = {
      syncDuration: boom,
      bytesWritten: boom,
      recordsWritten: boom,
      segmentCut: boom,
      repair: boom,
      segmentsPurged: boom,
      purgeFailed: boom,
    };
    const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 4096, metrics, logger, purge: { max: 1 } });
    for (let i = 1; i <= 30; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.releaseLockTo(30n);
    await wal.sync();
    await wal.close();
    const again = await Wal.open(fs, DIR, { index: 0n, term: 0n });
    const { entries, hardState } = await again.readAll();
    await again.close();
    expect(entries.at(-1)?.index).toBe(30n);
    expect(hardState.commit).toBe(30n);
    expect(await Wal.repair(fs, DIR, { metrics, logger })).toBe(true);
    expect((await purgeSegments(fs, DIR, { max: 1, metrics, logger })).removed.length).toBeGreaterThan(0);

    const warned = logger.lines.filter((l) => l.msg === 'wal: metrics hook threw; ignored');
    expect(warned.map((l) => l.fields.hook).sort()).toEqual(
      // Once per hook per WAL / repair / purge call (each guards what it is given).
      ['bytesWritten', 'recordsWritten', 'repair', 'segmentCut', 'segmentsPurged', 'syncDuration'],
    );
    expect(warned.every((l) => l.fields.error === 'boom' && l.level === 'warn')).toBe(true);
    expect(logger.lines.some((l) => l.level === 'error')).toBe(false);
  });

  it('async hooks and loggers that reject: logged (hooks) or dropped (loggers), never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const fs = new MapFileSystem();
      const lines = captureLogger();
      let loggerCalls = 0;
      const rejectingLogger: WalLogger = {
        debug: async () => {
          loggerCalls++;
          throw new Error('async logger down');
        },
        info: async () => {
          loggerCalls++;
          throw new Error('async logger down');
        },
        warn: (f, m) => lines.warn(f, m),
        error: async () => {
          loggerCalls++;
          throw new Error('async logger down');
        },
      };
      const rejects = async () => {
        throw new Error('async boom');
      };
      const metrics: WalMetrics = { syncDuration: rejects, bytesWritten: rejects, recordsWritten: rejects, segmentCut: rejects };
      const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 4096, metrics, logger: rejectingLogger });
      for (let i = 1; i <= 20; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
      await wal.close();
      // Let every rejection settle and Node report the unhandled ones.
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
      expect(loggerCalls).toBeGreaterThan(0); // info on segment cuts
      const warned = lines.lines.filter((l) => l.msg === 'wal: metrics hook threw; ignored');
      expect(warned.map((l) => l.fields.hook).sort()).toEqual(['bytesWritten', 'recordsWritten', 'segmentCut', 'syncDuration']);
      expect(warned.every((l) => l.fields.error === 'async boom')).toBe(true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a throwing logger never fails a write', async () => {
    const fs = new MapFileSystem();
    let calls = 0;
    const boom = () => {
      calls++;
      throw new Error('logger down');
    };
    const logger: WalLogger = { debug: boom, info: boom, warn: boom, error: boom };
    const wal = await Wal.create(fs, DIR, META, { segmentSizeBytes: 4096, logger, clock: steppingClock(5000) });
    for (let i = 1; i <= 20; i++) await wal.save({ term: 1n, vote: 1n, commit: BigInt(i) }, [entry(i)]);
    await wal.close();
    expect(calls).toBeGreaterThan(10); // slow fdatasync on every sync, segment cuts
    const again = await Wal.openForRead(fs, DIR, { index: 0n, term: 0n });
    expect((await again.readAll()).entries.length).toBe(20);
    await again.close();
  });
});
