/**
 * RecordDecoder's `continueOnCrcError` (etcd's NewDecoderAdvanced(true, ...), what etcd-dump-logs' raw mode
 * and `walnut dump --raw` use) on the golden datasets written by etcd's own WAL
 * (../shared/testdata/etcd34, found from the repository root), read through the MapFileSystem.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RecordType } from '../src/codec/messages.js';
import { CrcMismatchError, UnexpectedEofError } from '../src/errors.js';
import { RecordDecoder } from '../src/record-decoder.js';
import type { DecodedRecord } from '../src/record-decoder.js';
import { MapFileSystem } from './support/map-file-system.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('nx.json not found');
    dir = up;
  }
  return dir;
}
const GOLDEN = join(repoRoot(), '..', 'shared', 'testdata', 'etcd34');

/** A decoder over every segment of a golden dataset, loaded into a MapFileSystem. */
async function decoderFor(dataset: string, options?: { continueOnCrcError?: boolean }) {
  const fs = new MapFileSystem();
  const names = readdirSync(join(GOLDEN, dataset, 'wal'))
    .filter((n) => n.endsWith('.wal'))
    .sort();
  const sources = [];
  for (const name of names) {
    const bytes = new Uint8Array(readFileSync(join(GOLDEN, dataset, 'wal', name)));
    fs.putFile(`/w/${name}`, bytes);
    sources.push({ name, file: await fs.open(`/w/${name}`, 'read'), size: bytes.length });
  }
  return new RecordDecoder(sources, options);
}

interface Seen {
  rec: DecodedRecord;
  crcError: CrcMismatchError | undefined;
}

/** Reads to the end or the first thrown error; `resync` restarts the chain from a damaged record's CRC. */
async function readAll(dec: RecordDecoder, resync: boolean): Promise<{ seen: Seen[]; thrown: unknown }> {
  const seen: Seen[] = [];
  try {
    for (let rec = await dec.next(); rec; rec = await dec.next()) {
      seen.push({ rec, crcError: dec.lastCrcError });
      // etcd-dump-logs' raw mode: a CRC record restarts the chain, unchecked.
      if (rec.type === RecordType.Crc || (resync && dec.lastCrcError)) dec.updateCrc(rec.crc);
    }
  } catch (e) {
    return { seen, thrown: e };
  }
  return { seen, thrown: undefined };
}

describe('RecordDecoder continueOnCrcError', () => {
  it('off (the default): crcflip stops with the CRC mismatch at 0002…wal offset 32720', async () => {
    const { seen, thrown } = await readAll(await decoderFor('crcflip'), false);
    expect(thrown).toBeInstanceOf(CrcMismatchError);
    expect((thrown as CrcMismatchError).location).toEqual({ file: '0000000000000002-00000000000000c0.wal', offset: 32720 });
    expect(seen.every((s) => s.crcError === undefined)).toBe(true);
  });

  it('on: the damaged record is returned with lastCrcError, the reader goes on to the end', async () => {
    const { seen, thrown } = await readAll(await decoderFor('crcflip', { continueOnCrcError: true }), true);
    expect(thrown).toBeUndefined();
    const bad = seen.filter((s) => s.crcError);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.rec).toMatchObject({ file: '0000000000000002-00000000000000c0.wal', offset: 32720, type: RecordType.Entry });
    expect(bad[0]!.crcError!.code).toBe('WAL_CRC_MISMATCH');
    expect(bad[0]!.crcError!.location.offset).toBe(32720);
    // Every record of every segment: the count the raw dump of this dataset reports.
    expect(seen).toHaveLength(428);
    expect(seen[seen.length - 1]!.rec.file).toBe('0000000000000004-0000000000000174.wal');
  });

  it('on, without resynchronising: the chain stays broken until the next CRC record (as in etcd)', async () => {
    const { seen, thrown } = await readAll(await decoderFor('crcflip', { continueOnCrcError: true }), false);
    expect(thrown).toBeUndefined();
    const bad = seen.filter((s) => s.crcError);
    expect(bad.length).toBeGreaterThan(1);
    expect(new Set(bad.map((s) => s.rec.file))).toEqual(new Set(['0000000000000002-00000000000000c0.wal']));
    expect(bad[0]!.rec.offset).toBe(32720);
  });

  it('crcflip-last: the damage in the last segment is a CRC error (no sector of it is zero), not a torn write', async () => {
    const { seen, thrown } = await readAll(await decoderFor('crcflip-last', { continueOnCrcError: true }), true);
    expect(thrown).toBeUndefined();
    const bad = seen.filter((s) => s.crcError);
    expect(bad.map((s) => [s.rec.file, s.rec.offset])).toEqual([['0000000000000004-0000000000000174.wal', 4504]]);
  });

  it.each(['torn-cut', 'torn-zero'])('%s: a torn tail is still an unexpected EOF, the option does not hide it', async (ds) => {
    const { seen, thrown } = await readAll(await decoderFor(ds, { continueOnCrcError: true }), true);
    expect(thrown).toBeInstanceOf(UnexpectedEofError);
    expect((thrown as UnexpectedEofError).location).toEqual({ file: '0000000000000004-0000000000000174.wal', offset: 9712 });
    expect(seen.every((s) => s.crcError === undefined)).toBe(true);
    expect(seen).toHaveLength(427);
  });

  it('a healthy WAL reads the same with and without the option', async () => {
    const a = await readAll(await decoderFor('multiseg'), false);
    const b = await readAll(await decoderFor('multiseg', { continueOnCrcError: true }), true);
    expect(a.thrown).toBeUndefined();
    expect(b.thrown).toBeUndefined();
    expect(b.seen.map((s) => [s.rec.file, s.rec.offset, s.crcError])).toEqual(a.seen.map((s) => [s.rec.file, s.rec.offset, undefined]));
  });
});
