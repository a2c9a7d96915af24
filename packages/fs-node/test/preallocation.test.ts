// allocate: zero-fill (the default) reserves real blocks, asynchronously; 'extend' leaves a hole.
// ENOSPC from allocate on a full disk is in disk-full.test.ts.
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFully } from '@walnut/wal-core';
import { NodeFileSystem } from '../src/index.js';
import type { Preallocation } from '../src/index.js';

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'walnut-fs-node-prealloc-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Bytes of data blocks the file holds (st_blocks counts 512-byte units). */
const allocatedBytes = (path: string): number => statSync(path).blocks * 512;

describe('zero-fill preallocation (default)', () => {
  it('is the default', () => {
    expect(new NodeFileSystem().preallocation).toBe('zero-fill');
  });

  it('allocate writes real zeros: every byte of the new range has a block, and reads as zero', async () => {
    const fs = new NodeFileSystem();
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    const size = 8 * 2 ** 20 + 12_345; // several chunks and fdatasync intervals, and a partial last chunk
    await h.allocate(size);
    expect(await h.size()).toBe(size);
    await h.close();
    expect(allocatedBytes(p)).toBeGreaterThanOrEqual(size);
    const content = readFileSync(p);
    expect(content.length).toBe(size);
    expect(content.every((b) => b === 0)).toBe(true);
  });

  it('keeps the existing bytes and fills only past the end; never shrinks', async () => {
    const fs = new NodeFileSystem();
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    const head = new Uint8Array(3000).fill(0xab);
    await writeFully(h, head, 0, head.length, 0);
    await h.allocate(1 << 20);
    await h.allocate(100);
    expect(await h.size()).toBe(1 << 20);
    await h.close();
    const content = readFileSync(p);
    expect(content.subarray(0, 3000).every((b) => b === 0xab)).toBe(true);
    expect(content.subarray(3000).every((b) => b === 0)).toBe(true);
    expect(allocatedBytes(p)).toBeGreaterThanOrEqual(1 << 20);
  });

  it("zeroes a tail cut off by truncate, blocks and all (readAll's truncate-then-allocate)", async () => {
    const fs = new NodeFileSystem();
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    const junk = new Uint8Array(256 * 1024).fill(0x77);
    await writeFully(h, junk, 0, junk.length, 0);
    await h.truncate(1000);
    await h.allocate(junk.length);
    await h.close();
    const content = readFileSync(p);
    expect(content.length).toBe(junk.length);
    expect(content.subarray(0, 1000).every((b) => b === 0x77)).toBe(true);
    expect(content.subarray(1000).every((b) => b === 0)).toBe(true);
    expect(allocatedBytes(p)).toBeGreaterThanOrEqual(junk.length);
  });

  it('does not block the event loop: timers keep running while a 64 MB segment is filled', async () => {
    const fs = new NodeFileSystem();
    const h = await fs.open(join(scratch, 'seg'), 'create');
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    let running = true;
    const tick = (): void => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    await h.allocate(64_000_000);
    const took = performance.now() - t0;
    running = false;
    await h.close();
    // A fill in this thread would give no tick at all until it ended; on the zero-fill thread the
    // loop turns freely for the whole fill (tens of milliseconds at least).
    expect(ticks).toBeGreaterThanOrEqual(20);
    // No single stretch holds the loop for a large part of the fill (generous: the machine is shared).
    expect(maxGap).toBeLessThan(Math.max(50, took / 2));
  });

  it('progresses while the event loop is blocked (a save loop that never yields): the fill runs on its own thread', async () => {
    // Before the thread, the fill went through the libuv pool one chunk per event-loop turn, so a caller
    // saving in a tight loop (io 'sync') kept it at its first chunk until a cut waited 130-200 ms for it.
    const fs = new NodeFileSystem();
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    const size = 16 * 2 ** 20;
    const filled = h.allocate(size);
    // Model a save loop with io 'sync': busy, awaiting only promises that are already settled
    // (microtasks run, the event loop never turns) until the file has reached its size (or 20 s pass).
    const deadline = performance.now() + 20_000;
    let reached = 0;
    while (performance.now() < deadline && (reached = statSync(p).size) < size) {
      const spin = performance.now() + 1;
      while (performance.now() < spin) {
        /* a save's CPU work */
      }
      await null;
    }
    expect(reached).toBe(size);
    await filled;
    await h.close();
    expect(allocatedBytes(p)).toBeGreaterThanOrEqual(size);
  });

  it('concurrent allocations of different files share nothing but the zero buffer', async () => {
    const fs = new NodeFileSystem();
    const paths = [0, 1, 2].map((i) => join(scratch, `seg${i}`));
    const handles = await Promise.all(paths.map((p) => fs.open(p, 'create')));
    await Promise.all(handles.map((h, i) => h.allocate((3 + i) * 2 ** 20 + i)));
    await Promise.all(handles.map((h) => h.close()));
    paths.forEach((p, i) => {
      const c = readFileSync(p);
      expect(c.length).toBe((3 + i) * 2 ** 20 + i);
      expect(c.every((b) => b === 0)).toBe(true);
    });
  });
});

describe('allocate with synced: false (a noFsync WAL)', () => {
  it('extends without writing zeros even under zero-fill, keeping existing bytes', async () => {
    const fs = new NodeFileSystem();
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    await writeFully(h, new Uint8Array([1, 2, 3]), 0, 3, 0);
    await h.allocate(8 << 20, { synced: false });
    await h.allocate(4, { synced: false });
    expect(await h.size()).toBe(8 << 20);
    await h.close();
    expect(allocatedBytes(p)).toBeLessThan(8 << 20);
    const content = readFileSync(p);
    expect([...content.subarray(0, 4)]).toEqual([1, 2, 3, 0]);
    expect(content.subarray(3).every((b) => b === 0)).toBe(true);
  });
});

describe("'extend' preallocation", () => {
  it('extends with ftruncate: the file reads as zeros but holds (almost) no blocks', async () => {
    const fs = new NodeFileSystem({ preallocation: 'extend' });
    expect(fs.preallocation).toBe('extend');
    const p = join(scratch, 'seg');
    const h = await fs.open(p, 'create');
    await h.allocate(8 << 20);
    await h.allocate(4);
    expect(await h.size()).toBe(8 << 20);
    await h.close();
    expect(allocatedBytes(p)).toBeLessThan(8 << 20);
  });
});

it('an unknown preallocation is refused at construction', () => {
  expect(() => new NodeFileSystem({ preallocation: 'fallocate' as Preallocation })).toThrow(/unknown preallocation 'fallocate'/);
});
