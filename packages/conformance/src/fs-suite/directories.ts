/** readdir, stat, mkdir and remove. */
import { describe, expect, it } from 'vitest';
import { expectFsError, type SuiteContext } from './context.js';

export function directoryTests(ctx: () => SuiteContext): void {
  describe('readdir and stat', () => {
    it('readdir lists the names in a directory (no "." or "..")', async () => {
      const c = ctx();
      expect(await c.fs.readdir(c.dir)).toEqual([]);
      await c.writeFile(c.path('b.wal'), 'x');
      await c.writeFile(c.path('a.wal'), 'y');
      await c.fs.mkdir(c.path('sub'));
      await c.writeFile(c.path('sub', 'inner'), 'z');
      expect((await c.fs.readdir(c.dir)).sort()).toEqual(['a.wal', 'b.wal', 'sub']);
      expect(await c.fs.readdir(c.path('sub'))).toEqual(['inner']);
    });

    it('readdir of a missing directory fails with ENOENT, of a file with ENOTDIR', async () => {
      const c = ctx();
      await expectFsError(c.fs.readdir(c.path('missing')), 'ENOENT', c.path('missing'));
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.readdir(c.path('f')), 'ENOTDIR', c.path('f'));
    });

    it('stat reports size and kind of files and directories', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), '12345');
      expect(await c.fs.stat(c.path('f'))).toMatchObject({ size: 5, isFile: true, isDirectory: false });
      const d = await c.fs.stat(c.dir);
      expect(d.isDirectory).toBe(true);
      expect(d.isFile).toBe(false);
    });

    it('stat of a missing path fails with ENOENT, through a file with ENOTDIR', async () => {
      const c = ctx();
      await expectFsError(c.fs.stat(c.path('missing')), 'ENOENT', c.path('missing'));
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.stat(c.path('f', 'x')), 'ENOTDIR', c.path('f', 'x'));
    });
  });

  describe('mkdir', () => {
    it('creates a directory with mode 0o700 by default, or the given mode', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      expect(await c.fs.stat(c.path('d'))).toMatchObject({ isDirectory: true, mode: 0o700 });
      await c.fs.mkdir(c.path('e'), { mode: 0o500 });
      expect((await c.fs.stat(c.path('e'))).mode).toBe(0o500);
    });

    it('fails with EEXIST on an existing name, unless recursive and a directory', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await expectFsError(c.fs.mkdir(c.path('d')), 'EEXIST', c.path('d'));
      await c.fs.mkdir(c.path('d'), { recursive: true });
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.mkdir(c.path('f')), 'EEXIST', c.path('f'));
      await expectFsError(c.fs.mkdir(c.path('f'), { recursive: true }), 'EEXIST', c.path('f'));
    });

    it('recursive creates missing parents; without it a missing parent is ENOENT', async () => {
      const c = ctx();
      await expectFsError(c.fs.mkdir(c.path('a', 'b')), 'ENOENT', c.path('a', 'b'));
      await c.fs.mkdir(c.path('a', 'b', 'c'), { recursive: true });
      expect((await c.fs.stat(c.path('a', 'b', 'c'))).isDirectory).toBe(true);
      expect((await c.fs.stat(c.path('a'))).mode).toBe(0o700);
    });

    it('a regular file in the middle of the path is ENOTDIR, recursive or not', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.mkdir(c.path('f', 'd')), 'ENOTDIR');
      await expectFsError(c.fs.mkdir(c.path('f', 'd', 'e'), { recursive: true }), 'ENOTDIR');
      expect((await c.fs.stat(c.path('f'))).isFile).toBe(true);
    });
  });

  describe('remove', () => {
    it('removes a file and an empty directory', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      await c.fs.mkdir(c.path('d'));
      await c.fs.remove(c.path('f'));
      await c.fs.remove(c.path('d'));
      expect(await c.fs.readdir(c.dir)).toEqual([]);
    });

    it('a non-empty directory without recursive fails with ENOTEMPTY and stays intact', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.writeFile(c.path('d', 'f'), 'x');
      await expectFsError(c.fs.remove(c.path('d')), 'ENOTEMPTY', c.path('d'));
      await expectFsError(c.fs.remove(c.path('d'), { force: true }), 'ENOTEMPTY', c.path('d'));
      expect(await c.fs.readdir(c.path('d'))).toEqual(['f']);
    });

    it('recursive removes a whole tree', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d', 'e', 'f'), { recursive: true });
      await c.writeFile(c.path('d', 'x'), 'x');
      await c.writeFile(c.path('d', 'e', 'y'), 'y');
      await c.fs.remove(c.path('d'), { recursive: true });
      await expectFsError(c.fs.stat(c.path('d')), 'ENOENT');
      expect(await c.fs.readdir(c.dir)).toEqual([]);
    });

    it('recursive on a file removes the file', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      await c.fs.remove(c.path('f'), { recursive: true });
      await expectFsError(c.fs.stat(c.path('f')), 'ENOENT');
    });

    it('a missing path fails with ENOENT, unless force', async () => {
      const c = ctx();
      const p = c.path('missing');
      await expectFsError(c.fs.remove(p), 'ENOENT', p);
      await expectFsError(c.fs.remove(p, { recursive: true }), 'ENOENT', p);
      await c.fs.remove(p, { force: true });
      await c.fs.remove(p, { force: true, recursive: true });
    });

    it('a path through a regular file fails with ENOTDIR', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'x');
      await expectFsError(c.fs.remove(c.path('f', 'x')), 'ENOTDIR');
    });
  });
}
