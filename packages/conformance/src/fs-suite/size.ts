/** size, truncate and allocate. */
import { describe, expect, it } from 'vitest';
import { readFully, writeFully } from '@walnut/wal-core';
import { bytes, expectFsError, pattern, text, type SuiteContext } from './context.js';

export function sizeTests(ctx: () => SuiteContext): void {
  describe('size, truncate, allocate', () => {
    it('size follows writes and agrees with stat', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      expect(await h.size()).toBe(0);
      await writeFully(h, pattern(100), 0, 100, 0);
      expect(await h.size()).toBe(100);
      await writeFully(h, pattern(10), 0, 10, 95);
      expect(await h.size()).toBe(105);
      expect((await c.fs.stat(c.path('f'))).size).toBe(105);
    });

    it('truncate shrinks, dropping bytes; extending again reads zeros, not the old bytes', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('abcdef'), 0, 6, 0);
      await h.truncate(2);
      expect(await h.size()).toBe(2);
      expect(text(await c.readFile(c.path('f')))).toBe('ab');
      await h.truncate(6);
      expect(await h.size()).toBe(6);
      expect(Array.from(await c.readFile(c.path('f')))).toEqual([97, 98, 0, 0, 0, 0]);
      await h.truncate(0);
      expect(await h.size()).toBe(0);
    });

    it('truncate extends with zeros', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('xy'), 0, 2, 0);
      await h.truncate(4096);
      const buf = new Uint8Array(4096);
      expect(await readFully(h, buf, 0, 4096, 0)).toBe(4096);
      expect(buf[0]).toBe(120);
      expect(buf[1]).toBe(121);
      expect(buf.subarray(2).every((b) => b === 0)).toBe(true);
    });

    it('allocate extends with zeros and keeps existing bytes', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('head'), 0, 4, 0);
      await h.allocate(64 * 1024);
      expect(await h.size()).toBe(64 * 1024);
      const content = await c.readFile(c.path('f'));
      expect(text(content.subarray(0, 4))).toBe('head');
      expect(content.subarray(4).every((b) => b === 0)).toBe(true);
    });

    it('allocate never shrinks: a smaller or equal size changes nothing', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('0123456789'), 0, 10, 0);
      await h.allocate(4);
      await h.allocate(10);
      await h.allocate(0);
      expect(await h.size()).toBe(10);
      expect(text(await c.readFile(c.path('f')))).toBe('0123456789');
    });

    it('writes inside an allocated region do not change the size', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await h.allocate(1000);
      await writeFully(h, bytes('mid'), 0, 3, 500);
      expect(await h.size()).toBe(1000);
      const content = await c.readFile(c.path('f'));
      expect(text(content.subarray(500, 503))).toBe('mid');
      expect(content.subarray(0, 500).every((b) => b === 0)).toBe(true);
    });

    it('a negative size fails with EINVAL', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await expectFsError(h.truncate(-1), 'EINVAL');
      await expectFsError(h.allocate(-1), 'EINVAL');
    });
  });
}
