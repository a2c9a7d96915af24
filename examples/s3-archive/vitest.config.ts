// The example runs as a user would run it (node dist/main.js), against a real S3 server: test/s3-server.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 600_000, globalSetup: ['test/s3-server.ts'] },
});
