// Shared vitest settings: every package's tests import workspace packages from source,
// so a test run never sees a stale dist/ of a sibling package.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const pkgs = ['native', 'wal-core', 'fs-node', 'fs-memory', 'conformance', 'cli', 'fs-s3-archive'];

export function walnutVitestConfig(options: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: {
      alias: pkgs.map((p) => ({ find: `@walnut/${p}`, replacement: `${root}packages/${p}/src/index.ts` })),
    },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: 600_000,
      pool: 'forks',
      reporters: ['default'],
    },
  });
}
