import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemError, writeFully } from '@walnut/wal-core';
import { NodeFileSystem } from '../src/index.js';

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'walnut-fs-node-specific-'));
});

afterEach(async () => {
  await chmod(scratch, 0o700).catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
});

async function fsError(p: Promise<unknown>): Promise<FileSystemError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FileSystemError);
  return e as FileSystemError;
}

describe('paths', () => {
  it('takes relative paths relative to the working directory', async () => {
    const before = process.cwd();
    process.chdir(scratch);
    try {
      const fs = new NodeFileSystem();
      await fs.mkdir('data/wal', { recursive: true });
      const f = await fs.open('data/wal/x', 'create');
      await f.close();
    } finally {
      process.chdir(before);
    }
    expect(statSync(join(scratch, 'data', 'wal', 'x')).isFile()).toBe(true);
  });

  it('with a root, "/a" and "a" both name <root>/a, and "/" is the root', async () => {
    const fs = new NodeFileSystem({ root: scratch });
    expect(fs.root).toBe(scratch);
    const h = await fs.open('/a', 'create');
    await writeFully(h, new TextEncoder().encode('x'), 0, 1, 0);
    await h.close();
    expect(readFileSync(join(scratch, 'a'), 'utf8')).toBe('x');
    expect((await fs.stat('a')).size).toBe(1);
    expect(await fs.readdir('/')).toEqual(['a']);
    expect(await fs.readdir('.')).toEqual(['a']);
  });

  it('with a root, a path that climbs out of it fails with EACCES and touches nothing outside', async () => {
    const root = join(scratch, 'root');
    const fs = new NodeFileSystem({ root });
    await fs.mkdir('/', { recursive: true });
    for (const p of ['../escaped', '/../escaped', 'sub/../../escaped', '/..']) {
      const e = await fsError(fs.open(p, 'create'));
      expect(e.code).toBe('EACCES');
      expect(e.path).toBe(p);
      expect((await fsError(fs.mkdir(p, { recursive: true }))).code).toBe('EACCES');
      expect((await fsError(fs.rename(p, '/x'))).code).toBe('EACCES');
      expect((await fsError(fs.rename('/x', p))).code).toBe('EACCES');
    }
    expect(await readdir(scratch)).toEqual(['root']);
    // Names that merely start with two dots are inside.
    await (await fs.open('/..hidden', 'create')).close();
    expect(existsSync(join(root, '..hidden'))).toBe(true);
  });

  it('errors name the path as the caller gave it, not the OS path below the root', async () => {
    const fs = new NodeFileSystem({ root: scratch });
    const e = await fsError(fs.open('/missing/file', 'read'));
    expect(e.code).toBe('ENOENT');
    expect(e.path).toBe('/missing/file');
    expect(e.syscall).toBe('open');
    expect(e.message).not.toContain(scratch);
  });

  it('an empty path or one with a NUL byte fails with EINVAL', async () => {
    const fs = new NodeFileSystem();
    expect((await fsError(fs.stat(''))).code).toBe('EINVAL');
    expect((await fsError(fs.open(join(scratch, 'a\0b'), 'create'))).code).toBe('EINVAL');
  });
});

describe('locks', () => {
  it.runIf(process.platform === 'linux')('are open-file-description locks on Linux (OFDLCK in /proc/locks), as etcd takes', async () => {
    const fs = new NodeFileSystem();
    const p = join(scratch, 'LOCK');
    const h = await fs.open(p, 'create');
    await h.tryLock();
    // /proc/locks names the file as "major:minor:inode" (device numbers in hex, at least 2 digits).
    const { dev, ino } = statSync(p);
    const major = Math.floor(dev / 256) & 0xfff;
    const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
    const id = ` ${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino} `;
    const locksOnFile = () =>
      readFileSync('/proc/locks', 'utf8')
        .split('\n')
        .filter((line) => line.includes(id));
    const mine = locksOnFile();
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(/\bOFDLCK\s+ADVISORY\s+WRITE\b/);
    await h.close();
    expect(locksOnFile()).toEqual([]);
  });

  it('exclude handles of two NodeFileSystem instances in one process', async () => {
    const p = join(scratch, 'LOCK');
    const a = await new NodeFileSystem().open(p, 'create');
    const b = await new NodeFileSystem({ root: scratch }).open('/LOCK', 'readWrite');
    await a.tryLock();
    const e = await fsError(b.tryLock());
    expect(e.code).toBe('ELOCKED');
    expect(e.path).toBe('/LOCK');
    await a.close();
    await b.tryLock();
    await b.close();
  });
});

describe('handles', () => {
  it('close waits for the reads and writes already started, then refuses new ones', async () => {
    const fs = new NodeFileSystem();
    const h = await fs.open(join(scratch, 'f'), 'create');
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const writes = Array.from({ length: 32 }, (_, i) => writeFully(h, chunk, 0, chunk.length, i * chunk.length));
    // allocate is two steps (fstat, then ftruncate): a descriptor closed between them fails it.
    const allocations = Array.from({ length: 8 }, (_, i) => h.allocate(40 * chunk.length + i));
    const closing = h.close();
    expect((await fsError(h.write(chunk, 0, 1, 0))).code).toBe('EBADF');
    await Promise.all([...writes, ...allocations]);
    await closing;
    const content = readFileSync(join(scratch, 'f'));
    expect(content.length).toBeGreaterThanOrEqual(40 * chunk.length);
    expect(content.length).toBeLessThan(40 * chunk.length + 8);
    expect(content.subarray(0, 32 * chunk.length).every((b) => b === 7)).toBe(true);
  });

  it('allocate never cuts off writes running concurrently through the same handle', async () => {
    const fs = new NodeFileSystem();
    const h = await fs.open(join(scratch, 'f'), 'create');
    const chunk = new Uint8Array(16 * 1024).fill(9);
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 64; i++) {
      ops.push(writeFully(h, chunk, 0, chunk.length, i * chunk.length));
      ops.push(h.allocate((i + 1) * chunk.length - 1));
    }
    await Promise.all(ops);
    await h.close();
    const content = readFileSync(join(scratch, 'f'));
    expect(content.length).toBe(64 * chunk.length);
    expect(content.every((b) => b === 9)).toBe(true);
  });

  it("allocate with preallocation 'extend' extends the file to the requested size without writing data blocks", async () => {
    const fs = new NodeFileSystem({ preallocation: 'extend' });
    const h = await fs.open(join(scratch, 'seg'), 'create');
    await h.allocate(8 << 20);
    await h.close();
    const st = statSync(join(scratch, 'seg'));
    expect(st.size).toBe(8 << 20);
    // ftruncate leaves a hole: fewer 512-byte blocks than the size would need (the default,
    // zero-fill, reserves them: preallocation.test.ts).
    expect(st.blocks * 512).toBeLessThan(8 << 20);
  });

  it.runIf(process.getuid?.() !== 0)('a directory without permissions fails with EACCES (not as root)', async () => {
    const fs = new NodeFileSystem();
    const d = join(scratch, 'closed');
    await fs.mkdir(d);
    await writeFile(join(d, 'f'), 'x');
    await chmod(d, 0);
    try {
      expect((await fsError(fs.open(join(d, 'f'), 'read'))).code).toBe('EACCES');
    } finally {
      await chmod(d, 0o700);
    }
  });
});
