import { describe } from 'vitest';
import type { WalSuiteFactory } from './support.js';

export function roundTripTests(factory: WalSuiteFactory): void {
  describe('round-trips', () => {
    void factory;
  });
}
