// The README blocks run against the built packages (nx builds them before this test), not their sources.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 60_000 } });
