/** Positional read and write, short writes, read-only and closed handles. */
import { describe, expect, it } from 'vitest';
import { readFully, writeFully, type FileHandle } from '@walnut/wal-core';
import { bytes, expectFsError, pattern, text, type SuiteContext } from './context.js';

/** A view of `inner` whose writes never write more than `max` bytes (a legal short write). */
function shortWriting(inner: FileHandle, max: number, calls: { n: number }): FileHandle {
  return {
    path: inner.path,
    read: (b, o, l, p) => inner.read(b, o, l, p),
    write: (b, o, l, p) => {
      calls.n++;
      return inner.write(b, o, Math.min(l, max), p);
    },
    size: () => inner.size(),
    truncate: (s) => inner.truncate(s),
    allocate: (s) => inner.allocate(s),
    datasync: () => inner.datasync(),
    sync: () => inner.sync(),
    tryLock: () => inner.tryLock(),
    lock: () => inner.lock(),
    unlock: () => inner.unlock(),
    close: () => inner.close(),
  };
}

export function ioTests(ctx: () => SuiteContext): void {
  describe('read and write', () => {
    it('reads back what was written, through the same and through another handle', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      expect(await h.write(bytes('hello world'), 0, 11, 0)).toBeGreaterThan(0);
      await writeFully(h, bytes('hello world'), 0, 11, 0);
      const buf = new Uint8Array(11);
      expect(await readFully(h, buf, 0, 11, 0)).toBe(11);
      expect(text(buf)).toBe('hello world');
      const other = await c.open(c.path('f'), 'read');
      const buf2 = new Uint8Array(5);
      expect(await readFully(other, buf2, 0, 5, 6)).toBe(5);
      expect(text(buf2)).toBe('world');
    });

    it('writes only buffer[offset, offset+length) at the given position', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('0123456789'), 0, 10, 0);
      await writeFully(h, bytes('abcdefgh'), 2, 3, 4); // "cde" at 4
      expect(text(await c.readFile(c.path('f')))).toBe('0123cde789');
    });

    it('reads into buffer[offset..] and leaves the rest of the buffer alone', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'abcdef');
      const h = await c.open(c.path('f'), 'read');
      const buf = bytes('..........');
      expect(await readFully(h, buf, 3, 4, 1)).toBe(4);
      expect(text(buf)).toBe('...bcde...');
    });

    it('writing past the end extends the file and zero-fills the gap', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('ab'), 0, 2, 0);
      await writeFully(h, bytes('Z'), 0, 1, 10);
      expect(await h.size()).toBe(11);
      expect(Array.from(await c.readFile(c.path('f')))).toEqual([97, 98, 0, 0, 0, 0, 0, 0, 0, 0, 90]);
    });

    it('reads at or past the end of file return 0; a read straddling the end returns what there is', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'abc');
      const h = await c.open(c.path('f'), 'read');
      const buf = new Uint8Array(8);
      expect(await h.read(buf, 0, 8, 3)).toBe(0);
      expect(await h.read(buf, 0, 8, 1000)).toBe(0);
      expect(await readFully(h, buf, 0, 8, 1)).toBe(2);
      expect(text(buf.subarray(0, 2))).toBe('bc');
      expect(await h.read(buf, 0, 0, 0)).toBe(0);
    });

    it('writeFully completes a range across short writes, each landing at the right place', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      const calls = { n: 0 };
      const data = pattern(40);
      await writeFully(shortWriting(h, 3, calls), data, 5, 20, 7);
      expect(calls.n).toBe(7); // ceil(20 / 3)
      const content = await c.readFile(c.path('f'));
      expect(content.length).toBe(27);
      expect(Array.from(content.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(Array.from(content.subarray(7))).toEqual(Array.from(data.subarray(5, 25)));
    });

    it('moves a large range (4 MiB) intact through writeFully and readFully', async () => {
      const c = ctx();
      const h = await c.open(c.path('big'), 'create');
      const data = pattern(4 << 20, 7);
      await writeFully(h, data, 0, data.length, 0);
      expect(await h.size()).toBe(data.length);
      const back = new Uint8Array(data.length);
      expect(await readFully(h, back, 0, back.length, 0)).toBe(data.length);
      expect(Buffer.compare(back, data)).toBe(0);
    });

    it('concurrent writes to different ranges all land', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      const chunks = Array.from({ length: 16 }, (_, i) => pattern(1000, i + 1));
      await Promise.all(chunks.map((chunk, i) => writeFully(h, chunk, 0, chunk.length, i * 1000)));
      const content = await c.readFile(c.path('f'));
      chunks.forEach((chunk, i) => expect(Buffer.compare(content.subarray(i * 1000, (i + 1) * 1000), chunk)).toBe(0));
    });

    it('a range outside the buffer or a negative position fails with EINVAL', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      const buf = new Uint8Array(4);
      await expectFsError(h.write(buf, 2, 4, 0), 'EINVAL');
      await expectFsError(h.read(buf, 0, 8, 0), 'EINVAL');
      await expectFsError(h.write(buf, 0, 1, -1), 'EINVAL');
      expect(await h.size()).toBe(0);
    });

    it('writes, truncate and allocate through a read-only handle fail with EBADF and change nothing', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'abc');
      const h = await c.open(c.path('f'), 'read');
      await expectFsError(h.write(bytes('X'), 0, 1, 0), 'EBADF', c.path('f'));
      await expectFsError(h.truncate(1), 'EBADF');
      await expectFsError(h.allocate(100), 'EBADF');
      expect(text(await c.readFile(c.path('f')))).toBe('abc');
    });

    it('every operation on a closed handle fails with EBADF; close is idempotent', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'create');
      await writeFully(h, bytes('abc'), 0, 3, 0);
      await h.close();
      await h.close();
      const buf = new Uint8Array(3);
      await expectFsError(h.read(buf, 0, 3, 0), 'EBADF', c.path('f'));
      await expectFsError(h.write(buf, 0, 3, 0), 'EBADF');
      await expectFsError(h.size(), 'EBADF');
      await expectFsError(h.truncate(0), 'EBADF');
      await expectFsError(h.allocate(10), 'EBADF');
      await expectFsError(h.datasync(), 'EBADF');
      await expectFsError(h.sync(), 'EBADF');
      await expectFsError(h.tryLock(), 'EBADF');
      await expectFsError(h.lock(), 'EBADF');
      await expectFsError(h.unlock(), 'EBADF');
      expect(text(await c.readFile(c.path('f')))).toBe('abc');
    });

    it('a removed file stays readable and writable through a handle already open on it', async () => {
      const c = ctx();
      await c.writeFile(c.path('f'), 'still here');
      const h = await c.open(c.path('f'), 'readWrite');
      await c.fs.remove(c.path('f'));
      await expectFsError(c.fs.stat(c.path('f')), 'ENOENT');
      const buf = new Uint8Array(10);
      expect(await readFully(h, buf, 0, 10, 0)).toBe(10);
      expect(text(buf)).toBe('still here');
      await writeFully(h, bytes('!'), 0, 1, 10);
      expect(await h.size()).toBe(11);
    });
  });
}
