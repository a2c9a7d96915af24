// The suite's own assertions must be able to fail: check them against known outcomes.
import { describe, expect, it } from 'vitest';
import { FileSystemError, LockedError } from '@walnut/wal-core';
import { expectFsError, pattern, stateAfter, within } from '../src/fs-suite/context.js';

describe('expectFsError', () => {
  it('accepts a FileSystemError with the expected code and path, and returns it', async () => {
    const err = new FileSystemError('ENOENT', 'open', '/a');
    await expect(expectFsError(Promise.reject(err), 'ENOENT', '/a')).resolves.toBe(err);
    await expect(expectFsError(Promise.reject(new LockedError('tryLock', '/L')), 'ELOCKED')).resolves.toBeInstanceOf(LockedError);
  });

  it('fails when the operation succeeds', async () => {
    await expect(expectFsError(Promise.resolve(1), 'ENOENT')).rejects.toThrow(/but the operation succeeded/);
  });

  it('fails on another code, another path, a missing syscall, or a foreign error', async () => {
    await expect(expectFsError(Promise.reject(new FileSystemError('EEXIST', 'open', '/a')), 'ENOENT')).rejects.toThrow(/wrong code/);
    await expect(expectFsError(Promise.reject(new FileSystemError('ENOENT', 'open', '/a')), 'ENOENT', '/b')).rejects.toThrow();
    await expect(expectFsError(Promise.reject(new FileSystemError('ENOENT', '', '/a')), 'ENOENT')).rejects.toThrow(/syscall/);
    const foreign = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    await expect(expectFsError(Promise.reject(foreign), 'ENOENT')).rejects.toThrow(/FileSystemError/);
  });
});

describe('stateAfter and within', () => {
  it('tells pending, resolved and rejected apart', async () => {
    expect(await stateAfter(new Promise(() => {}), 10)).toBe('pending');
    expect(await stateAfter(Promise.resolve(), 10)).toBe('resolved');
    expect(await stateAfter(Promise.reject(new Error('x')), 10)).toBe('rejected');
  });

  it('within passes a value through and fails a promise that never settles', async () => {
    expect(await within(Promise.resolve(7), 100, 'x')).toBe(7);
    await expect(within(new Promise(() => {}), 10, 'the never-ending thing')).rejects.toThrow(
      /the never-ending thing did not settle within 10 ms/,
    );
  });
});

describe('pattern', () => {
  it('is deterministic, seed-dependent and not constant', () => {
    expect(Array.from(pattern(64, 3))).toEqual(Array.from(pattern(64, 3)));
    expect(Buffer.compare(pattern(64, 3), pattern(64, 4))).not.toBe(0);
    expect(new Set(pattern(256)).size).toBeGreaterThan(100);
  });
});
