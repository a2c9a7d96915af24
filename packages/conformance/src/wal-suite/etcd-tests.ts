import { describe } from 'vitest';
import type { WalSuiteFactory } from './support.js';

export function etcdWalTests(factory: WalSuiteFactory): void {
  describe('etcd-tests', () => {
    void factory;
  });
}
