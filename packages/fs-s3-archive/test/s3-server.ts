/**
 * vitest globalSetup: starts the real S3 test server (Ceph RGW via `<repo>/../shared/s3/s3-server.sh`;
 * the first start on a machine apt-installs it, ~40 s) and provides its settings to the tests as
 * `inject('s3')` (see `support/s3-lab.ts`). They are also copied into `process.env` (`S3_ENDPOINT`, ...)
 * of this process, which forked test workers inherit.
 *
 * Teardown stops the server only if this run started it: a server that was already up (e.g. started by
 * hand for quick iterations) is left running. `stop` keeps the data; the prefixes tests use are unique.
 */
import type { TestProject } from 'vitest/node';
import { MAIN_LAB, runScript, startServer, stopServer } from './support/s3-lab.js';

let startedHere = false;

export function setup(project: TestProject): void {
  let running = false;
  try {
    runScript(['status'], MAIN_LAB, 30_000);
    running = true;
  } catch {
    running = false;
  }
  const env = startServer();
  startedHere = !running;
  Object.assign(process.env, env);
  project.provide('s3', env);
}

export function teardown(): void {
  if (startedHere) stopServer(MAIN_LAB);
}
