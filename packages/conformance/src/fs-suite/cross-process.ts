/** Locks between processes, for backends that provide {@link CrossProcessLocking}. */
import { describe, expect, it } from 'vitest';
import type { CrossProcessLocking } from '../file-system-suite.js';
import { BLOCKED_MS, SETTLE_MS, expectFsError, stateAfter, within, type SuiteContext } from './context.js';

/** Process start-up plus lock acquisition can take a while on a loaded CI machine. */
const PROCESS_TIMEOUT_MS = 30_000;

export function crossProcessTests(ctx: () => SuiteContext, crossProcess: CrossProcessLocking | undefined): void {
  describe('locks across processes', () => {
    if (crossProcess === undefined) {
      it.skip('not applicable: the factory provides no crossProcess (the backend lives in one process)', () => {});
      return;
    }

    it(
      'a lock held by another process fails tryLock with ELOCKED until that process is killed',
      async () => {
        const c = ctx();
        const p = c.path('LOCK');
        const h = await c.open(p, 'create');
        const holder = c.track(await crossProcess.holdLock(p));
        await expectFsError(h.tryLock(), 'ELOCKED', p);
        await holder.kill();
        await h.tryLock();
      },
      PROCESS_TIMEOUT_MS,
    );

    it(
      'lock() waits for a lock held by another process and is granted when it dies',
      async () => {
        const c = ctx();
        const p = c.path('LOCK');
        const h = await c.open(p, 'create');
        const holder = c.track(await crossProcess.holdLock(p));
        const waiting = h.lock();
        expect(await stateAfter(waiting, BLOCKED_MS)).toBe('pending');
        await holder.kill();
        await within(waiting, SETTLE_MS, 'lock() after the holding process died');
      },
      PROCESS_TIMEOUT_MS,
    );

    it(
      'a lock held here excludes another process, until it is released here',
      async () => {
        const c = ctx();
        const p = c.path('LOCK');
        const h = await c.open(p, 'create');
        await h.tryLock();
        await expectFsError(crossProcess.holdLock(p), 'ELOCKED');
        await h.close();
        const holder = c.track(await crossProcess.holdLock(p));
        await holder.kill();
      },
      PROCESS_TIMEOUT_MS,
    );
  });
}
