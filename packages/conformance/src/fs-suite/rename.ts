/** rename, with the rules of POSIX rename(2). */
import { describe, expect, it } from 'vitest';
import { readFully } from '@walnut/wal-core';
import { expectFsError, text, type SuiteContext } from './context.js';

export function renameTests(ctx: () => SuiteContext): void {
  describe('rename', () => {
    it('moves a file to a new name', async () => {
      const c = ctx();
      await c.writeFile(c.path('a.tmp'), 'payload');
      await c.fs.rename(c.path('a.tmp'), c.path('a'));
      expect(await c.fs.readdir(c.dir)).toEqual(['a']);
      expect(text(await c.readFile(c.path('a')))).toBe('payload');
    });

    it('moves a file between directories', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.writeFile(c.path('f'), 'x');
      await c.fs.rename(c.path('f'), c.path('d', 'g'));
      expect(await c.fs.readdir(c.path('d'))).toEqual(['g']);
      await expectFsError(c.fs.stat(c.path('f')), 'ENOENT');
    });

    it('replaces an existing file; a handle open on the replaced file still reads the old bytes', async () => {
      const c = ctx();
      await c.writeFile(c.path('target'), 'old');
      await c.writeFile(c.path('source'), 'new!');
      const old = await c.open(c.path('target'), 'read');
      await c.fs.rename(c.path('source'), c.path('target'));
      expect(await c.fs.readdir(c.dir)).toEqual(['target']);
      expect(text(await c.readFile(c.path('target')))).toBe('new!');
      const buf = new Uint8Array(3);
      expect(await readFully(old, buf, 0, 3, 0)).toBe(3);
      expect(text(buf)).toBe('old');
    });

    it('moves a directory with its content, also over an empty directory', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.writeFile(c.path('d', 'f'), 'x');
      await c.fs.rename(c.path('d'), c.path('e'));
      expect(await c.fs.readdir(c.path('e'))).toEqual(['f']);
      await c.fs.mkdir(c.path('empty'));
      await c.fs.rename(c.path('e'), c.path('empty'));
      expect(await c.fs.readdir(c.path('empty'))).toEqual(['f']);
      expect(await c.fs.readdir(c.dir)).toEqual(['empty']);
    });

    it('a directory over a non-empty directory fails with ENOTEMPTY', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.fs.mkdir(c.path('full'));
      await c.writeFile(c.path('full', 'x'), 'x');
      await expectFsError(c.fs.rename(c.path('d'), c.path('full')), 'ENOTEMPTY');
      expect(await c.fs.readdir(c.path('full'))).toEqual(['x']);
      expect((await c.fs.stat(c.path('d'))).isDirectory).toBe(true);
    });

    it('a file over a directory fails with EISDIR', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      await c.fs.mkdir(c.path('d'));
      await expectFsError(c.fs.rename(c.path('f'), c.path('d')), 'EISDIR');
      expect((await c.fs.stat(c.path('d'))).isDirectory).toBe(true);
      expect((await c.fs.stat(c.path('f'))).isFile).toBe(true);
    });

    it('a directory over a file fails with ENOTDIR', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.rename(c.path('d'), c.path('f')), 'ENOTDIR');
      expect((await c.fs.stat(c.path('f'))).isFile).toBe(true);
    });

    it('a missing source fails with ENOENT, as does a missing target directory', async () => {
      const c = ctx();
      await expectFsError(c.fs.rename(c.path('missing'), c.path('x')), 'ENOENT', c.path('missing'));
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.rename(c.path('f'), c.path('no-dir', 'f')), 'ENOENT');
      expect((await c.fs.stat(c.path('f'))).isFile).toBe(true);
    });

    it('a directory into its own subdirectory fails with EINVAL', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d', 'sub'), { recursive: true });
      await expectFsError(c.fs.rename(c.path('d'), c.path('d', 'sub', 'd')), 'EINVAL');
      expect(await c.fs.readdir(c.path('d'))).toEqual(['sub']);
    });

    it('renaming a name onto itself changes nothing', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'same');
      await c.fs.rename(c.path('f'), c.path('f'));
      expect(text(await c.readFile(c.path('f')))).toBe('same');
    });
  });
}
