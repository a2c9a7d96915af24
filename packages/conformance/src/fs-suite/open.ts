/** FileSystem.open: the five flags, modes, and the errors of opening. */
import { describe, expect, it } from 'vitest';
import { bytes, expectFsError, text, type SuiteContext } from './context.js';

export function openTests(ctx: () => SuiteContext): void {
  describe('open', () => {
    it('create makes an empty regular file with mode 0o600 by default', async () => {
      const c = ctx();
      const p = c.path('new');
      const h = await c.open(p, 'create');
      expect(h.path).toBe(p);
      expect(await h.size()).toBe(0);
      const st = await c.fs.stat(p);
      expect(st).toMatchObject({ size: 0, isFile: true, isDirectory: false, mode: 0o600 });
    });

    it('create honours an explicit mode', async () => {
      const c = ctx();
      await c.open(c.path('ro'), 'create', { mode: 0o400 });
      expect((await c.fs.stat(c.path('ro'))).mode).toBe(0o400);
    });

    it('create opens an existing file without truncating it', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'keep me');
      const h = await c.open(c.path('f'), 'create');
      expect(await h.size()).toBe(7);
      expect(text(await c.readFile(c.path('f')))).toBe('keep me');
    });

    it('createExclusive creates a new file and fails with EEXIST on an existing name', async () => {
      const c = ctx();
      const p = c.path('x');
      await c.open(p, 'createExclusive');
      expect((await c.fs.stat(p)).isFile).toBe(true);
      await expectFsError(c.fs.open(p, 'createExclusive'), 'EEXIST', p);
      await c.fs.mkdir(c.path('d'));
      await expectFsError(c.fs.open(c.path('d'), 'createExclusive'), 'EEXIST');
    });

    it('createTruncate truncates an existing file to zero and creates a missing one', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'old content');
      const h = await c.open(c.path('f'), 'createTruncate');
      expect(await h.size()).toBe(0);
      await c.open(c.path('g'), 'createTruncate');
      expect((await c.fs.stat(c.path('g'))).size).toBe(0);
    });

    it('read and readWrite open existing files and fail with ENOENT on missing ones', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'abc');
      const r = await c.open(c.path('f'), 'read');
      const rw = await c.open(c.path('f'), 'readWrite');
      const buf = new Uint8Array(3);
      expect(await r.read(buf, 0, 3, 0)).toBe(3);
      expect(text(buf)).toBe('abc');
      expect(await rw.write(bytes('X'), 0, 1, 1)).toBe(1);
      expect(text(await c.readFile(c.path('f')))).toBe('aXc');
      const missing = c.path('missing');
      await expectFsError(c.fs.open(missing, 'read'), 'ENOENT', missing);
      await expectFsError(c.fs.open(missing, 'readWrite'), 'ENOENT', missing);
    });

    it('creating in a missing directory fails with ENOENT', async () => {
      const c = ctx();
      const p = c.path('no-such-dir', 'f');
      for (const flags of ['create', 'createExclusive', 'createTruncate'] as const) {
        await expectFsError(c.fs.open(p, flags), 'ENOENT', p);
      }
    });

    it('a path through a regular file fails with ENOTDIR', async () => {
      const c = ctx();
      await c.writeFile(c.path('file'), 'x');
      const p = c.path('file', 'child');
      await expectFsError(c.fs.open(p, 'create'), 'ENOTDIR', p);
      await expectFsError(c.fs.open(p, 'read'), 'ENOTDIR', p);
    });

    it('opening a directory fails with EISDIR, whatever the flags', async () => {
      const c = ctx();
      const d = c.path('d');
      await c.fs.mkdir(d);
      for (const flags of ['read', 'readWrite', 'create', 'createTruncate'] as const) {
        await expectFsError(c.fs.open(d, flags), 'EISDIR', d);
      }
    });
  });
}
