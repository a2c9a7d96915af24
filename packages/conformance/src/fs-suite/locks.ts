/** Exclusive advisory locks between handles of one process (OFD-lock semantics). */
import { describe, expect, it } from 'vitest';
import { LockedError } from '@walnut/wal-core';
import { BLOCKED_MS, SETTLE_MS, expectFsError, stateAfter, within, type SuiteContext } from './context.js';

export function lockTests(ctx: () => SuiteContext): void {
  describe('locks', () => {
    it('tryLock excludes a second handle on the same file with ELOCKED (a LockedError)', async () => {
      const c = ctx();
      const p = c.path('LOCK');
      const a = await c.open(p, 'create');
      const b = await c.open(p, 'readWrite');
      await a.tryLock();
      const e = await expectFsError(b.tryLock(), 'ELOCKED', p);
      expect(e).toBeInstanceOf(LockedError);
    });

    it('the holder may take its own lock again', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      await a.tryLock();
      await a.tryLock();
      await within(a.lock(), SETTLE_MS, 'lock() by the holder');
    });

    it('unlock lets another handle take the lock; unlock without the lock is a no-op', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('f'), 'readWrite');
      await b.unlock();
      await a.tryLock();
      await b.unlock(); // not the holder: must not release a's lock
      await expectFsError(b.tryLock(), 'ELOCKED');
      await a.unlock();
      await b.tryLock();
      await expectFsError(a.tryLock(), 'ELOCKED');
    });

    it('close releases the lock', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('f'), 'readWrite');
      await a.tryLock();
      await a.close();
      await b.tryLock();
    });

    it('locks on different files are independent', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('g'), 'create');
      await a.tryLock();
      await b.tryLock();
    });

    it('lock() on a free file resolves at once', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      await within(a.lock(), SETTLE_MS, 'lock() on a free file');
      const b = await c.open(c.path('f'), 'readWrite');
      await expectFsError(b.tryLock(), 'ELOCKED');
    });

    it('lock() waits while another handle holds the lock and is granted on unlock', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('f'), 'readWrite');
      await a.tryLock();
      const waiting = b.lock();
      expect(await stateAfter(waiting, BLOCKED_MS)).toBe('pending');
      await a.unlock();
      await within(waiting, SETTLE_MS, 'lock() after the holder unlocked');
      await expectFsError(a.tryLock(), 'ELOCKED');
    });

    it('lock() waits while another handle holds the lock and is granted when the holder closes', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('f'), 'readWrite');
      await a.lock();
      const waiting = b.lock();
      expect(await stateAfter(waiting, BLOCKED_MS)).toBe('pending');
      await a.close();
      await within(waiting, SETTLE_MS, 'lock() after the holder closed');
      const d = await c.open(c.path('f'), 'readWrite');
      await expectFsError(d.tryLock(), 'ELOCKED');
    });

    it('closing a handle whose lock() is waiting rejects it with EBADF and takes nothing', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      const b = await c.open(c.path('f'), 'readWrite');
      await a.tryLock();
      const waiting = b.lock();
      expect(await stateAfter(waiting, BLOCKED_MS)).toBe('pending');
      await b.close();
      await expectFsError(within(waiting, SETTLE_MS, 'the cancelled lock()'), 'EBADF');
      await a.unlock();
      const d = await c.open(c.path('f'), 'readWrite');
      await within(d.lock(), SETTLE_MS, 'lock() after the cancelled waiter');
      const e = await c.open(c.path('f'), 'readWrite');
      await expectFsError(e.tryLock(), 'ELOCKED');
    });

    it('a lock belongs to the file, not its name: it follows a rename, and a new file at the old name is free', async () => {
      const c = ctx();
      const a = await c.open(c.path('f'), 'create');
      await a.tryLock();
      await c.fs.rename(c.path('f'), c.path('g'));
      const b = await c.open(c.path('g'), 'readWrite');
      await expectFsError(b.tryLock(), 'ELOCKED');
      const fresh = await c.open(c.path('f'), 'createExclusive');
      await fresh.tryLock();
    });

    it('an exclusive lock needs a handle open for writing (EBADF on a read-only handle)', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      const r = await c.open(c.path('f'), 'read');
      await expectFsError(r.tryLock(), 'EBADF');
      await expectFsError(r.lock(), 'EBADF');
      const w = await c.open(c.path('f'), 'readWrite');
      await w.tryLock();
    });
  });
}
