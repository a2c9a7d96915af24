/**
 * The {@link ObjectStore} contract, as a suite every implementation runs: {@link MemoryObjectStore} and
 * {@link S3ObjectStore} against the real server (test/object-store.test.ts). Where the contract leaves the
 * server a choice (conditional puts, checksum verification), the store under test declares what it does
 * and the suite checks exactly that, so a server that changes behaviour fails the suite.
 */
import { randomBytes } from 'node:crypto';
import { crc32cUpdate } from '@walnut/wal-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveError, ObjectExistsError, ObjectNotFoundError } from '../../src/archive-errors.js';
import type { ObjectStore, PutOptions } from '../../src/object-store.js';

const MiB = 1024 * 1024;

/** Settings a store under test should use where it has them (the memory store has none). */
export interface StoreTuning {
  /** Objects per listing page (S3 MaxKeys): small, so listing must follow continuation tokens. */
  readonly listPageSize: number;
  /** Bodies above this go in a multipart upload. */
  readonly multipartThresholdBytes: number;
  /** Part size of multipart uploads (S3: at least 5 MiB but the last). */
  readonly partSizeBytes: number;
}

/** A store to test, and what it does where the contract leaves a choice. */
export interface StoreUnderTest {
  readonly store: ObjectStore;
  /** Every key the suite writes starts with this (the store may be shared with other tests). */
  readonly prefix: string;
  /** `ifNoneMatch` on a single put of an existing key throws {@link ObjectExistsError}. */
  readonly honoursConditionalPut: boolean;
  /** `ifNoneMatch` on a multipart put of an existing key throws {@link ObjectExistsError}. */
  readonly honoursConditionalMultipart: boolean;
  /** The server verifies the CRC-32C it is sent: `serverVerifiedChecksum` is true, and a wrong one is refused. */
  readonly verifiesChecksums: boolean;
  /** Bodies larger than this take the multipart path. */
  readonly multipartThresholdBytes: number;
}

/** The tuning the suite asks for. */
export const SUITE_TUNING: StoreTuning = { listPageSize: 3, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB };

const crc32cB64 = (bytes: Uint8Array) => {
  const crc = crc32cUpdate(0, bytes);
  return Buffer.from([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]).toString('base64');
};

/** Put options for `body` with its correct CRC-32C. */
export function putOptions(body: Uint8Array, metadata: Record<string, string> = {}, extra: Partial<PutOptions> = {}): PutOptions {
  return { metadata, crc32cBase64: crc32cB64(body), ifNoneMatch: false, ...extra };
}

/** `Buffer.compare` equality that prints lengths and the first difference instead of megabytes. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.length);
  if (!a.equals(b)) {
    let i = 0;
    while (a[i] === b[i]) i++;
    expect.fail(`bytes differ first at offset ${i} of ${a.length}`);
  }
}

/** Runs the contract against the stores `factory` makes (one per test). */
export function objectStoreSuite(name: string, factory: (tuning: StoreTuning) => StoreUnderTest | Promise<StoreUnderTest>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const made: StoreUnderTest[] = [];
    const make = async () => {
      const s = await factory(SUITE_TUNING);
      made.push(s);
      return s;
    };
    afterEach(async () => {
      // Leave nothing behind on a shared server.
      for (const s of made.splice(0)) for (const o of await s.store.list(s.prefix)) await s.store.delete(o.key);
    });

    it('puts and gets an object whole, and reports checksum verification as the server does', async () => {
      const { store, prefix, verifiesChecksums } = await make();
      const body = randomBytes(100_003);
      const res = await store.put(`${prefix}a`, body, putOptions(body, { kind: 'seg' }));
      expect(res.serverVerifiedChecksum).toBe(verifiesChecksums);
      expectSameBytes(await store.get(`${prefix}a`), body);
      const empty = new Uint8Array(0);
      await store.put(`${prefix}empty`, empty, putOptions(empty));
      expect((await store.get(`${prefix}empty`)).length).toBe(0);
      expect((await store.head(`${prefix}empty`))?.size).toBe(0);
    });

    it('gets byte ranges [start, end): first byte, middle, last byte, whole; a range past the end is clipped to the end', async () => {
      const { store, prefix } = await make();
      const body = randomBytes(1000);
      const key = `${prefix}r`;
      await store.put(key, body, putOptions(body));
      const cases: Array<[number, number]> = [
        [0, 1],
        [10, 20],
        [999, 1000],
        [0, 1000],
        [500, 1000],
      ];
      for (const [start, end] of cases) expectSameBytes(await store.get(key, { start, end }), body.subarray(start, end));
      expectSameBytes(await store.get(key, { start: 997, end: 1100 }), body.subarray(997)); // clipped
      expect((await store.get(key, { start: 1000, end: 1010 })).length).toBe(0); // starts at the end
      expect((await store.get(key, { start: 5000, end: 5010 })).length).toBe(0); // starts past the end
      expect((await store.get(key, { start: 5, end: 5 })).length).toBe(0); // empty range
    });

    it('a missing key: get throws ObjectNotFoundError (also ranged), head returns undefined', async () => {
      const { store, prefix } = await make();
      const key = `${prefix}missing`;
      const e = await store.get(key).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ObjectNotFoundError);
      expect((e as ObjectNotFoundError).key).toBe(key);
      await expect(store.get(key, { start: 0, end: 10 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get(key, { start: 3, end: 3 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.head(key)).toBeUndefined();
    });

    it('head returns the size and the metadata (lower-case keys) as put', async () => {
      const { store, prefix } = await make();
      const body = randomBytes(4321);
      const metadata = { 'walnut-crc32c': '0a1b2c3d', 'walnut-first-index': '18446744073709551615', 'walnut-kind': 'segment' };
      await store.put(`${prefix}h`, body, putOptions(body, metadata));
      const info = await store.head(`${prefix}h`);
      expect(info).toEqual({ key: `${prefix}h`, size: 4321, metadata });
    });

    it('lists every object under a prefix in key order, across several pages, and nothing outside it', async () => {
      const { store, prefix } = await make();
      const names = ['0000000000000007-x.wal', 'b', 'a/2', 'a/10', 'a/1', '0000000000000001-y.wal', 'c', 'a', 'zz'];
      for (const [i, n] of names.entries()) {
        const body = new Uint8Array(i + 1).fill(i);
        await store.put(`${prefix}d/${n}`, body, putOptions(body));
      }
      const outside = new Uint8Array(1);
      await store.put(`${prefix}dd`, outside, putOptions(outside)); // shares the string prefix `${prefix}d` but not `${prefix}d/`
      const listed = await store.list(`${prefix}d/`);
      const expected = names
        .map((n, i) => ({ key: `${prefix}d/${n}`, size: i + 1 }))
        .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      expect(listed).toEqual(expected);
      expect(listed.length).toBeGreaterThan(SUITE_TUNING.listPageSize * 2); // three pages at least
      expect((await store.list(`${prefix}a/`)).length).toBe(0);
      expect((await store.list(`${prefix}d/a/1`)).map((o) => o.key)).toEqual([`${prefix}d/a/1`, `${prefix}d/a/10`]);
    });

    it('delete removes an object and is idempotent; deleting a key never written is not an error', async () => {
      const { store, prefix } = await make();
      const body = randomBytes(10);
      await store.put(`${prefix}x`, body, putOptions(body));
      await store.delete(`${prefix}x`);
      expect(await store.head(`${prefix}x`)).toBeUndefined();
      await expect(store.get(`${prefix}x`)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await store.delete(`${prefix}x`);
      await store.delete(`${prefix}never-written`);
      expect(await store.list(prefix)).toEqual([]);
    });

    it('a conditional put stores a new key, and refuses an existing one where the store honours it', async () => {
      const { store, prefix, honoursConditionalPut } = await make();
      const first = randomBytes(64);
      const second = randomBytes(64);
      await store.put(`${prefix}c`, first, putOptions(first, { v: '1' }, { ifNoneMatch: true }));
      const attempt = store.put(`${prefix}c`, second, putOptions(second, { v: '2' }, { ifNoneMatch: true }));
      if (honoursConditionalPut) {
        const e = await attempt.catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ObjectExistsError);
        expect((e as ObjectExistsError).key).toBe(`${prefix}c`);
        expectSameBytes(await store.get(`${prefix}c`), first);
        expect((await store.head(`${prefix}c`))?.metadata).toEqual({ v: '1' });
      } else {
        await attempt;
        expectSameBytes(await store.get(`${prefix}c`), second);
      }
      // Without the condition an existing key is overwritten.
      await store.put(`${prefix}c`, second, putOptions(second, { v: '3' }));
      expectSameBytes(await store.get(`${prefix}c`), second);
    });

    it('a wrong CRC-32C is refused where the server verifies checksums (nothing stored), ignored where it does not', async () => {
      const { store, prefix, verifiesChecksums } = await make();
      const body = randomBytes(1000);
      const wrong = putOptions(body, {}, { crc32cBase64: crc32cB64(randomBytes(1000)) });
      if (verifiesChecksums) {
        await expect(store.put(`${prefix}bad`, body, wrong)).rejects.toBeInstanceOf(ArchiveError);
        expect(await store.head(`${prefix}bad`)).toBeUndefined();
      } else {
        expect(await store.put(`${prefix}bad`, body, wrong)).toEqual({ serverVerifiedChecksum: false });
        expectSameBytes(await store.get(`${prefix}bad`), body);
      }
    });

    it('a put whose signal is already aborted rejects with its reason and stores nothing', async () => {
      const { store, prefix } = await make();
      const body = randomBytes(10);
      const ac = new AbortController();
      const reason = new Error('stop');
      ac.abort(reason);
      await expect(store.put(`${prefix}ab`, body, putOptions(body, {}, { signal: ac.signal }))).rejects.toBe(reason);
      expect(await store.head(`${prefix}ab`)).toBeUndefined();
    });

    it('a body larger than the multipart threshold round-trips byte-exactly with its metadata', async () => {
      const { store, prefix, multipartThresholdBytes, verifiesChecksums } = await make();
      const size = Math.max(multipartThresholdBytes, SUITE_TUNING.partSizeBytes) * 2 + 12_345; // 3 parts, the last short
      const body = randomBytes(size);
      const metadata = { 'walnut-size': String(size), 'walnut-kind': 'segment' };
      const res = await store.put(`${prefix}big`, body, putOptions(body, metadata, { ifNoneMatch: true }));
      expect(res.serverVerifiedChecksum).toBe(verifiesChecksums);
      expect(await store.head(`${prefix}big`)).toEqual({ key: `${prefix}big`, size, metadata });
      expectSameBytes(await store.get(`${prefix}big`), body);
      // A range across the part boundary.
      const p = SUITE_TUNING.partSizeBytes;
      expectSameBytes(await store.get(`${prefix}big`, { start: p - 7, end: p + 9 }), body.subarray(p - 7, p + 9));
      expect(await store.list(prefix)).toEqual([{ key: `${prefix}big`, size }]);
    });

    it('a conditional multipart put over an existing key is refused where the store honours it', async () => {
      const { store, prefix, multipartThresholdBytes, honoursConditionalMultipart } = await make();
      const small = randomBytes(100);
      await store.put(`${prefix}bigc`, small, putOptions(small, { v: '1' }));
      const body = randomBytes(multipartThresholdBytes + 1000);
      const attempt = store.put(`${prefix}bigc`, body, putOptions(body, { v: '2' }, { ifNoneMatch: true }));
      if (honoursConditionalMultipart) {
        await expect(attempt).rejects.toBeInstanceOf(ObjectExistsError);
        expectSameBytes(await store.get(`${prefix}bigc`), small);
      } else {
        // The server completes the upload over the existing object (Ceph RGW 16 ignores If-None-Match on
        // CompleteMultipartUpload): a caller that relies on the condition must check before uploading.
        await attempt;
        expectSameBytes(await store.get(`${prefix}bigc`), body);
      }
    });
  });
}
