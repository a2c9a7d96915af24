// The shared settings, plus every core: the seed and fuzz ranges are split into files that run in parallel
// (vitest's default leaves one core idle, which on a 2-core CI machine means one file at a time).
import { availableParallelism } from 'node:os';
import { mergeConfig } from 'vitest/config';
import { walnutVitestConfig } from '../../vitest.shared.ts';

export default mergeConfig(walnutVitestConfig({ testTimeout: 600_000 }), { test: { maxWorkers: availableParallelism() } });
