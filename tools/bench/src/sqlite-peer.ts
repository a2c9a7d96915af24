/**
 * The Node peer on a and b: better-sqlite3 in WAL mode with synchronous=FULL (the fastest durable Node
 * store measured here), one transaction per save: the entries, then the hard state.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { shapeOf, type RunResult } from './workloads.js';

interface Statement {
  run(...args: unknown[]): unknown;
}
interface Database {
  pragma(s: string): unknown;
  exec(s: string): unknown;
  prepare(s: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

export function sqliteWrite(dir: string, workload: string, quick: boolean): RunResult {
  const require = createRequire(import.meta.url);
  const DatabaseCtor = require('better-sqlite3') as new (path: string) => Database;
  const s = shapeOf(workload, quick);
  const db = new DatabaseCtor(join(dir, 'peer.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER, type INTEGER, data BLOB); CREATE TABLE state (id INTEGER PRIMARY KEY, term INTEGER, vote INTEGER, commit_ INTEGER)',
  );
  const ins = db.prepare('INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)');
  const st = db.prepare('INSERT OR REPLACE INTO state VALUES (1, ?, ?, ?)');
  const data = Buffer.alloc(s.size, 3);
  const save = db.transaction((first: number) => {
    for (let i = 0; i < s.perSave; i++) ins.run(first + i, 1, 0, data);
    st.run(1, 1, first + s.perSave - 1);
  });
  let idx = 1;
  const t0 = performance.now();
  for (let i = 0; i < s.saves; i++) {
    save(idx);
    idx += s.perSave;
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  const entries = s.saves * s.perSave;
  return {
    impl: 'sqlite',
    workload,
    saves: s.saves,
    entries,
    payloadBytes: entries * s.size,
    seconds,
    entriesPerSec: entries / seconds,
    savesPerSec: s.saves / seconds,
    MBps: (entries * s.size) / 1e6 / seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}
