import { defineConfig, mergeConfig } from 'vitest/config';
import { walnutVitestConfig } from '../../vitest.shared.ts';

export default mergeConfig(walnutVitestConfig(), defineConfig({ test: { setupFiles: ['test/fast-check-seed.ts'] } }));
