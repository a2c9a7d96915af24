// The ObjectStore contract on every implementation: in memory, and S3ObjectStore against the real server
// (Ceph RGW 16, started by test/s3-server.ts).
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../src/memory-object-store.js';
import type { S3ObjectStore } from '../src/s3-object-store.js';
import { expectSameBytes, objectStoreSuite, putOptions } from './support/object-store-suite.js';
import { freshS3Store, s3Env } from './support/s3-lab.js';

const MiB = 1024 * 1024;

objectStoreSuite('MemoryObjectStore', (tuning) => ({
  store: new MemoryObjectStore(),
  prefix: 'mem/',
  honoursConditionalPut: true,
  honoursConditionalMultipart: true,
  verifiesChecksums: true,
  multipartThresholdBytes: tuning.multipartThresholdBytes,
}));

objectStoreSuite('S3ObjectStore on Ceph RGW 16', (tuning) => {
  const { store, prefix } = freshS3Store(tuning, 'contract');
  return {
    store,
    prefix,
    // Observed on Ceph RGW 16.2: If-None-Match: * is honoured on PutObject (412), but ignored on
    // CompleteMultipartUpload (the upload completes over the existing object). AWS honours both.
    honoursConditionalPut: true,
    honoursConditionalMultipart: false,
    // RGW 16 neither verifies nor returns x-amz-checksum-crc32c.
    verifiesChecksums: false,
    multipartThresholdBytes: tuning.multipartThresholdBytes,
  };
});

describe('S3ObjectStore specifics (real server)', () => {
  /** Counts the requests per command the store's client sends (retries included once). */
  function countCommands(store: S3ObjectStore): Map<string, number> {
    const counts = new Map<string, number>();
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '?';
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'walnutTestCountCommands' },
    );
    return counts;
  }

  it('list follows continuation tokens page by page (MaxKeys = listPageSize)', async () => {
    const { store, prefix } = freshS3Store({ listPageSize: 2 }, 'paging');
    const body = new Uint8Array(3);
    for (let i = 0; i < 7; i++) await store.put(`${prefix}${i}`, body, putOptions(body));
    const counts = countCommands(store);
    expect((await store.list(prefix)).map((o) => o.key)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `${prefix}${i}`));
    expect(counts.get('ListObjectsV2Command')).toBe(4);
    for (let i = 0; i < 7; i++) await store.delete(`${prefix}${i}`);
  });

  it('above the threshold a put is a multipart upload of partSizeBytes parts; at the threshold one PutObject', async () => {
    const { store, prefix } = freshS3Store({ multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB }, 'mpu');
    const counts = countCommands(store);
    const atThreshold = randomBytes(6 * MiB);
    await store.put(`${prefix}one`, atThreshold, putOptions(atThreshold));
    expect(Object.fromEntries(counts)).toEqual({ PutObjectCommand: 1 });
    counts.clear();
    const above = randomBytes(6 * MiB + 1);
    await store.put(`${prefix}two`, above, putOptions(above, { m: 'x' }));
    expect(Object.fromEntries(counts)).toEqual({
      CreateMultipartUploadCommand: 1,
      UploadPartCommand: 2,
      CompleteMultipartUploadCommand: 1,
    });
    const head = await store.client.send(new HeadObjectCommand({ Bucket: s3Env().S3_BUCKET, Key: `${prefix}two` }));
    expect(head.ETag).toMatch(/-2"$/); // a two-part multipart object
    expect(head.Metadata).toEqual({ m: 'x' });
    expectSameBytes(await store.get(`${prefix}two`), above);
    await store.delete(`${prefix}one`);
    await store.delete(`${prefix}two`);
  });

  it('sends our CRC-32C (x-amz-checksum-crc32c) on PutObject, on every part, and for the whole object on Complete', async () => {
    const { store, prefix } = freshS3Store({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB }, 'crc');
    const sent: Array<[string, string | undefined, string | undefined]> = [];
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sent.push([context.commandName ?? '?', headers['x-amz-checksum-crc32c'], headers['x-amz-checksum-type']]);
        return next(args);
      },
      { step: 'deserialize', name: 'walnutTestCaptureHeaders' },
    );
    const small = randomBytes(1000);
    const opts = putOptions(small);
    await store.put(`${prefix}s`, small, opts);
    expect(sent).toEqual([['PutObjectCommand', opts.crc32cBase64, undefined]]);
    sent.length = 0;
    const big = randomBytes(5 * MiB + 10);
    const bigOpts = putOptions(big);
    await store.put(`${prefix}b`, big, bigOpts);
    expect(sent).toEqual([
      ['CreateMultipartUploadCommand', undefined, 'FULL_OBJECT'],
      ['UploadPartCommand', putOptions(big.subarray(0, 5 * MiB)).crc32cBase64, undefined],
      ['UploadPartCommand', putOptions(big.subarray(5 * MiB)).crc32cBase64, undefined],
      ['CompleteMultipartUploadCommand', bigOpts.crc32cBase64, 'FULL_OBJECT'],
    ]);
    await store.delete(`${prefix}s`);
    await store.delete(`${prefix}b`);
  });

  it('location names the bucket and prefix, never credentials', () => {
    const { store, prefix } = freshS3Store({}, 'loc');
    expect(store.location).toBe(`s3://${s3Env().S3_BUCKET}/${prefix}`);
  });
});
