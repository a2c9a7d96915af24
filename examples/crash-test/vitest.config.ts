// The example imports walnut the way an application does: the built packages (nx builds them before the test).
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 } });
