/**
 * {@link MemoryObjectStore}: the {@link ObjectStore} contract in memory, for deterministic simulation of
 * the archive (crash points between upload and local delete) and fast unit tests. It behaves as AWS S3
 * does where the contract leaves a choice: conditional puts are honoured, and the server verifies the
 * CRC-32C it is sent. It can fail the next operations and can alter stored bytes behind the archive's back.
 * The real-server tests run {@link S3ObjectStore} against Ceph RGW; this never replaces them.
 */
import { crc32cUpdate } from '@walnut/wal-core';
import { ArchiveUnreachableError, ObjectExistsError, ObjectNotFoundError } from './archive-errors.js';
import type { ObjectInfo, ObjectMetadata, ObjectStore, ObjectSummary, PutOptions, PutResult } from './object-store.js';
import { crc32cBase64 } from './segment-object.js';

interface StoredObject {
  readonly bytes: Uint8Array;
  readonly metadata: ObjectMetadata;
}

/** Options of {@link MemoryObjectStore}. */
export interface MemoryObjectStoreOptions {
  /** Shown in messages (default `memory://archive`). */
  readonly location?: string;
  /** Honour `ifNoneMatch` (default true, as AWS); false models a server that overwrites. */
  readonly honoursConditionalPut?: boolean;
  /** Verify and report the CRC-32C (default true, as AWS); false models Ceph RGW 16. */
  readonly verifiesChecksums?: boolean;
}

/** An in-memory object store. */
export class MemoryObjectStore implements ObjectStore {
  readonly location: string;
  readonly #objects = new Map<string, StoredObject>();
  readonly #conditional: boolean;
  readonly #checksums: boolean;
  #failures = 0;
  /** Every operation, in order (`put key`, `get key`, ...), for tests and traces. */
  readonly log: string[] = [];

  constructor(options: MemoryObjectStoreOptions = {}) {
    this.location = options.location ?? 'memory://archive';
    this.#conditional = options.honoursConditionalPut ?? true;
    this.#checksums = options.verifiesChecksums ?? true;
  }

  /** The next `n` operations fail with {@link ArchiveUnreachableError} (a server that is down). */
  failNext(n: number): void {
    this.#failures = n;
  }

  /** Replaces an object's bytes and keeps its metadata: tampering behind the archive's back. */
  tamper(key: string, change: (bytes: Uint8Array) => Uint8Array): void {
    const o = this.#objects.get(key);
    if (!o) throw new Error(`MemoryObjectStore.tamper: no object ${key}`);
    this.#objects.set(key, { bytes: change(o.bytes.slice()), metadata: o.metadata });
  }

  /** Keys stored, in order. */
  keys(): string[] {
    return [...this.#objects.keys()].sort();
  }

  /** A copy of the whole store (for crash simulation: the store survives a crash of the client). */
  clone(): MemoryObjectStore {
    const c = new MemoryObjectStore({
      location: this.location,
      honoursConditionalPut: this.#conditional,
      verifiesChecksums: this.#checksums,
    });
    for (const [k, v] of this.#objects) c.#objects.set(k, v);
    return c;
  }

  #op(what: string): void {
    this.log.push(what);
    if (this.#failures > 0) {
      this.#failures--;
      throw new ArchiveUnreachableError(this.location, `injected outage (${what})`);
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    this.#op(`put ${key}`);
    if (options.signal?.aborted) throw options.signal.reason;
    if (options.ifNoneMatch && this.#conditional && this.#objects.has(key)) throw new ObjectExistsError(this.location, key);
    const bytes = body.slice();
    if (this.#checksums && crc32cBase64(crc32cUpdate(0, bytes)) !== options.crc32cBase64) {
      throw new ArchiveUnreachableError(this.location, `checksum mismatch on upload of ${key} (BadDigest)`);
    }
    this.#objects.set(key, { bytes, metadata: { ...options.metadata } });
    return { serverVerifiedChecksum: this.#checksums };
  }

  async get(key: string, range?: { readonly start: number; readonly end: number }): Promise<Uint8Array> {
    this.#op(`get ${key}${range ? ` ${range.start}-${range.end}` : ''}`);
    const o = this.#objects.get(key);
    if (!o) throw new ObjectNotFoundError(this.location, key);
    return range ? o.bytes.slice(range.start, Math.min(range.end, o.bytes.length)) : o.bytes.slice();
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.#op(`head ${key}`);
    const o = this.#objects.get(key);
    return o ? { key, size: o.bytes.length, metadata: { ...o.metadata } } : undefined;
  }

  async list(prefix: string): Promise<ObjectSummary[]> {
    this.#op(`list ${prefix}`);
    return this.keys()
      .filter((k) => k.startsWith(prefix))
      .map((key) => ({ key, size: this.#objects.get(key)!.bytes.length }));
  }

  async delete(key: string): Promise<void> {
    this.#op(`delete ${key}`);
    this.#objects.delete(key);
  }
}
