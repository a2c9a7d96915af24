/** Reading a WAL the way `etcdwal dump` does, keeping the entries' data for display. */
import { Wal, EMPTY_HARD_STATE } from '@walnut/wal-core';
import type { Entry, FileSystem, HardState, WalOptions } from '@walnut/wal-core';
import { isWalError } from './errors.js';
import type { WalErrorLike } from './errors.js';
import type { SnapPosition } from './snap.js';

/** What opening and reading a WAL gave. */
export interface ReadOutcome {
  readonly metadata: Uint8Array | undefined;
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
  /** The error `open`/`readAll` reported, if any. */
  readonly error: WalErrorLike | undefined;
  /**
   * True when `error` is set and the values above are what was read before it
   * (the error's `partial`: etcd returns them for `wal: snapshot not found`).
   */
  readonly partial: boolean;
}

/**
 * Opens the WAL at `dir` at snapshot `snap` (`Wal.open` when `write`, else `Wal.openForRead`),
 * reads everything and closes it. WAL errors are returned, not thrown; anything else is thrown.
 */
export async function readWal(fs: FileSystem, dir: string, snap: SnapPosition, write: boolean, options?: WalOptions): Promise<ReadOutcome> {
  const failed = (error: WalErrorLike): ReadOutcome => {
    const p = (error as { partial?: { metadata: Uint8Array | undefined; hardState: HardState; entries: Entry[] } }).partial;
    if (p) return { metadata: p.metadata, hardState: p.hardState, entries: p.entries, error, partial: true };
    return { metadata: undefined, hardState: EMPTY_HARD_STATE, entries: [], error, partial: false };
  };
  let wal: Wal;
  try {
    wal = write ? await Wal.open(fs, dir, snap, options) : await Wal.openForRead(fs, dir, snap, options);
  } catch (e) {
    if (isWalError(e)) return failed(e);
    throw e;
  }
  let outcome: ReadOutcome;
  try {
    const r = await wal.readAll();
    outcome = { metadata: r.metadata, hardState: r.hardState, entries: r.entries, error: undefined, partial: false };
  } catch (e) {
    await wal.close().catch(() => undefined);
    if (isWalError(e)) return failed(e);
    throw e;
  }
  try {
    await wal.close();
  } catch (e) {
    if (isWalError(e)) return { ...outcome, error: e };
    throw e;
  }
  return outcome;
}
