import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSystemError, readFully, writeFully } from '@walnut/wal-core';
import { MemoryFileSystem } from '../src/index.js';
import { MAX_FILE_SIZE } from '../src/memory-file-handle.js';

async function fsError(p: Promise<unknown>): Promise<FileSystemError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FileSystemError);
  return e as FileSystemError;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Lets every queued promise callback run (the memory backend never waits for anything else). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('construction', () => {
  it('keeps the seed as a bigint (default 0) and rejects a non-integer', () => {
    expect(new MemoryFileSystem().seed).toBe(0n);
    expect(new MemoryFileSystem({ seed: 42 }).seed).toBe(42n);
    expect(new MemoryFileSystem({ seed: 2n ** 64n - 1n }).seed).toBe(2n ** 64n - 1n);
    expect(() => new MemoryFileSystem({ seed: 1.5 })).toThrow(RangeError);
    expect(new MemoryFileSystem().kind).toBe('memory');
  });

  it('gives every instance its own empty volume', async () => {
    const a = new MemoryFileSystem();
    const b = new MemoryFileSystem();
    await a.mkdir('/wal');
    await (await a.open('/wal/f', 'create')).close();
    expect(await a.readdir('/')).toEqual(['wal']);
    expect(await b.readdir('/')).toEqual([]);
  });

  it('does not use Math.random', async () => {
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random called');
    });
    const fs = new MemoryFileSystem({ seed: 1 });
    await fs.mkdir('/a/b', { recursive: true });
    const h = await fs.open('/a/b/f', 'createExclusive');
    await writeFully(h, enc('data'), 0, 4, 0);
    await h.allocate(100);
    await h.datasync();
    await h.tryLock();
    await h.close();
    await fs.rename('/a/b/f', '/a/g');
    await fs.syncDir('/a');
    await fs.remove('/a', { recursive: true });
    expect(Math.random).not.toHaveBeenCalled();
  });
});

describe('paths', () => {
  it('refuses relative, empty and NUL-containing paths with EINVAL', async () => {
    const fs = new MemoryFileSystem();
    for (const p of ['wal', './wal', '', 'a\0b', '/a\0b']) {
      const e = await fsError(fs.mkdir(p));
      expect(e.code).toBe('EINVAL');
      expect((await fsError(fs.open(p, 'create'))).code).toBe('EINVAL');
    }
  });

  it('normalises "." and ".." and trailing separators, and reports the caller\'s path in errors', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/a/b', { recursive: true });
    await (await fs.open('/a/./b/../b//f', 'create')).close();
    expect(await fs.readdir('/a/b/')).toEqual(['f']);
    expect((await fs.stat('/../a/b/f')).isFile).toBe(true);
    const e = await fsError(fs.open('/a/./missing', 'read'));
    expect(e.code).toBe('ENOENT');
    expect(e.path).toBe('/a/./missing');
  });
});

describe('namespace edges', () => {
  it('the root cannot be removed, renamed or replaced (EBUSY); mkdir of it is EEXIST unless recursive', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    expect((await fsError(fs.remove('/', { recursive: true }))).code).toBe('EBUSY');
    expect((await fsError(fs.rename('/', '/x'))).code).toBe('EBUSY');
    expect((await fsError(fs.rename('/d', '/'))).code).toBe('EBUSY');
    expect((await fsError(fs.mkdir('/'))).code).toBe('EEXIST');
    await fs.mkdir('/', { recursive: true });
    expect(await fs.readdir('/')).toEqual(['d']);
  });

  it('renaming onto an ancestor: a directory gets ENOTEMPTY, a file EISDIR', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/a/b', { recursive: true });
    await (await fs.open('/a/f', 'create')).close();
    expect((await fsError(fs.rename('/a/b', '/a'))).code).toBe('ENOTEMPTY');
    expect((await fsError(fs.rename('/a/f', '/a'))).code).toBe('EISDIR');
    expect((await fs.readdir('/a')).sort()).toEqual(['b', 'f']);
  });

  it('renaming a directory moves its whole subtree, readable through handles opened before', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/a/b/c', { recursive: true });
    const h = await fs.open('/a/b/c/f', 'create');
    await writeFully(h, enc('deep'), 0, 4, 0);
    await fs.rename('/a', '/z');
    expect(await fs.readdir('/z/b/c')).toEqual(['f']);
    await writeFully(h, enc('!'), 0, 1, 4);
    const r = await fs.open('/z/b/c/f', 'read');
    const buf = new Uint8Array(5);
    expect(await readFully(r, buf, 0, 5, 0)).toBe(5);
    expect(new TextDecoder().decode(buf)).toBe('deep!');
  });

  it('a file created with a read-only mode is still writable through the creating handle', async () => {
    const fs = new MemoryFileSystem();
    const h = await fs.open('/ro', 'createExclusive', { mode: 0o400 });
    await writeFully(h, enc('x'), 0, 1, 0);
    expect(await fs.stat('/ro')).toMatchObject({ size: 1, mode: 0o400 });
  });

  it('a file that is too large for memory fails with EFBIG', async () => {
    const fs = new MemoryFileSystem();
    const h = await fs.open('/f', 'create');
    expect((await fsError(h.write(enc('x'), 0, 1, MAX_FILE_SIZE))).code).toBe('EFBIG');
    expect((await fsError(h.truncate(MAX_FILE_SIZE + 1))).code).toBe('EFBIG');
    expect((await fsError(h.allocate(MAX_FILE_SIZE + 1))).code).toBe('EFBIG');
    expect(await h.size()).toBe(0);
  });
});

describe('locks', () => {
  it('waiters are served first come, first served, and a late tryLock cannot overtake them', async () => {
    const fs = new MemoryFileSystem();
    const [a, b, c, d] = await Promise.all([
      fs.open('/LOCK', 'create'),
      fs.open('/LOCK', 'readWrite'),
      fs.open('/LOCK', 'readWrite'),
      fs.open('/LOCK', 'readWrite'),
    ]);
    await a!.tryLock();
    const order: string[] = [];
    const bWait = b!.lock().then(() => order.push('b'));
    const cWait = c!.lock().then(() => order.push('c'));
    await settle();
    expect(order).toEqual([]);
    await a!.unlock();
    expect((await fsError(d!.tryLock())).code).toBe('ELOCKED'); // handed to b, not free
    await bWait;
    expect(order).toEqual(['b']);
    await b!.close();
    await cWait;
    expect(order).toEqual(['b', 'c']);
    expect((await fsError(a!.tryLock())).code).toBe('ELOCKED');
  });

  it('a second lock() by a waiting handle shares the first wait', async () => {
    const fs = new MemoryFileSystem();
    const a = await fs.open('/LOCK', 'create');
    const b = await fs.open('/LOCK', 'readWrite');
    await a.tryLock();
    const first = b.lock();
    const second = b.lock();
    await a.close();
    await Promise.all([first, second]);
    await b.unlock();
    const c = await fs.open('/LOCK', 'readWrite');
    await c.tryLock(); // b's lock was taken once and released once
  });

  it('a cancelled waiter is skipped: the lock goes to the next one', async () => {
    const fs = new MemoryFileSystem();
    const [a, b, c] = await Promise.all([fs.open('/L', 'create'), fs.open('/L', 'readWrite'), fs.open('/L', 'readWrite')]);
    await a!.tryLock();
    const bWait = b!.lock();
    const cWait = c!.lock();
    await b!.close();
    expect((await fsError(bWait)).code).toBe('EBADF');
    await a!.unlock();
    await cWait;
    expect((await fsError(a!.tryLock())).code).toBe('ELOCKED');
  });

  it('a lock on a removed file does not leak onto a new file (memfs reuses inode numbers)', async () => {
    const fs = new MemoryFileSystem();
    const a = await fs.open('/f', 'create');
    await a.tryLock();
    await fs.remove('/f');
    for (let i = 0; i < 4; i++) {
      const h = await fs.open(`/g${i}`, 'create');
      await h.tryLock();
      await h.close();
    }
    const again = await fs.open('/f', 'create');
    await again.tryLock();
  });
});
