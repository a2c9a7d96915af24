import { walnutVitestConfig } from '../../vitest.shared.ts';

export default walnutVitestConfig({ testTimeout: 600_000 });
