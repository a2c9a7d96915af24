/**
 * The zero-fill of a segment, run on a worker thread of its own.
 *
 * Why a thread and not the libuv pool: a chunked fill through the pool needs a turn of the event loop
 * between chunks to issue the next write. A WAL whose data path is synchronous (fs-node's default
 * `io: 'sync'`) and a caller that saves in a loop never give the loop a turn, so the fill of the next
 * segment did not progress until the cut had to wait for all of it. Measured (workload b, 100 × 1 KiB
 * per save with fdatasync, 64 MB segments): the save that cut stalled 130–200 ms. On a thread the fill
 * runs while the loop is busy, and the cut finds the segment ready.
 *
 * One thread per process, started at the first fill and unreferenced while idle (it never keeps a
 * process alive on its own). Fills run one at a time, in request order. The descriptor stays open
 * meanwhile: the handle's close waits for its allocate, which waits for this fill.
 */
import { Worker } from 'node:worker_threads';

/** A fill request as the thread receives it. */
interface FillRequest {
  readonly id: number;
  readonly fd: number;
  readonly from: number;
  readonly to: number;
  readonly chunkBytes: number;
  readonly syncEveryBytes: number;
}

/** What the thread answers: done, or the failed call's errno details (an Error does not cross threads intact). */
type FillReply =
  | { readonly id: number; readonly ok: true }
  | {
      readonly id: number;
      readonly ok: false;
      readonly message: string;
      readonly code?: string;
      readonly errno?: number;
      readonly syscall?: string;
    };

/**
 * The thread's code, evaluated as CommonJS (no file to resolve: the same under vitest's TypeScript
 * sources and the built `dist`). Writes zeros chunk by chunk with pwrite, fdatasyncs every
 * `syncEveryBytes` and at the end, exactly as the pool version did.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
let zeros = new Uint8Array(0);
parentPort.on('message', (r) => {
  try {
    if (zeros.byteLength < r.chunkBytes) zeros = new Uint8Array(r.chunkBytes);
    let pos = r.from;
    let unsynced = 0;
    while (pos < r.to) {
      const n = Math.min(r.chunkBytes, r.to - pos);
      const written = fs.writeSync(r.fd, zeros, 0, n, pos);
      // A regular file's pwrite makes progress or fails (ENOSPC, EFBIG, EIO); zero would loop forever.
      if (written <= 0) throw Object.assign(new Error('zero-fill made no progress at offset ' + pos), { code: 'EIO', syscall: 'write' });
      pos += written;
      unsynced += written;
      if (unsynced >= r.syncEveryBytes && pos < r.to) {
        fs.fdatasyncSync(r.fd);
        unsynced = 0;
      }
    }
    fs.fdatasyncSync(r.fd);
    parentPort.postMessage({ id: r.id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id: r.id, ok: false, message: String(e && e.message), code: e && e.code, errno: e && e.errno, syscall: e && e.syscall });
  }
});
`;

/** Runs fills on the shared thread; see the module comment. */
class ZeroFillThread {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  fill(fd: number, from: number, to: number, chunkBytes: number, syncEveryBytes: number): Promise<void> {
    const worker = this.#start();
    const id = this.#nextId++;
    const request: FillRequest = { id, fd, from, to, chunkBytes, syncEveryBytes };
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Keep the process alive while a fill is in flight: its caller awaits it.
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage(request);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'walnut zero-fill' });
    worker.unref();
    worker.on('message', (reply: FillReply) => this.#settle(reply));
    // The thread itself failed (out of memory, terminated): fail what it held, start afresh next time.
    const fail = (err: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(Object.assign(new Error(`zero-fill thread failed: ${err.message}`), { code: 'EIO' }));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #settle(reply: FillReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.ok) p.resolve();
    else p.reject(Object.assign(new Error(reply.message), { code: reply.code, errno: reply.errno, syscall: reply.syscall }));
  }
}

const thread = new ZeroFillThread();

/**
 * Writes zeros over `[from, to)` of `fd` on the zero-fill thread, `chunkBytes` per pwrite, fdatasyncing
 * every `syncEveryBytes` and at the end. Rejects with an Error carrying the failed call's `code`
 * (`ENOSPC`, `EIO`, ...), which the caller maps to the FileSystem contract's typed errors.
 */
export function zeroFillOnThread(fd: number, from: number, to: number, chunkBytes: number, syncEveryBytes: number): Promise<void> {
  return thread.fill(fd, from, to, chunkBytes, syncEveryBytes);
}
