/**
 * The contents of a file as the durability model keeps them: the written bytes, then zeros up to the
 * size. A WAL segment preallocated to 64 MB with a few KiB written costs a few KiB here, so a durable
 * copy of every file (and a crash image of it) is proportional to the data, not to the file sizes.
 *
 * Invariant: `#buf` holds bytes `[0, #len)`; every byte of `#buf` from `#len` on is zero; the file's
 * bytes `[#len, #size)` are zeros; `#len <= #size`.
 */

const EMPTY = new Uint8Array(0);

export class SparseBytes {
  #buf: Uint8Array = EMPTY;
  #len = 0;
  #size = 0;

  /** The file size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Bytes from this offset on are all zeros (the written, possibly non-zero, part ends here). */
  get dataLength(): number {
    return this.#len;
  }

  /** The written part, `[0, dataLength)` (a view: do not keep it across changes). */
  data(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Writes `bytes` at `position`, zero-filling any gap and extending the size as needed. */
  write(position: number, bytes: Uint8Array): void {
    const end = position + bytes.length;
    if (bytes.length === 0) return;
    if (end > this.#buf.length) this.#grow(end);
    this.#buf.set(bytes, position);
    if (end > this.#len) this.#len = end;
    if (end > this.#size) this.#size = end;
  }

  /** Sets the size: shorter drops bytes, longer appends zeros. */
  setSize(size: number): void {
    if (size < this.#len) {
      this.#buf.fill(0, size, this.#len);
      this.#len = size;
    }
    this.#size = size;
  }

  /** An independent copy. */
  clone(): SparseBytes {
    const c = new SparseBytes();
    c.#buf = this.#buf.slice(0, this.#len);
    c.#len = this.#len;
    c.#size = this.#size;
    return c;
  }

  /** The whole file as one array of `size` bytes. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    out.set(this.#buf.subarray(0, this.#len));
    return out;
  }

  /** Builds the contents from the written part and a size (`data.length <= size`); takes `data` over. */
  static of(data: Uint8Array, size: number): SparseBytes {
    const s = new SparseBytes();
    s.#buf = data;
    s.#len = data.length;
    s.#size = Math.max(size, data.length);
    return s;
  }

  #grow(needed: number): void {
    // Doubling keeps appends linear; a single huge write gets exactly what it needs.
    const doubled = this.#buf.length * 2;
    const next = new Uint8Array(doubled >= needed && doubled - needed < 64 * 1024 * 1024 ? doubled : needed);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}
