/**
 * etcd's page writer (pkg/ioutil/pagewriter.go), reproduced exactly because it decides where
 * segments are cut: between syncs the file only ever receives writes that end on a 4096-byte page
 * boundary (relative to the absolute file offset), buffered up to a 128 KiB watermark.
 *
 * Invariant: `osOffset` is the number of bytes handed to the file (etcd's "file position", which the
 * cut decision in `save` reads); `buffered` bytes follow it in `buf`, not yet written.
 */
import type { FileHandle } from './fs/file-system.js';
import { writeFully } from './fs/io.js';

/** etcd walPageBytes. */
export const PAGE_BYTES = 4096;
/** etcd defaultBufferBytes: the watermark. */
export const BUFFER_WATERMARK = 128 * 1024;

export class PageWriter {
  /** Buffer capacity is watermark + one page: a partial slack page can always be completed in it. */
  readonly buf = new Uint8Array(BUFFER_WATERMARK + PAGE_BYTES);
  buffered = 0;

  constructor(
    private readonly file: FileHandle,
    public osOffset: number,
    /** Called with the byte count of every write that reaches the file (metrics). */
    private readonly onWrite?: (bytes: number) => void,
  ) {}

  /** True if `n` more bytes fit under the watermark, i.e. `write` of them only copies. */
  fits(n: number): boolean {
    return this.buffered + n <= BUFFER_WATERMARK;
  }

  /**
   * Accounts for `n` bytes the caller wrote directly at `buf[buffered..]` (only after `fits(n)`):
   * the same effect as `write` of them, without the copy.
   */
  commitDirect(n: number): void {
    this.buffered += n;
  }

  /** etcd PageWriter.Write. */
  async write(p: Uint8Array): Promise<void> {
    let start = 0;
    let len = p.length;
    for (;;) {
      if (this.buffered + len <= BUFFER_WATERMARK) {
        this.buf.set(p.subarray(start, start + len), this.buffered);
        this.buffered += len;
        return;
      }
      // Complete the partial page in the buffer, if it is unaligned.
      let slack = PAGE_BYTES - ((this.osOffset + this.buffered) % PAGE_BYTES);
      if (slack !== PAGE_BYTES) {
        const partial = slack > len;
        if (partial) slack = len;
        this.buf.set(p.subarray(start, start + slack), this.buffered);
        this.buffered += slack;
        start += slack;
        len -= slack;
        // Not enough to complete the page: avoid an unaligned write.
        if (partial) return;
      }
      await this.flush();
      // Whole pages go straight to the file, without a copy.
      if (len > PAGE_BYTES) {
        const direct = Math.floor(len / PAGE_BYTES) * PAGE_BYTES;
        await writeFully(this.file, p, start, direct, this.osOffset);
        this.osOffset += direct;
        this.onWrite?.(direct);
        start += direct;
        len -= direct;
      }
      // The rest goes through the same procedure (it now fits, or completes another page).
    }
  }

  /** Writes whatever is buffered, aligned or not. */
  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const n = this.buffered;
    // Account before the write completes: if the write fails the WAL is poisoned anyway.
    this.buffered = 0;
    // One write is the usual case; writeFully only for the rest of a short one.
    const done = await this.file.write(this.buf, 0, n, this.osOffset);
    if (done < n) await writeFully(this.file, this.buf, done, n - done, this.osOffset + done);
    this.osOffset += n;
    this.onWrite?.(n);
  }
}
