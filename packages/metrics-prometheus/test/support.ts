// Shared by the tests: a WAL on fs-memory, what its segments hold (decoded with wal-core's decoder), and a
// reader of prom-client's text exposition.
import { EntryType, RecordDecoder, RecordType, type Entry, type FileSystem, type WalRecordKind } from '@walnut/wal-core';

export const DIR = '/data/wal';

export function entry(i: number): Entry {
  const data = new Uint8Array(500 + ((i * 37) % 700));
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k) & 0xff;
  return { index: BigInt(i), term: 1n, type: EntryType.Normal, data };
}

const KIND: Record<number, WalRecordKind> = {
  [RecordType.Entry]: 'entry',
  [RecordType.State]: 'state',
  [RecordType.Crc]: 'crc',
  [RecordType.Metadata]: 'metadata',
  [RecordType.Snapshot]: 'snapshot',
};

/** Every segment decoded on its own: records by kind, the bytes up to each one's last frame, the count. */
export async function onDisk(fs: FileSystem, dir = DIR): Promise<{ records: Record<string, number>; bytes: number; segments: number }> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
  const records: Record<string, number> = {};
  let bytes = 0;
  for (const name of names) {
    const file = await fs.open(`${dir}/${name}`, 'read');
    try {
      const dec = new RecordDecoder([{ name, file, size: await file.size() }]);
      let end = 0;
      for (let rec = await dec.next(); rec; rec = await dec.next()) {
        if (rec.type === RecordType.Crc) dec.acceptCrcRecord(rec);
        const kind = KIND[rec.type]!;
        records[kind] = (records[kind] ?? 0) + 1;
        end = rec.offset + rec.frameBytes;
      }
      bytes += end;
    } finally {
      await file.close();
    }
  }
  return { records, bytes, segments: names.length };
}

/** One sample of the text exposition: the value of `name` with exactly `labels`, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/)
      .filter((s) => s !== '')
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

/** A clock whose every reading is `step` ms after the previous one. */
export function steppingClock(step: number) {
  let t = 0;
  return { now: () => (t += step), wallTime: () => new Date(0) };
}
