// Every OS error the FileSystem contract names, provoked for real on this machine where it can be
// (the mapping of every code, including the ones that cannot, is unit-tested in errors.test.ts):
// each surfaces as a FileSystemError with its code, the path as the caller gave it, and the syscall.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemError, LockedError } from '@walnut/wal-core';
import type { FileHandle, FileSystemErrorCode } from '@walnut/wal-core';
import { NodeFileSystem } from '../src/index.js';
import { freeBytes, mountSmallFs, type SmallFs } from './small-fs.js';

const linux = process.platform === 'linux';
let scratch: string;
const fs = new NodeFileSystem();

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'walnut-fs-node-oserr-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function expectCode(p: Promise<unknown>, code: FileSystemErrorCode, path: string, syscall?: string): Promise<FileSystemError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(FileSystemError);
  const fe = e as FileSystemError;
  expect(fe.code).toBe(code);
  expect(fe.path).toBe(path);
  if (syscall !== undefined) expect(fe.syscall).toBe(syscall);
  expect(fe.message).toContain(path);
  return fe;
}

describe('OS errors surface as typed errors with the path', () => {
  it('ENOENT: opening a missing file, listing a missing directory', async () => {
    const p = join(scratch, 'missing');
    await expectCode(fs.open(p, 'read'), 'ENOENT', p, 'open');
    await expectCode(fs.readdir(p), 'ENOENT', p, 'scandir');
  });

  it('EEXIST: exclusive create of an existing file, mkdir of an existing directory', async () => {
    const p = join(scratch, 'f');
    await writeFile(p, 'x');
    await expectCode(fs.open(p, 'createExclusive'), 'EEXIST', p, 'open');
    await expectCode(fs.mkdir(scratch), 'EEXIST', scratch, 'mkdir');
  });

  it('ENOTDIR: a path through a file', async () => {
    const f = join(scratch, 'f');
    await writeFile(f, 'x');
    const p = join(f, 'below');
    await expectCode(fs.open(p, 'create'), 'ENOTDIR', p, 'open');
    await expectCode(fs.readdir(f), 'ENOTDIR', f, 'scandir');
    await expectCode(fs.syncDir(f), 'ENOTDIR', f);
  });

  it('EISDIR: opening a directory as a file', async () => {
    await expectCode(fs.open(scratch, 'readWrite'), 'EISDIR', scratch, 'open');
    await expectCode(fs.open(scratch, 'read'), 'EISDIR', scratch, 'open');
  });

  it('ELOCKED: tryLock of a file another handle holds (a LockedError)', async () => {
    const p = join(scratch, 'LOCK');
    const a = await fs.open(p, 'create');
    const b = await fs.open(p, 'readWrite');
    await a.tryLock();
    const e = await expectCode(b.tryLock(), 'ELOCKED', p, 'tryLock');
    expect(e).toBeInstanceOf(LockedError);
    await a.close();
    await b.close();
  });

  it.runIf(linux)('EACCES: opening a read-only /proc/sys file for writing (refused even to root)', async () => {
    const p = '/proc/sys/kernel/ostype';
    await expectCode(fs.open(p, 'readWrite'), 'EACCES', p, 'open');
  });

  it.runIf(linux)('EIO: reading an unmapped address of /proc/self/mem (the kernel answers EIO)', async () => {
    const p = '/proc/self/mem';
    const h = await fs.open(p, 'read');
    try {
      await expectCode(h.read(new Uint8Array(16), 0, 16, 0), 'EIO', p, 'read');
    } finally {
      await h.close();
    }
  });

  it.runIf(linux)('EMFILE: opening files past a lowered RLIMIT_NOFILE (prlimit on this process)', async (ctx) => {
    const limits = readNofile();
    if (typeof limits === 'string') {
      console.warn(`EMFILE test skipped: ${limits}`);
      ctx.skip(limits);
      return;
    }
    const open = highestOpenFd() + 1;
    const handles: FileHandle[] = [];
    const p = join(scratch, 'f');
    await writeFile(p, 'x');
    let error: unknown;
    setNofile(open + 16, limits.hard);
    try {
      // Free numbers below the new limit: at most the 16 above the highest open one plus any gaps below it.
      for (let i = 0; i < open + 16 && error === undefined; i++) {
        await fs.open(p, 'read').then(
          (h) => handles.push(h),
          (e: unknown) => (error = e),
        );
      }
    } finally {
      // Close first: restoring the limit spawns prlimit, which needs descriptors of its own.
      await Promise.all(handles.map((h) => h.close()));
      setNofile(limits.soft, limits.hard);
    }
    expect(handles.length).toBeGreaterThan(0);
    await expectCode(Promise.reject(error), 'EMFILE', p, 'open');
  });
});

describe.runIf(linux)('errors that need a file system of their own', () => {
  let ro: SmallFs | undefined;
  let full: SmallFs | undefined;
  let roReason: string | undefined;
  let fullReason: string | undefined;

  beforeAll(async () => {
    const a = await mountSmallFs(8 * 2 ** 20, { kind: 'tmpfs', readOnly: true });
    ro = a.fs;
    roReason = a.skipReason;
    const b = await mountSmallFs(16 * 2 ** 20);
    full = b.fs;
    fullReason = b.skipReason;
  });

  afterAll(async () => {
    await ro?.unmount();
    await full?.unmount();
  });

  it('EROFS: creating a file on a read-only mount', async (ctx) => {
    if (!ro) {
      console.warn(`EROFS test skipped: ${roReason}`);
      ctx.skip(roReason);
      return;
    }
    const p = join(ro.dir, 'new');
    await expectCode(fs.open(p, 'create'), 'EROFS', p, 'open');
    await expectCode(fs.mkdir(join(ro.dir, 'd')), 'EROFS', join(ro.dir, 'd'), 'mkdir');
  });

  it('ENOSPC: a write and an allocate on a full file system', async (ctx) => {
    if (!full) {
      console.warn(`ENOSPC test skipped: ${fullReason}`);
      ctx.skip(fullReason);
      return;
    }
    const p = join(full.dir, 'filler');
    const h = await fs.open(p, 'create');
    try {
      const chunk = new Uint8Array(2 ** 20).fill(1);
      let pos = 0;
      const e = await (async () => {
        for (;;) {
          try {
            pos += await h.write(chunk, 0, chunk.length, pos);
          } catch (err) {
            return err;
          }
        }
      })();
      await expectCode(Promise.reject(e), 'ENOSPC', p, 'write');
      expect(await freeBytes(full.dir)).toBeLessThan(chunk.length);
      await expectCode(h.allocate(pos + 4 * 2 ** 20), 'ENOSPC', p, 'fallocate');
    } finally {
      await h.close();
    }
  });
});

/** This process's RLIMIT_NOFILE, or why it cannot be changed here. */
function readNofile(): { soft: number; hard: number } | string {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'], {
      encoding: 'utf8',
    }).trim();
    const [soft, hard] = out.split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    if (!Number.isFinite(soft) || !Number.isFinite(hard)) return `prlimit reported '${out}'`;
    return { soft: soft!, hard: hard! };
  } catch (err) {
    return `prlimit (util-linux) is needed to lower RLIMIT_NOFILE: ${(err as Error).message}`;
  }
}

function setNofile(soft: number, hard: number): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`]);
}

/** RLIMIT_NOFILE bounds descriptor numbers, so the limit is set relative to the highest open one. */
function highestOpenFd(): number {
  return Math.max(...readdirSync('/proc/self/fd').map(Number));
}
