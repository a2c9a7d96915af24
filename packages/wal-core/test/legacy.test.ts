/**
 * WALs etcd 3.4 never writes but a reader must accept (etcd-wal-format.md §1.3, §1.4, §6):
 *
 * - `legacy-unpadded`: pre-3.0 frames — top byte 0, no padding, N not a multiple of 8 (the 14-byte
 *   record of etcd's TestReadRecord is the metadata record) — in two segments, the second of which also
 *   holds entries WITHOUT a Type field (raft 3.7 shape), an explicit `08 00` one, and an overwrite.
 * - `raft37-typeless`: etcd 3.7 shape — padded frames, ordinary entries without Type, a ConfChange with
 *   Type 1, an entry with present-but-empty data, a snapshot record with conf_state.
 *
 * The segments are built here with the independent helpers of support/wal-bytes.ts (correct rolling
 * CRCs), compared byte for byte with the committed copies under test/fixtures/, and both are read with
 * Wal.openForRead and Wal.open (+ append, reread). Regenerate the fixtures with
 * `WALNUT_WRITE_FIXTURES=1 npx vitest run test/legacy.test.ts`.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Wal } from '../src/wal.js';
import type { Entry, HardState, Snapshot } from '../src/types.js';
import { MapFileSystem } from './support/map-file-system.js';
import {
  SegmentBuilder,
  concat,
  entryBytes,
  hardStateBytes,
  hex,
  parseFrames,
  snapshotBytes,
  unhex,
  utf8,
  vfield,
  bfield,
} from './support/wal-bytes.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const SEG0 = '0000000000000000-0000000000000000.wal';

interface Fixture {
  readonly name: string;
  readonly files: Record<string, Uint8Array>;
  readonly metadata: Uint8Array;
  /** What ReadAll returns at each snapshot position (key: `${index}/${term}`). */
  readonly expected: Record<string, { hardState: HardState; entries: Entry[] }>;
  readonly validSnapshots: Snapshot[];
  /** Offset in the tail where appended records must start (the end of the last record). */
  readonly tailEnd: number;
}

const e = (term: bigint, index: bigint, type: number, data?: string | Uint8Array): Entry =>
  data === undefined ? { index, term, type } : { index, term, type, data: typeof data === 'string' ? utf8(data) : data };
const hs = (term: bigint, vote: bigint, commit: bigint): HardState => ({ term, vote, commit });
const filled = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

function legacyUnpadded(): Fixture {
  const U = false; // unpadded frames throughout
  const metadata = unhex('08effd02'); // TestReadRecord's infoData
  const s0 = new SegmentBuilder(0);
  s0.add(4, undefined, U).add(1, metadata, U).add(5, snapshotBytes(0n, 0n), U);
  const e1 = e(1n, 1n, 0, 'a');
  const e2 = e(1n, 2n, 1, 'cc'); // a ConfChange
  const e3 = e(1n, 3n, 0); // no data
  const e4 = e(1n, 4n, 0, filled(100, 4));
  // gogo shape (Type always written) in the first segment.
  s0.add(2, entryBytes(e1), U)
    .add(2, entryBytes(e2), U)
    .add(3, hardStateBytes(hs(1n, 1n, 2n)), U);
  s0.add(2, entryBytes(e3), U)
    .add(2, entryBytes(e4), U)
    .add(3, hardStateBytes(hs(1n, 1n, 4n)), U);
  const seg0 = s0.bytes(); // a closed segment ends exactly at its last record
  // The second segment (seq 1, index 5) continues the CRC chain; entries without Type (raft 3.7 shape).
  const s1 = new SegmentBuilder(s0.crc);
  s1.add(4, undefined, U)
    .add(1, metadata, U)
    .add(3, hardStateBytes(hs(1n, 1n, 4n)), U);
  const e5 = e(2n, 5n, 0, 'e5');
  const e6 = e(2n, 6n, 0); // the empty entry a new leader appends: `10 02 18 06`, nothing else
  const e7 = e(2n, 7n, 0, 'e7');
  const e8 = e(2n, 8n, 0, filled(13, 8));
  const e7b = e(3n, 7n, 0, 'e7b'); // a new leader overwrites index 7 (and drops 8)
  s1.add(2, entryBytes({ ...e5, type: undefined }), U);
  s1.add(2, entryBytes({ ...e6, type: undefined }), U);
  s1.add(2, entryBytes(e7), U); // explicit `08 00` (from a 3.6 leader)
  s1.add(2, entryBytes({ ...e8, type: undefined }), U);
  s1.add(3, hardStateBytes(hs(2n, 1n, 6n)), U);
  s1.add(2, entryBytes({ ...e7b, type: undefined }), U);
  s1.add(3, hardStateBytes(hs(3n, 0n, 6n)), U);
  const tailEnd = s1.length;
  const seg1 = s1.bytes(1024); // preallocated zeros after the last record
  return {
    name: 'legacy-unpadded',
    files: { [SEG0]: seg0, '0000000000000001-0000000000000005.wal': seg1 },
    metadata,
    expected: {
      '0/0': { hardState: hs(3n, 0n, 6n), entries: [e1, e2, e3, e4, e5, e6, e7b] },
    },
    validSnapshots: [{ index: 0n, term: 0n }],
    tailEnd,
  };
}

function raft37Typeless(): Fixture {
  const metadata = concat(vfield(1, 0x8e9e6f9d1c9e1a2bn), vfield(2, 0x1c2d3e4f5a6b7c8dn)); // etcdserverpb.Metadata{NodeID, ClusterID}
  const s = new SegmentBuilder(0);
  s.add(4, undefined).add(1, metadata).add(5, snapshotBytes(0n, 0n));
  const e1 = e(2n, 1n, 0); // leader's empty entry
  const e2 = e(2n, 2n, 1, utf8('confchange')); // EntryConfChange: Type set
  const e3 = e(2n, 3n, 0, 'put a=1');
  const e4 = e(2n, 4n, 0, 'put b=2'); // received from a 3.6 leader: explicit `08 00`
  const e5 = e(2n, 5n, 0, new Uint8Array(0)); // present but empty data: `22 00`
  const e6 = e(2n, 6n, 2, utf8('confchangev2'));
  s.add(2, entryBytes({ ...e1, type: undefined }));
  s.add(2, entryBytes(e2));
  s.add(2, entryBytes({ ...e3, type: undefined }));
  s.add(3, hardStateBytes(hs(2n, 1n, 3n)));
  // walpb.Snapshot{index 3, term 2, conf_state{voters [1], auto_leave false}}: 08 03 10 02 1a 04 08 01 28 00
  const snap3 = concat(vfield(1, 3n), vfield(2, 2n), bfield(3, concat(vfield(1, 1n), vfield(5, 0n))));
  expect(hex(snap3)).toBe('080310021a0408012800');
  s.add(5, snap3);
  s.add(2, entryBytes(e4));
  s.add(2, entryBytes({ ...e5, type: undefined }));
  s.add(2, entryBytes(e6));
  s.add(3, hardStateBytes(hs(2n, 1n, 6n)));
  const tailEnd = s.length;
  const confState = { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  return {
    name: 'raft37-typeless',
    files: { [SEG0]: s.bytes(4096) },
    metadata,
    expected: {
      '0/0': { hardState: hs(2n, 1n, 6n), entries: [e1, e2, e3, e4, e5, e6] },
      '3/2': { hardState: hs(2n, 1n, 6n), entries: [e4, e5, e6] },
    },
    validSnapshots: [
      { index: 0n, term: 0n },
      { index: 3n, term: 2n, confState },
    ],
    tailEnd,
  };
}

const builders = [legacyUnpadded, raft37Typeless];

if (process.env.WALNUT_WRITE_FIXTURES) {
  for (const b of builders) {
    const f = b();
    const dir = join(FIXTURES, f.name);
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(f.files)) writeFileSync(join(dir, name), bytes);
  }
}

function committed(name: string): Record<string, Uint8Array> {
  const dir = join(FIXTURES, name);
  const out: Record<string, Uint8Array> = {};
  for (const n of readdirSync(dir).filter((x) => x.endsWith('.wal'))) out[n] = new Uint8Array(readFileSync(join(dir, n)));
  return out;
}

function load(files: Record<string, Uint8Array>): MapFileSystem {
  const fs = new MapFileSystem();
  for (const [name, bytes] of Object.entries(files)) fs.putFile(`/wal/${name}`, bytes);
  return fs;
}

const norm = (entries: Entry[]) =>
  entries.map((x) => (x.data === undefined ? { index: x.index, term: x.term, type: x.type } : { ...x, data: hex(x.data) }));

for (const build of builders) {
  const fx = build();
  describe(`fixture ${fx.name}`, () => {
    it('the frames are as intended (unpadded / Type-less) and the CRC chain holds', () => {
      for (const [name, bytes] of Object.entries(fx.files)) {
        const frames = parseFrames(bytes);
        expect(frames.length, name).toBeGreaterThan(3);
        if (fx.name === 'legacy-unpadded') {
          expect(frames.every((f) => f.p === 0)).toBe(true);
          expect(frames.some((f) => f.n % 8 !== 0 && f.offset % 8 !== 0)).toBe(true);
          if (name === SEG0)
            expect(hex(bytes.subarray(16 - 4, 16 - 4 + 22))).toBe('0e000000000000000801' + '1099b5e4d0031a04' + '08effd02'); // TestReadRecord's record
        } else {
          expect(frames.every((f) => (f.offset % 8 === 0 && f.p > 0) || f.n % 8 === 0)).toBe(true);
        }
      }
      const typeless = Object.values(fx.files)
        .flatMap(parseFrames)
        .filter((f) => f.type === 2n && f.data![0] !== 0x08);
      expect(typeless.length).toBeGreaterThan(0);
    });

    it('the committed fixture files are byte-identical to the ones built here', () => {
      const c = committed(fx.name);
      expect(Object.keys(c).sort()).toEqual(Object.keys(fx.files).sort());
      for (const [name, bytes] of Object.entries(fx.files)) expect(hex(c[name]!), name).toBe(hex(bytes));
    });

    for (const source of ['built', 'committed'] as const) {
      const files = () => (source === 'built' ? fx.files : committed(fx.name));

      for (const [at, want] of Object.entries(fx.expected)) {
        const [index, term] = at.split('/').map(BigInt) as [bigint, bigint];

        it(`${source}: openForRead at {${index}, ${term}} + readAll returns the entries exactly (type 0 where Type is absent)`, async () => {
          const fs = load(files());
          const w = await Wal.openForRead(fs, '/wal', { index, term });
          const r = await w.readAll();
          await w.close();
          expect(hex(r.metadata!)).toBe(hex(fx.metadata));
          expect(r.hardState).toEqual(want.hardState);
          expect(norm(r.entries)).toEqual(norm(want.entries));
          for (const x of r.entries) expect('data' in x && x.data === undefined).toBe(false);
        });

        it(`${source}: open (write mode) at {${index}, ${term}} reads the same, appends after the last record, rereads`, async () => {
          const fs = load(files());
          const before = fs.dump();
          const w = await Wal.open(fs, '/wal', { index, term });
          const r = await w.readAll();
          expect(hex(r.metadata!)).toBe(hex(fx.metadata));
          expect(r.hardState).toEqual(want.hardState);
          expect(norm(r.entries)).toEqual(norm(want.entries));
          const last = r.entries[r.entries.length - 1]!.index;
          const more = [e(9n, last + 1n, 0, 'new-1'), e(9n, last + 2n, 1, 'new-cc'), e(9n, last + 3n, 0)];
          await w.save(hs(9n, 1n, last + 1n), more);
          await w.close();
          // Closed (non-tail) legacy segments are untouched; the tail keeps its records and gets padded frames after them.
          const names = Object.keys(fx.files).sort();
          const tail = names[names.length - 1]!;
          for (const n of names.slice(0, -1)) expect(fs.dump()[`/wal/${n}`]).toBe(before[`/wal/${n}`]);
          const tailBytes = fs.getFile(`/wal/${tail}`)!;
          expect(hex(tailBytes.subarray(0, fx.tailEnd))).toBe(hex(files()[tail]!.subarray(0, fx.tailEnd)));
          const frames = parseFrames(tailBytes);
          const appended = frames.filter((f) => f.offset >= fx.tailEnd);
          expect(appended[0]?.offset).toBe(fx.tailEnd);
          expect(appended.map((f) => Number(f.type))).toEqual([2, 2, 2, 3]);
          expect(appended.every((f) => (f.n + f.p) % 8 === 0)).toBe(true);
          // Reread, in both modes.
          for (const mode of ['read', 'write'] as const) {
            const again =
              mode === 'read' ? await Wal.openForRead(fs, '/wal', { index, term }) : await Wal.open(fs, '/wal', { index, term });
            const r2 = await again.readAll();
            await again.close();
            expect(r2.hardState).toEqual(hs(9n, 1n, last + 1n));
            expect(norm(r2.entries)).toEqual(norm([...want.entries, ...more]));
          }
        });
      }

      it(`${source}: appending enough to cut new segments after the legacy tail, then rereading everything`, async () => {
        const fs = load(files());
        const w = await Wal.open(fs, '/wal', { index: 0n, term: 0n }, { segmentSizeBytes: 1024 });
        const r = await w.readAll();
        let last = r.entries[r.entries.length - 1]!.index;
        const added: Entry[] = [];
        for (let i = 0; i < 12; i++) {
          const x = e(9n, ++last, 0, filled(150, i));
          added.push(x);
          await w.save(hs(9n, 1n, last), [x]);
        }
        await w.close();
        expect(fs.list('/wal').filter((n) => n.endsWith('.wal')).length).toBeGreaterThan(Object.keys(fx.files).length);
        const again = await Wal.openForRead(fs, '/wal', { index: 0n, term: 0n });
        const r2 = await again.readAll();
        expect(norm(r2.entries)).toEqual(norm([...fx.expected['0/0']!.entries, ...added]));
        expect(await Wal.verify(fs, '/wal', { index: 0n, term: 0n })).toEqual(hs(9n, 1n, last));
      });

      it(`${source}: verify and validSnapshotEntries`, async () => {
        const fs = load(files());
        for (const [at, want] of Object.entries(fx.expected)) {
          const [index, term] = at.split('/').map(BigInt) as [bigint, bigint];
          expect(await Wal.verify(fs, '/wal', { index, term })).toEqual(want.hardState);
        }
        expect(await Wal.validSnapshotEntries(fs, '/wal')).toEqual(fx.validSnapshots);
        expect(await Wal.repair(fs, '/wal')).toBe(true);
        expect(fs.list('/wal').some((n) => n.endsWith('.broken'))).toBe(false);
      });
    }
  });
}

describe('legacy tail without slack', () => {
  it('a single unpadded segment ending exactly at its last record: write mode appends and rereads', async () => {
    const fx = legacyUnpadded();
    const fs = load({ [SEG0]: fx.files[SEG0]! });
    const size = fx.files[SEG0]!.length;
    const w = await Wal.open(fs, '/wal', { index: 0n, term: 0n });
    const r = await w.readAll();
    expect(r.entries.map((x) => x.index)).toEqual([1n, 2n, 3n, 4n]);
    await w.save(hs(1n, 1n, 5n), [e(1n, 5n, 0, 'x')]);
    await w.close();
    const bytes = fs.getFile(`/wal/${SEG0}`)!;
    expect(parseFrames(bytes).filter((f) => f.offset >= size)[0]?.offset).toBe(size);
    const again = await Wal.openForRead(fs, '/wal', { index: 0n, term: 0n });
    expect((await again.readAll()).entries.map((x) => x.index)).toEqual([1n, 2n, 3n, 4n, 5n]);
  });
});
