/**
 * The checks, each turning a disagreement into a {@link SimFailure} with a message an engineer can act on:
 *
 * - every error a WAL call throws is a typed WalError (never a TypeError, a RangeError, a string);
 * - what readAll returns after a crash is exactly what etcd's rules give for the records the disk holds,
 *   and the disk holds a prefix of what was written that covers every acknowledged record (model.ts);
 * - validSnapshotEntries returns exactly the snapshot records on disk at or below the last commit;
 * - repair of a torn last segment keeps a full copy as `.broken` and cuts the segment back to its last good
 *   record (and touches nothing else).
 */
import { WalError, type Entry, type HardState, type Snapshot } from '@walnut/wal-core';
import { SimViolation } from './sim-fs.js';
import { hsText, sameBytes, sameEntry, type Expected } from './model.js';
import { sameHs } from './workload.js';

/** A property the simulation checks does not hold. */
export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

/** `p`, or a {@link SimFailure} naming `what` as a hang after `ms` of wall-clock time. */
export async function withWatchdog<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SimFailure(`${what}: no result after ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Short description of an error for traces: its code, or its class. */
export function errorCode(e: unknown): string {
  if (e instanceof WalError) return e.code;
  if (e instanceof Error) return e.constructor.name;
  return typeof e;
}

/** Every failure must be a typed error; a violation seen by the file system wrapper is a failure too. */
export function checkTyped(what: string, e: unknown): WalError {
  if (e instanceof SimViolation) throw new SimFailure(`${what}: ${e.message}`);
  if (e instanceof SimFailure) throw e;
  if (!(e instanceof WalError)) {
    const detail = e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
    throw new SimFailure(`${what} threw an untyped error: ${detail}`);
  }
  return e;
}

function entryText(e: Entry | undefined): string {
  if (!e) return 'nothing';
  return `${e.index}/${e.term} type ${e.type} ${e.data === undefined ? 'absent' : `${e.data.length} B`}`;
}

/** readAll's result against the model's expectation. */
export function checkReadAll(
  what: string,
  expected: Expected,
  actual: { ok: true; hardState: HardState; entries: readonly Entry[] } | { ok: false; error: WalError },
): void {
  if (!expected.ok) {
    if (actual.ok) throw new SimFailure(`${what}: expected ${expected.code} (${expected.detail}), readAll succeeded`);
    if (actual.error.code !== expected.code)
      throw new SimFailure(`${what}: expected ${expected.code} (${expected.detail}), got ${actual.error.code}: ${actual.error.message}`);
    return;
  }
  if (!actual.ok)
    throw new SimFailure(
      `${what}: expected ${expected.entries.length} entries and ${hsText(expected.hardState)}, got ${actual.error.code}: ${actual.error.message}`,
    );
  if (!sameHs(expected.hardState, actual.hardState))
    throw new SimFailure(`${what}: hard state ${hsText(actual.hardState)}, expected ${hsText(expected.hardState)}`);
  const n = Math.max(expected.entries.length, actual.entries.length);
  for (let i = 0; i < n; i++) {
    const a = actual.entries[i];
    const e = expected.entries[i];
    if (!a || !e || !sameEntry(a, e)) {
      throw new SimFailure(
        `${what}: entry [${i}] is ${entryText(a)}, expected ${entryText(e)} (${actual.entries.length} entries read, ${expected.entries.length} expected)`,
      );
    }
  }
}

/** validSnapshotEntries' result against the snapshot records on disk. */
export function checkValidSnapshots(what: string, expected: readonly Snapshot[], actual: readonly Snapshot[]): void {
  const t = (l: readonly Snapshot[]) => l.map((s) => `${s.index}/${s.term}`).join(',');
  if (t(expected) !== t(actual)) throw new SimFailure(`${what}: [${t(actual)}], expected [${t(expected)}]`);
}

/** Repair of a torn last segment: `<seg>.broken` = the old file; `<seg>` = its first `offset` bytes. */
export function checkRepair(
  what: string,
  segment: string,
  offset: number,
  before: ReadonlyMap<string, Uint8Array>,
  after: ReadonlyMap<string, Uint8Array>,
): void {
  const old = before.get(segment);
  const now = after.get(segment);
  const broken = after.get(`${segment}.broken`);
  if (!old || !now) throw new SimFailure(`${what}: ${segment} is missing after repair`);
  if (!sameBytes(broken, old)) throw new SimFailure(`${what}: ${segment}.broken is not a copy of the torn segment`);
  if (now.length !== offset || !sameBytes(now, old.subarray(0, offset)))
    throw new SimFailure(
      `${what}: ${segment} is ${now.length} bytes after repair, expected its first ${offset} bytes (the last good record)`,
    );
  for (const [name, bytes] of after) {
    if (name === segment || name === `${segment}.broken`) continue;
    if (!sameBytes(before.get(name), bytes)) throw new SimFailure(`${what}: repair changed ${name}`);
  }
}
