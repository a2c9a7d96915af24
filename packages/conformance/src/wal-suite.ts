/**
 * The WAL behaviour suite (DESIGN §5): every backend runs it with its own factory. It covers etcd's
 * golden files (byte-identical writes, identical reads, verify, snapshots, repair), the etcd wal package
 * tests (etcd-wal-format.md §4), corruption cases, seeded round trips, large entries and many segments.
 */
import { describe } from 'vitest';
import { goldenSuite } from './wal-suite/golden.js';
import { etcdWalTests } from './wal-suite/etcd-tests.js';
import { roundTripTests } from './wal-suite/round-trips.js';
import { purgeTests } from './wal-suite/purge.js';
import { replayTests } from './wal-suite/replay.js';
import { segmentOrderTests } from './wal-suite/segment-order.js';
import type { WalSuiteFactory } from './wal-suite/support.js';

export type { WalSuiteFactory } from './wal-suite/support.js';
export { fill, SeededRandom, goldenDir, goldenDatasets, sharedDir, repositoryRoot } from './wal-suite/support.js';

/** Registers the WAL behaviour tests for one backend. */
export function walSuite(factory: WalSuiteFactory): void {
  describe(`WAL conformance: ${factory.name}`, () => {
    goldenSuite(factory);
    etcdWalTests(factory);
    roundTripTests(factory);
    purgeTests(factory);
    replayTests(factory);
    segmentOrderTests(factory);
  });
}
