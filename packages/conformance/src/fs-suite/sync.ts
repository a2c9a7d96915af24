/** datasync, sync and syncDir: they succeed on existing targets and fail on missing ones. */
import { describe, expect, it } from 'vitest';
import { writeFully } from '@walnut/wal-core';
import { bytes, expectFsError, text, type SuiteContext } from './context.js';

export function syncTests(ctx: () => SuiteContext): void {
  describe('datasync, sync, syncDir', () => {
    it('datasync and sync succeed on written files, through writable and read-only handles', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('durable'), 0, 7, 0);
      await h.datasync();
      await h.sync();
      const r = await c.open(c.path('f'), 'read');
      await r.datasync();
      await r.sync();
      expect(text(await c.readFile(c.path('f')))).toBe('durable');
    });

    it('syncDir succeeds on a directory after creating, renaming and removing names in it', async () => {
      const c = ctx();
      await c.writeFile(c.path('a'), 'a');
      await c.fs.rename(c.path('a'), c.path('b'));
      await c.writeFile(c.path('c'), 'c');
      await c.fs.remove(c.path('c'));
      await c.fs.syncDir(c.dir);
      expect(await c.fs.readdir(c.dir)).toEqual(['b']);
    });

    it('syncDir of a missing directory fails with ENOENT, of a file with ENOTDIR', async () => {
      const c = ctx();
      const missing = c.path('missing');
      await expectFsError(c.fs.syncDir(missing), 'ENOENT', missing);
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.syncDir(c.path('f')), 'ENOTDIR', c.path('f'));
    });
  });
}
