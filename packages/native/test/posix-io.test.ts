/**
 * posixIo against real files: bytes land where pwrite puts them (from any view), the sync calls succeed,
 * failures come back as node:fs-shaped errors (code, negative errno, syscall), bad arguments throw.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { posixIo, type SystemCallError } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'walnut-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function syscallError(f: () => unknown): SystemCallError {
  try {
    f();
  } catch (e) {
    return e as SystemCallError;
  }
  throw new Error('expected a throw');
}

describe.runIf(process.platform === 'linux')('posixIo (Linux)', () => {
  const io = posixIo!;

  it('is there on Linux', () => {
    expect(posixIo).toBeDefined();
  });

  it('pwrite writes data[offset..offset+length) at position, from a view at any byteOffset; the syncs succeed', () => {
    const path = join(dir, 'a');
    writeFileSync(path, Buffer.alloc(64, 0x2e));
    const fd = openSync(path, 'r+');
    try {
      const backing = new Uint8Array(32).map((_, i) => 0x41 + i);
      const view = backing.subarray(5, 25); // 'F'..
      expect(io.pwrite(fd, view, 2, 4, 10)).toBe(4);
      expect(io.pwrite(fd, view, 0, 0, 0)).toBe(0);
      // Past the end: the file grows, the gap reads as zeros.
      expect(io.pwrite(fd, view, 0, 3, 70)).toBe(3);
      io.fdatasync(fd);
      io.fsync(fd);
    } finally {
      closeSync(fd);
    }
    const got = readFileSync(path);
    expect(got.subarray(10, 14).toString()).toBe('HIJK');
    expect(got.subarray(0, 10).toString()).toBe('.'.repeat(10));
    expect([...got.subarray(64, 70)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(got.subarray(70).toString()).toBe('FGH');
  });

  it('reports failures as node:fs does: EBADF for a read-only or closed descriptor', () => {
    const path = join(dir, 'b');
    writeFileSync(path, 'x');
    const ro = openSync(path, 'r');
    const e = syscallError(() => io.pwrite(ro, new Uint8Array(1), 0, 1, 0));
    expect(e).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'write' });
    expect(e.message).toBe('EBADF: write failed');
    closeSync(ro);
    expect(syscallError(() => io.fdatasync(ro))).toMatchObject({ code: 'EBADF', syscall: 'fdatasync' });
    expect(syscallError(() => io.fsync(ro))).toMatchObject({ code: 'EBADF', syscall: 'fsync' });
  });

  it('refuses bad arguments with TypeError / RangeError before any system call', () => {
    const d = new Uint8Array(8);
    for (const fd of [-1, 1.5, 2 ** 31, NaN, '3', undefined]) expect(() => io.pwrite(fd as number, d, 0, 1, 0)).toThrow(TypeError);
    for (const bad of [new Uint16Array(4), new ArrayBuffer(8), [1], 'abc', null])
      expect(() => io.pwrite(1, bad as unknown as Uint8Array, 0, 1, 0)).toThrow(TypeError);
    expect(() => io.pwrite(1, d, 4, 5, 0)).toThrow(RangeError);
    expect(() => io.pwrite(1, d, -1, 1, 0)).toThrow(RangeError);
    expect(() => io.pwrite(1, d, 0, 1, -1)).toThrow(RangeError);
    expect(() => io.pwrite(1, d, 0, 1, 2 ** 53)).toThrow(RangeError);
    expect(() => io.fdatasync(-1)).toThrow(TypeError);
  });
});
