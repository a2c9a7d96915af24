/**
 * Reading an archived segment: a read-only {@link FileHandle} whose bytes come from ranged GETs of the
 * segment's object, a verification chunk at a time (see segment-object.ts). Every chunk's CRC-32C is
 * checked against the object's metadata before any of its bytes are returned, so a tampered or damaged
 * object is an {@link ArchiveCorruptionError} on the read that touches it, never wrong data. Sequential
 * readers (every WAL reader) get read-ahead: a miss fetches `readAheadBytes` in one GET. Verified chunks
 * are kept in a cache shared by the file system's handles, bounded in bytes, least recently used out.
 */
import { FileSystemError, crc32cUpdate, type FileHandle } from '@walnut/wal-core';
import { ArchiveCorruptionError } from './archive-errors.js';
import type { ObjectStore } from './object-store.js';
import type { SegmentFacts } from './segment-object.js';

/** A byte-bounded LRU of verified chunks, keyed by `key#object CRC-32C#chunk`. */
export class ChunkCache {
  readonly #max: number;
  readonly #map = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = Math.max(0, maxBytes);
  }

  get(id: string): Uint8Array | undefined {
    const v = this.#map.get(id);
    if (v) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }

  set(id: string, v: Uint8Array): void {
    if (v.length > this.#max) return;
    const old = this.#map.get(id);
    if (old) {
      this.#map.delete(id);
      this.#bytes -= old.length;
    }
    this.#map.set(id, v);
    this.#bytes += v.length;
    for (const [k, x] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= x.length;
    }
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** A read-only handle on an archived segment. */
export class ArchivedSegmentHandle implements FileHandle {
  #closed = false;
  /** Chunks of the last fetch not (or no longer) in the shared cache: a private read-ahead window. */
  #window = new Map<number, Uint8Array>();

  constructor(
    readonly path: string,
    private readonly key: string,
    private readonly facts: SegmentFacts,
    private readonly store: ObjectStore,
    private readonly cache: ChunkCache,
    private readonly readAheadBytes: number,
  ) {}

  /** Cache id of chunk `i`: the object's CRC-32C is part of it, so a key reused for other bytes never hits old chunks. */
  #id(i: number): string {
    return `${this.key}#${this.facts.crc32c.toString(16)}#${i}`;
  }

  #check(syscall: string): void {
    if (this.#closed) throw new FileSystemError('EBADF', syscall, this.path, 'handle is closed');
  }

  #readOnly(syscall: string): Promise<never> {
    return Promise.reject(new FileSystemError('EROFS', syscall, this.path, 'an archived segment is immutable'));
  }

  /** Chunk `i`, verified: from the window, the cache, or a GET of it and the following read-ahead chunks. */
  async #chunk(i: number): Promise<Uint8Array> {
    const id = this.#id(i);
    const have = this.#window.get(i) ?? this.cache.get(id);
    if (have) return have;
    const { chunkBytes, size, chunkCrcs } = this.facts;
    const count = Math.max(1, Math.ceil(this.readAheadBytes / chunkBytes));
    const last = Math.min(chunkCrcs.length, i + count);
    const start = i * chunkBytes;
    const end = Math.min(size, last * chunkBytes);
    const body = await this.store.get(this.key, { start, end });
    if (body.length !== end - start) {
      throw new ArchiveCorruptionError(
        this.key,
        `bytes ${start}..${end}: the store returned ${body.length} bytes, expected ${end - start}`,
      );
    }
    const window = new Map<number, Uint8Array>();
    for (let c = i; c < last; c++) {
      const part = body.subarray((c - i) * chunkBytes, Math.min(body.length, (c - i + 1) * chunkBytes));
      const crc = crc32cUpdate(0, part) >>> 0;
      if (crc !== chunkCrcs[c]) {
        throw new ArchiveCorruptionError(
          this.key,
          `chunk ${c} (bytes ${c * chunkBytes}..${c * chunkBytes + part.length}) has CRC-32C ${crc.toString(16)}, its metadata says ${(chunkCrcs[c] ?? 0).toString(16)}`,
        );
      }
      window.set(c, part);
      this.cache.set(this.#id(c), part);
    }
    this.#window = window;
    return window.get(i)!;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.#check('read');
    const { size, chunkBytes } = this.facts;
    const end = Math.min(size, position + length);
    let at = position;
    while (at < end) {
      const i = Math.floor(at / chunkBytes);
      const chunk = await this.#chunk(i);
      const from = at - i * chunkBytes;
      const n = Math.min(chunk.length - from, end - at);
      buffer.set(chunk.subarray(from, from + n), offset + (at - position));
      at += n;
    }
    return Math.max(0, end - position);
  }

  async size(): Promise<number> {
    this.#check('fstat');
    return this.facts.size;
  }

  write(): Promise<number> {
    return this.#readOnly('write');
  }
  truncate(): Promise<void> {
    return this.#readOnly('ftruncate');
  }
  allocate(): Promise<void> {
    return this.#readOnly('fallocate');
  }
  async datasync(): Promise<void> {
    this.#check('fdatasync');
  }
  async sync(): Promise<void> {
    this.#check('fsync');
  }
  tryLock(): Promise<void> {
    return this.#readOnly('flock');
  }
  lock(): Promise<void> {
    return this.#readOnly('flock');
  }
  async unlock(): Promise<void> {
    this.#check('flock');
  }
  async close(): Promise<void> {
    this.#check('close');
    this.#closed = true;
    this.#window.clear();
  }
}
