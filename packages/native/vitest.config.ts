import { walnutVitestConfig } from '../../vitest.shared.ts';

export default walnutVitestConfig();
