/**
 * In-process exclusive locks that behave like Linux open-file-description (OFD) locks:
 * - a lock belongs to one handle (the "owner"), not to the process: a second handle on the same
 *   file conflicts even in the same process;
 * - it is keyed by the file's inode, so it follows the file across renames and a new file under a
 *   removed file's name has its own lock;
 * - taking it again through the handle that holds it succeeds;
 * - closing the handle releases it.
 *
 * Waiting is done with promises only (no timers, no clock): waiters are served first come, first
 * served, and the lock is handed directly to the next waiter on release, so a late `tryLock`
 * cannot overtake a waiter that was already queued.
 */
import type { InodeIdentity } from './volume.js';

/** Whoever can hold a lock: one handle. Compared by identity. */
export type LockOwner = object;

interface Waiter {
  readonly owner: LockOwner;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface LockState {
  holder: LockOwner;
  readonly waiters: Waiter[];
}

/** See the module comment. */
export class LockTable {
  readonly #locks = new Map<InodeIdentity, LockState>();

  /** Takes the lock if it is free or already held by `owner`; false if another owner holds it. */
  tryAcquire(key: InodeIdentity, owner: LockOwner): boolean {
    const state = this.#locks.get(key);
    if (state === undefined) {
      this.#locks.set(key, { holder: owner, waiters: [] });
      return true;
    }
    return state.holder === owner;
  }

  /**
   * Takes the lock, waiting (first come, first served) while another owner holds it. A second
   * call by an owner that is already waiting shares the first call's wait.
   */
  acquire(key: InodeIdentity, owner: LockOwner): Promise<void> {
    if (this.tryAcquire(key, owner)) return Promise.resolve();
    const state = this.#locks.get(key)!;
    const queued = state.waiters.find((w) => w.owner === owner);
    if (queued !== undefined) return queued.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    state.waiters.push({ owner, promise, resolve, reject });
    return promise;
  }

  /** Releases the lock if `owner` holds it, handing it to the first waiter. */
  release(key: InodeIdentity, owner: LockOwner): void {
    const state = this.#locks.get(key);
    if (state === undefined || state.holder !== owner) return;
    const next = state.waiters.shift();
    if (next === undefined) {
      this.#locks.delete(key);
      return;
    }
    state.holder = next.owner;
    next.resolve();
  }

  /** Withdraws `owner`'s pending wait on `key`, rejecting it with `err`. */
  cancelWait(key: InodeIdentity, owner: LockOwner, err: unknown): void {
    const state = this.#locks.get(key);
    if (state === undefined) return;
    const i = state.waiters.findIndex((w) => w.owner === owner);
    if (i < 0) return;
    const [waiter] = state.waiters.splice(i, 1);
    waiter!.reject(err);
  }

  /** True if `owner` holds the lock on `key`. */
  holds(key: InodeIdentity, owner: LockOwner): boolean {
    return this.#locks.get(key)?.holder === owner;
  }
}
