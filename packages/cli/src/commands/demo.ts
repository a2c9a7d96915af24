/** `walnut demo [DIR]`: writes a small WAL on local disk and reads it back (the root `npm start`). */
import { Wal, joinPath } from '@walnut/wal-core';
import type { Entry, HardState } from '@walnut/wal-core';
import { listSegments } from '../files.js';
import { formatHardState, formatTextDump } from '../format.js';
import { ExitCode } from '../io.js';
import type { CommandContext } from '../io.js';
import { toJson } from '../json.js';
import { readWal } from '../read.js';

/** Segment size of the demo WAL: small, so that a few hundred KiB of entries cut several segments. */
export const DEMO_SEGMENT_SIZE = 64 * 1024;

const enc = new TextEncoder();
const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Deterministic, readable entry payload of 400..1599 bytes. */
function payload(index: number): Uint8Array {
  const head = `put /demo/key-${String(index).padStart(4, '0')} `;
  const len = 400 + ((index * 7919) % 1200);
  let s = head;
  while (s.length < len) s += FILLER;
  return enc.encode(s.slice(0, len));
}

/** A raftpb.ConfChange {ID: 0, Type: AddNode, NodeID: 1, Context: ...}, as raft bootstraps a member. */
function confChangeAddNode1(): Uint8Array {
  const ctx = enc.encode('{"name":"demo","peerURLs":["http://127.0.0.1:2380"]}');
  return Uint8Array.from([0x08, 0x00, 0x10, 0x00, 0x18, 0x01, 0x22, ctx.length, ...ctx]);
}

function entries(from: number, to: number, term: bigint): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: BigInt(i), term, type: 0, data: payload(i) });
  return out;
}

/**
 * Creates `<dataDir>/wal` (removing a previous demo WAL there), appends entries over two terms in
 * several saves so that several segments are cut, records a snapshot with a voter, closes, reopens
 * at the snapshot and prints a summary followed by the text dump.
 */
export async function demoCommand(ctx: CommandContext, dataDir: string, opts: { readonly json?: boolean } = {}): Promise<ExitCode> {
  const { fs, io } = ctx;
  const started = performance.now();
  const walDir = joinPath(dataDir, 'wal');
  await fs.remove(walDir, { recursive: true, force: true });
  await fs.remove(`${walDir}.tmp`, { recursive: true, force: true });
  await fs.mkdir(dataDir, { recursive: true });

  const metadata = enc.encode('walnut-demo: cluster 0x1, member 0x1');
  const wal = await Wal.create(fs, walDir, metadata, { segmentSizeBytes: DEMO_SEGMENT_SIZE });
  const snap = {
    index: 120n,
    term: 1n,
    confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
  };
  let saves = 0;
  let hs: HardState;
  try {
    // Term 1: the member votes for itself, bootstraps with a ConfChange, then appends.
    hs = { term: 1n, vote: 1n, commit: 0n };
    await wal.save(hs, [{ index: 1n, term: 1n, type: 1, data: confChangeAddNode1() }]);
    saves++;
    for (let from = 2; from <= 150; from += 30) {
      const to = Math.min(from + 29, 150);
      hs = { term: 1n, vote: 1n, commit: BigInt(from - 1) };
      await wal.save(hs, entries(from, to, 1n));
      saves++;
    }
    // The application persisted a snapshot at 120: record it and let older segments go.
    await wal.saveSnapshot(snap);
    await wal.releaseLockTo(snap.index);
    // Term 2: a new election, more entries, everything committed at the end.
    for (let from = 151; from <= 300; from += 30) {
      hs = { term: 2n, vote: 1n, commit: BigInt(from - 1) };
      await wal.save(hs, entries(from, from + 29, 2n));
      saves++;
    }
    hs = { term: 2n, vote: 1n, commit: 300n };
    await wal.save(hs, []);
    saves++;
  } finally {
    await wal.close();
  }

  const read = await readWal(fs, walDir, snap, false);
  if (read.error) throw read.error;
  const valid = await Wal.validSnapshotEntries(fs, walDir);
  const segments = await listSegments(fs, walDir);
  const ms = performance.now() - started;

  const first = read.entries[0];
  const last = read.entries[read.entries.length - 1];
  if (opts.json === true) {
    io.stdout(
      toJson({
        walDir,
        segmentSizeBytes: DEMO_SEGMENT_SIZE,
        entriesWritten: 300,
        saves,
        snapshot: { index: snap.index, term: snap.term },
        segments: segments.map((s) => ({ name: s.name, size: s.size })),
        read: {
          snap: { index: snap.index, term: snap.term },
          entries: read.entries.length,
          firstIndex: first?.index ?? null,
          lastIndex: last?.index ?? null,
          hardState: { term: read.hardState.term, vote: read.hardState.vote, commit: read.hardState.commit },
        },
        validSnapshots: valid.map((s) => ({ index: s.index, term: s.term })),
        elapsedMs: Math.round(ms),
      }) + '\n',
    );
    return ExitCode.Ok;
  }
  const out: string[] = [];
  out.push(`walnut demo: a WAL in ${walDir} (segment size ${DEMO_SEGMENT_SIZE / 1024} KiB)`);
  out.push(`wrote 300 entries in ${saves} saves over terms 1-2, snapshot 120:1 (voters [1]), released the locks of the segments before it`);
  out.push(`segments (${segments.length}):`);
  const w = Math.max(...segments.map((s) => String(s.size).length));
  for (const s of segments) out.push(`  ${s.name}  ${String(s.size).padStart(w)} bytes`);
  out.push(
    `reopened at snapshot 120:1: ${read.entries.length} entries read` +
      (first && last ? ` (index ${first.index} to ${last.index})` : '') +
      `, hard state ${formatHardState(read.hardState)}`,
  );
  out.push(`valid snapshots: ${valid.map((s) => `${s.index}:${s.term}`).join(' ')}`);
  out.push(`done in ${ms.toFixed(0)} ms; dump below (walnut dump ${walDir} --snap 120:1)`);
  out.push('');
  io.stdout(out.join('\n') + '\n');
  io.stdout(formatTextDump(read, { dir: walDir, snap, write: false }));
  return ExitCode.Ok;
}
