// S3ObjectStore against the real server (Ceph RGW 16) when things go wrong: bad credentials, a missing
// bucket, nothing listening, the gateway SIGKILLed in the middle of a multipart upload, an aborted upload.
// Every failure must surface as a typed ArchiveError, quickly, with no credential in any message.
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wal } from '@walnut/wal-core';
import { NodeFileSystem } from '@walnut/fs-node';
import { S3ArchiveFileSystem, archiveSegments } from '../src/index.js';
import { AbortMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveAccessDeniedError,
  ArchiveBucketNotFoundError,
  ArchiveError,
  ArchiveUnreachableError,
  ObjectExistsError,
} from '../src/archive-errors.js';
import { S3ObjectStore } from '../src/s3-object-store.js';
import { expectSameBytes, putOptions } from './support/object-store-suite.js';
import {
  CRASH_LAB,
  freshS3Store,
  killServerAsync,
  s3Env,
  s3StoreOptions,
  startServer,
  stopServer,
  uniquePrefix,
  type S3Env,
} from './support/s3-lab.js';

const MiB = 1024 * 1024;

/** Every text an error exposes: message and stack, along its cause chain. */
function errorTexts(e: unknown): string {
  const out: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 10; depth++) {
    if (x instanceof Error) {
      out.push(x.message, x.stack ?? '', String(x));
      x = x.cause;
    } else {
      out.push(String(x));
      break;
    }
  }
  return out.join('\n');
}

/** Runs every operation of the store and returns what each threw (or 'ok'). */
async function everyOperation(store: S3ObjectStore, prefix: string): Promise<Record<string, unknown>> {
  const body = randomBytes(100);
  const ops: Record<string, () => Promise<unknown>> = {
    put: () => store.put(`${prefix}k`, body, putOptions(body, { a: 'b' })),
    get: () => store.get(`${prefix}k`),
    getRange: () => store.get(`${prefix}k`, { start: 0, end: 10 }),
    head: () => store.head(`${prefix}k`),
    list: () => store.list(prefix),
    delete: () => store.delete(`${prefix}k`),
  };
  const result: Record<string, unknown> = {};
  for (const [name, op] of Object.entries(ops))
    result[name] = await op().then(
      () => 'ok',
      (e: unknown) => e,
    );
  return result;
}

/** Multipart uploads still open under `prefix`. */
async function openUploads(client: S3Client, bucket: string, prefix: string): Promise<Array<{ Key?: string; UploadId?: string }>> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return out.Uploads ?? [];
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('S3ObjectStore faults (real server)', () => {
  it('a wrong secret key: every operation throws ArchiveAccessDeniedError, and no error text carries a credential', async () => {
    const env = s3Env();
    const secret = `walnut-wrong-secret-${randomBytes(8).toString('hex')}`;
    const prefix = uniquePrefix('denied');
    const store = new S3ObjectStore(
      s3StoreOptions({ prefix, credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: secret } }),
    );
    const results = await everyOperation(store, prefix);
    for (const [op, e] of Object.entries(results)) {
      expect(e, op).toBeInstanceOf(ArchiveAccessDeniedError);
      const text = errorTexts(e);
      expect(text, op).not.toContain(secret);
      expect(text, op).not.toContain(env.S3_SECRET_ACCESS_KEY);
      expect((e as Error).message, op).not.toContain(env.S3_ACCESS_KEY_ID);
    }
    expect((results.get as Error).message).toMatch(/SignatureDoesNotMatch/);

    // An unknown access key id is refused the same way (RGW: InvalidAccessKeyId).
    const unknownId = `WALNUTUNKNOWN${randomBytes(4).toString('hex').toUpperCase()}`;
    const store2 = new S3ObjectStore(s3StoreOptions({ prefix, credentials: { accessKeyId: unknownId, secretAccessKey: secret } }));
    const e2 = await store2.list(prefix).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(ArchiveAccessDeniedError);
    expect(errorTexts(e2)).not.toContain(secret);
    expect((e2 as Error).message).not.toContain(unknownId);
  });

  it('a missing bucket: every operation throws ArchiveBucketNotFoundError', async () => {
    const bucket = `walnut-missing-${randomBytes(4).toString('hex')}`;
    const store = new S3ObjectStore(s3StoreOptions({ bucket }));
    const results = await everyOperation(store, 'p/');
    for (const [op, e] of Object.entries(results)) {
      expect(e, op).toBeInstanceOf(ArchiveBucketNotFoundError);
      expect((e as ArchiveBucketNotFoundError).bucket, op).toBe(bucket);
    }
  });

  it('nothing listening: every operation throws ArchiveUnreachableError within a few seconds (bounded retries)', async () => {
    const port = await closedPort();
    const store = new S3ObjectStore(s3StoreOptions({ endpoint: `http://127.0.0.1:${port}` }));
    const t0 = performance.now();
    const results = await everyOperation(store, 'p/');
    const elapsed = performance.now() - t0;
    for (const [op, e] of Object.entries(results)) {
      expect(e, op).toBeInstanceOf(ArchiveUnreachableError);
      expect((e as Error).message, op).toMatch(/ECONNREFUSED/);
    }
    // Six operations, three attempts each with the standard backoff: well under 10 s in all.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('a multipart put aborted by its signal mid-upload rejects with the reason and leaves no object and no open upload', async () => {
    const { store, prefix } = freshS3Store({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB }, 'abort');
    const ac = new AbortController();
    const reason = new Error('shutting down');
    let parts = 0;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'UploadPartCommand' && ++parts === 1) ac.abort(reason);
        return out;
      },
      { step: 'initialize', name: 'walnutTestAbortAfterFirstPart' },
    );
    const body = randomBytes(23 * MiB); // 5 parts
    const key = `${prefix}aborted`;
    await expect(store.put(key, body, putOptions(body, {}, { signal: ac.signal }))).rejects.toBe(reason);
    expect(parts).toBeLessThan(5);
    expect(await store.head(key)).toBeUndefined();
    expect(await openUploads(store.client, s3Env().S3_BUCKET, prefix)).toEqual([]);
  });

  it('If-None-Match on CompleteMultipartUpload is ignored by Ceph RGW 16 (recorded; on PutObject it is honoured)', async () => {
    // Recorded behaviour of this server, not a wish: RGW 16.2 honours `If-None-Match: *` on PutObject
    // (412 -> ObjectExistsError) but completes a multipart upload over an existing object. AWS honours
    // both. So on RGW a conditional put above the multipart threshold is NOT protected against overwrite.
    const { store, prefix } = freshS3Store({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB }, 'inm');
    const key = `${prefix}k`;
    const first = randomBytes(1000);
    await store.put(key, first, putOptions(first, {}, { ifNoneMatch: true }));
    await expect(store.put(key, first, putOptions(first, {}, { ifNoneMatch: true }))).rejects.toBeInstanceOf(ObjectExistsError);
    const big = randomBytes(6 * MiB);
    const outcome = await store.put(key, big, putOptions(big, {}, { ifNoneMatch: true })).then(
      () => 'completed over the existing object',
      (e: unknown) => (e instanceof ObjectExistsError ? 'refused (412)' : e),
    );
    expect(outcome).toBe('completed over the existing object');
    expect((await store.head(key))?.size).toBe(big.length);
    expect(await openUploads(store.client, s3Env().S3_BUCKET, prefix)).toEqual([]);
  });

  // The gateway is SIGKILLed, so this runs on its own server instance (CRASH_LAB): test files running in
  // parallel keep the shared one.
  describe('the gateway SIGKILLed during a 40 MiB multipart put', () => {
    let env: S3Env;
    beforeAll(() => {
      env = startServer(CRASH_LAB);
    }, 240_000);
    afterAll(() => stopServer(CRASH_LAB, true), 120_000);

    it('the put rejects with a typed error; after the restart no object or partial object is visible; a retry succeeds byte-exactly', async () => {
      const { store, prefix } = freshS3Store({}, 'crash', env); // default 16 MiB threshold, 8 MiB parts, 2 at a time
      const key = `${prefix}segment`;
      const body = randomBytes(40 * MiB); // 5 parts
      const metadata = { 'walnut-kind': 'segment', 'walnut-size': String(body.length) };

      // Part bodies go out slowly (256 KiB every 20 ms, about 12 MiB/s per part), so parts are on the wire
      // for about 0.7 s each. The gateway is killed as soon as the first part is acknowledged, while the
      // next ones are mid-body; CompleteMultipartUpload waits for the kill, so the upload can never finish.
      let killed: Promise<void> | undefined;
      let acked = 0;
      const seen: string[] = [];
      const attemptErrors: string[] = [];
      store.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'CompleteMultipartUploadCommand') await killed;
          try {
            const out = await next(args);
            if (context.commandName === 'UploadPartCommand' && ++acked === 1) killed = killServerAsync('rgw', CRASH_LAB);
            seen.push(`${context.commandName}: ok`);
            return out;
          } catch (e) {
            seen.push(`${context.commandName}: ${(e as Error).name} ${(e as { code?: string }).code ?? ''}`.trim());
            throw e;
          }
        },
        { step: 'initialize', name: 'walnutTestKillAfterFirstPart' },
      );
      store.client.middlewareStack.add(
        // After signing (deserialize step): the same bytes, sent as a throttled stream. A fresh request per
        // attempt, so a retry streams the whole part again.
        (next) => async (args) => {
          const request = args.request as { body?: unknown };
          if (!(request.body instanceof Uint8Array) || request.body.length < MiB) return next(args);
          const bytes = request.body;
          const slow = Readable.from(
            (async function* () {
              for (let off = 0; off < bytes.length; off += 256 * 1024) {
                await sleep(20);
                yield bytes.subarray(off, off + 256 * 1024);
              }
            })(),
          );
          try {
            return await next({
              ...args,
              request: Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, { body: slow }),
            });
          } catch (e) {
            attemptErrors.push(`${(e as { code?: string }).code ?? (e as Error).name}: ${(e as Error).message}`);
            throw e;
          }
        },
        { step: 'deserialize', name: 'walnutTestThrottleBodies' },
      );
      const t0 = performance.now();
      const e = await store.put(key, body, putOptions(body, metadata, { ifNoneMatch: true })).catch((x: unknown) => x);
      const failedAfter = performance.now() - t0;
      await killed;
      expect(e, seen.join('; ')).toBeInstanceOf(ArchiveError);
      expect(e, seen.join('; ')).toBeInstanceOf(ArchiveUnreachableError);
      expect(failedAfter).toBeLessThan(30_000);
      // What the store saw: part 1 acknowledged, then connection errors (ECONNRESET / ECONNREFUSED), and the
      // AbortMultipartUpload attempt failing as well because the gateway is down.
      expect(seen.slice(0, 2)).toEqual(['CreateMultipartUploadCommand: ok', 'UploadPartCommand: ok']);
      expect(seen).not.toContain('CompleteMultipartUploadCommand: ok');
      // Where exactly the kill lands depends on the machine's load (usually a part mid-body: ECONNRESET, then
      // refused retries and a refused abort); what must hold is above and below, so the detail is only logged.
      console.log(
        `gateway killed mid-upload: put failed after ${Math.round(failedAfter)} ms with ${(e as Error).message}; ` +
          `requests: ${seen.join('; ')}; part attempts that failed: ${attemptErrors.join('; ')}`,
      );

      startServer(CRASH_LAB); // resumes the gateway (about 1 s)
      const fresh = new S3ObjectStore(s3StoreOptions({ prefix }, env));
      expect(await fresh.head(key)).toBeUndefined();
      expect(await fresh.list(prefix)).toEqual([]);
      await expect(fresh.client.send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: key }))).rejects.toMatchObject({
        name: 'NotFound',
      });
      // The abort could not reach the dead gateway, so the upload is orphaned (a lifecycle rule
      // AbortIncompleteMultipartUpload cleans these up in production); it is listed and can be aborted.
      const orphans = await openUploads(fresh.client, env.S3_BUCKET, prefix);
      console.log(`open uploads after the restart: ${orphans.length}`);
      expect(orphans.length).toBeLessThanOrEqual(1);
      for (const u of orphans)
        await fresh.client.send(new AbortMultipartUploadCommand({ Bucket: env.S3_BUCKET, Key: u.Key, UploadId: u.UploadId }));
      expect(await openUploads(fresh.client, env.S3_BUCKET, prefix)).toEqual([]);

      // The retry (still conditional: the key is free) succeeds and reads back byte-exactly.
      await fresh.put(key, body, putOptions(body, metadata, { ifNoneMatch: true }));
      expect(await fresh.head(key)).toEqual({ key, size: body.length, metadata });
      expectSameBytes(await fresh.get(key), body);
    });

    it('the archiver, gateway SIGKILLed in the middle of a round: a typed error, every segment still local or archived; after the restart the next round resumes and the WAL reads whole', async () => {
      const root = await mkdtemp(join(tmpdir(), 'walnut-s3a-kill-'));
      try {
        const { prefix } = freshS3Store({}, 'archiver-kill', env);
        const node = new NodeFileSystem();
        const store = new S3ObjectStore(s3StoreOptions({ prefix }, env));
        const fs = new S3ArchiveFileSystem(node, store, { prefix, root });
        const dir = `${root}/wal`;
        const wal = await Wal.create(fs, dir, undefined, { segmentSizeBytes: 256 * 1024 });
        const data = (i: bigint) => new Uint8Array(2000).fill(Number(i % 251n));
        for (let i = 1n; i <= 1000n; i++)
          await wal.save({ term: 1n, vote: 1n, commit: i }, [{ index: i, term: 1n, type: 0, data: data(i) }]);
        await wal.releaseLockTo(1000n);
        const segments = (await node.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
        expect(segments.length).toBeGreaterThan(6);
        // The gateway dies as the third upload is sent.
        let puts = 0;
        store.client.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'PutObjectCommand' && ++puts === 3) await killServerAsync('rgw', CRASH_LAB);
            return next(args);
          },
          { step: 'initialize', name: 'walnutTestKillOnThirdPut' },
        );
        const err = await archiveSegments(fs, dir, { max: 1, concurrency: 1 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ArchiveUnreachableError);
        const local = (await node.readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
        expect(local).toEqual(segments.slice(2)); // the two verified uploads left; nothing else did
        // The live WAL keeps working while the store is down.
        await wal.save({ term: 1n, vote: 1n, commit: 1001n }, [{ index: 1001n, term: 1n, type: 0, data: data(1001n) }]);
        await wal.close();

        startServer(CRASH_LAB);
        const fs2 = new S3ArchiveFileSystem(node, new S3ObjectStore(s3StoreOptions({ prefix }, env)), { prefix, root });
        const readAll = async () => {
          const r = await Wal.openForRead(fs2, dir, { index: 0n, term: 0n });
          try {
            return (await r.readAll()).entries;
          } finally {
            await r.close();
          }
        };
        expect((await readAll()).length).toBe(1001);
        const round = await archiveSegments(fs2, dir, { max: 1 });
        expect(round.archived.length).toBe(segments.length - 3);
        expect((await node.readdir(dir)).filter((n) => n.endsWith('.wal')).length).toBe(1);
        const all = await readAll();
        expect(all.map((e) => Number(e.index))).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
        expect(all[499]!.data).toEqual(data(500n));
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});
