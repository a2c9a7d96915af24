/**
 * vitest globalSetup: the S3 server the example runs against.
 *
 * - With S3_ENDPOINT and S3_BUCKET in the environment, those settings are used as they are (your own
 *   server, or AWS with S3_ENDPOINT pointing at it).
 * - Otherwise the repository's test server is started: Ceph RGW on 127.0.0.1 through
 *   `../shared/s3/s3-server.sh`, with the same state directory, ports, retries and FORCE_COLOR handling as
 *   fs-s3-archive's tests (its global setup is reused, not copied). Tests run one project at a time under nx
 *   (--parallel=1), so the two never start it at once; when running by hand alongside other S3 tests, wrap the
 *   run in `flock /tmp/walnut-s3.lock`. It is stopped afterwards only if this run started it.
 */
import type { TestProject } from 'vitest/node';
import type { S3Env } from '../../../packages/fs-s3-archive/test/support/s3-lab.js';
import { setup as startRepositoryServer, teardown as stopRepositoryServer } from '../../../packages/fs-s3-archive/test/s3-server.js';

let usesRepositoryServer = false;

export function setup(project: TestProject): void {
  const e = process.env;
  if (e.S3_ENDPOINT && e.S3_BUCKET) {
    project.provide('s3', {
      S3_ENDPOINT: e.S3_ENDPOINT,
      S3_BUCKET: e.S3_BUCKET,
      S3_REGION: e.S3_REGION ?? 'us-east-1',
      S3_ACCESS_KEY_ID: e.S3_ACCESS_KEY_ID ?? '',
      S3_SECRET_ACCESS_KEY: e.S3_SECRET_ACCESS_KEY ?? '',
      S3_FORCE_PATH_STYLE: e.S3_FORCE_PATH_STYLE ?? 'true',
    } satisfies S3Env);
    return;
  }
  usesRepositoryServer = true;
  startRepositoryServer(project);
}

export function teardown(): void {
  if (usesRepositoryServer) stopRepositoryServer();
}
