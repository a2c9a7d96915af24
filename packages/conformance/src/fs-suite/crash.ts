/**
 * Crash semantics (DESIGN §2 "Durability semantics"), for backends that can simulate a power cut
 * (fs-memory): what a crash keeps of synced and unsynced data, names, renames and locks.
 */
import { describe, expect, it } from 'vitest';
import { FileSystemError, joinPath, readFully, writeFully, type FileSystem } from '@walnut/wal-core';
import { bytes, expectFsError, pattern, text, type SuiteContext } from './context.js';

/**
 * What a crash keeps:
 * - `random`: a power cut whose outcome the seed decides (synced data and names are kept; each unsynced
 *   write may be kept, dropped or torn per 512-byte sector; each unsynced create, rename, remove may be
 *   kept or reverted);
 * - `durable-only`: a power cut that loses everything not yet durable;
 * - `keep-all`: a process crash: everything done survives, locks and handles do not.
 */
export type CrashMode = 'random' | 'durable-only' | 'keep-all';

/** One simulated crash. */
export interface CrashRequest {
  /** Seeds the crash outcome (for `random`). */
  readonly seed: number;
  /** What the crash keeps. */
  readonly mode: CrashMode;
}

/**
 * Simulates a crash of `fs` and returns the file system as it is after the reboot: same paths, no
 * open handles, no locks. It must leave `fs` itself usable and unchanged (the suite crashes one state
 * many times), and the same seed and mode on the same state must give the same result. The fixture's
 * `dir` must already be durable (its name and its parents' synced) when `create()` resolves. The suite
 * closes what it opens on the returned file system and does not clean it up otherwise.
 */
export type CrashCapability = (fs: FileSystem, request: CrashRequest) => FileSystem | Promise<FileSystem>;

/** Seeds each random-crash test tries: enough to see every outcome of a few coin flips. */
const SEEDS = Array.from({ length: 48 }, (_, i) => i + 1);
const SECTOR = 512;

export function crashTests(ctx: () => SuiteContext, crash: CrashCapability | undefined): void {
  describe('crash semantics', () => {
    if (crash === undefined) {
      it.skip('not applicable: the factory provides no crash (the backend cannot simulate a power cut)', () => {});
      return;
    }

    it('data synced under a name synced with syncDir survives every crash, whatever else was left unsynced', async () => {
      const c = ctx();
      const a = pattern(3000, 7);
      const h = await c.open(c.path('a'), 'createExclusive');
      await writeFully(h, a, 0, a.length, 0);
      await h.datasync();
      const b = await c.open(c.path('b'), 'createExclusive');
      await writeFully(b, bytes('bee'), 0, 3, 0);
      await b.sync();
      await c.fs.syncDir(c.dir);
      // Unsynced activity around the synced files.
      await c.writeFile(c.path('c'), pattern(1500, 9));
      await c.fs.mkdir(c.path('d'));
      await writeFully(h, pattern(100, 3), 0, 100, a.length);
      for (const mode of ['random', 'durable-only', 'keep-all'] as const) {
        for (const seed of mode === 'random' ? SEEDS : [1]) {
          const after = await crash(c.fs, { seed, mode });
          expect((await readFile(after, c.path('a'))).subarray(0, a.length), `${mode} seed ${seed}`).toEqual(a);
          expect(text(await readFile(after, c.path('b'))), `${mode} seed ${seed}`).toBe('bee');
        }
      }
    });

    it('an unsynced overwrite leaves every 512-byte sector entirely old or entirely new; random crashes keep it, drop it, and tear it (a later sector surviving an earlier one)', async () => {
      const c = ctx();
      const sectors = 8;
      const before = pattern(sectors * SECTOR, 1);
      const after = pattern(sectors * SECTOR, 2);
      const h = await c.open(c.path('f'), 'createExclusive');
      await writeFully(h, before, 0, before.length, 0);
      await h.datasync();
      await c.fs.syncDir(c.dir);
      await writeFully(h, after, 0, after.length, 0);
      const seen = new Set<string>();
      for (const seed of SEEDS) {
        const got = await readFile(await crash(c.fs, { seed, mode: 'random' }), c.path('f'));
        expect(got.length, `seed ${seed}`).toBe(before.length);
        let signature = '';
        for (let s = 0; s < sectors; s++) {
          const sector = got.subarray(s * SECTOR, (s + 1) * SECTOR);
          if (equal(sector, before.subarray(s * SECTOR, (s + 1) * SECTOR))) signature += 'o';
          else if (equal(sector, after.subarray(s * SECTOR, (s + 1) * SECTOR))) signature += 'n';
          else expect.fail(`seed ${seed}: sector ${s} is neither the old nor the new bytes`);
        }
        seen.add(signature);
      }
      const all = [...seen];
      expect(all, 'some crash keeps the whole write').toContain('n'.repeat(sectors));
      expect(all, 'some crash drops the whole write').toContain('o'.repeat(sectors));
      expect(
        all.some((s) => /on/.test(s)),
        'some crash keeps a later sector and loses an earlier one',
      ).toBe(true);
      expect(text(await readFile(await crash(c.fs, { seed: 1, mode: 'durable-only' }), c.path('f')))).toBe(text(before));
      expect(await readFile(await crash(c.fs, { seed: 1, mode: 'keep-all' }), c.path('f'))).toEqual(after);
    });

    it('an unsynced append keeps the synced prefix; after it, every sector piece is the new bytes or zeros, never anything else', async () => {
      const c = ctx();
      const head = pattern(1000, 4);
      const tail = pattern(3000, 5);
      const h = await c.open(c.path('log'), 'createExclusive');
      await writeFully(h, head, 0, head.length, 0);
      await h.datasync();
      await c.fs.syncDir(c.dir);
      await writeFully(h, tail, 0, tail.length, head.length);
      const sizes = new Set<number>();
      for (const seed of SEEDS) {
        const got = await readFile(await crash(c.fs, { seed, mode: 'random' }), c.path('log'));
        sizes.add(got.length);
        expect(got.length).toBeGreaterThanOrEqual(head.length);
        expect(got.length).toBeLessThanOrEqual(head.length + tail.length);
        expect(got.subarray(0, head.length), `seed ${seed}`).toEqual(head);
        for (let start = head.length; start < got.length; start = (Math.floor(start / SECTOR) + 1) * SECTOR) {
          const end = Math.min(got.length, (Math.floor(start / SECTOR) + 1) * SECTOR);
          const piece = got.subarray(start, end);
          const written = tail.subarray(start - head.length, end - head.length);
          expect(equal(piece, written) || piece.every((x) => x === 0), `seed ${seed}: bytes [${start}, ${end}) were never written`).toBe(
            true,
          );
        }
      }
      expect(sizes.has(head.length), 'some crash loses the append').toBe(true);
      expect(sizes.has(head.length + tail.length), 'some crash keeps its end').toBe(true);
      expect((await readFile(await crash(c.fs, { seed: 1, mode: 'durable-only' }), c.path('log'))).length).toBe(head.length);
      expect(await readFile(await crash(c.fs, { seed: 1, mode: 'keep-all' }), c.path('log'))).toEqual(concat(head, tail));
    });

    it('a name created without syncDir may vanish, even with its data synced; after syncDir it survives every crash', async () => {
      const c = ctx();
      const h = await c.open(c.path('x'), 'createExclusive');
      await writeFully(h, bytes('data'), 0, 4, 0);
      await h.datasync();
      const outcomes = new Set<boolean>();
      for (const seed of SEEDS) {
        const after = await crash(c.fs, { seed, mode: 'random' });
        const present = (await after.readdir(c.dir)).includes('x');
        outcomes.add(present);
        if (present) expect(text(await readFile(after, c.path('x')))).toBe('data');
      }
      expect([...outcomes].sort()).toEqual([false, true]);
      expect(await (await crash(c.fs, { seed: 1, mode: 'durable-only' })).readdir(c.dir)).toEqual([]);
      expect(await (await crash(c.fs, { seed: 1, mode: 'keep-all' })).readdir(c.dir)).toEqual(['x']);
      await c.fs.syncDir(c.dir);
      for (const mode of ['random', 'durable-only'] as const) {
        for (const seed of mode === 'random' ? SEEDS : [1]) {
          expect(text(await readFile(await crash(c.fs, { seed, mode }), c.path('x'))), `${mode} seed ${seed}`).toBe('data');
        }
      }
    });

    it('a directory created without syncDir of its parent may vanish with everything in it, even if the directory itself was synced', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      const h = await c.open(c.path('d', 'f'), 'createExclusive');
      await writeFully(h, bytes('inside'), 0, 6, 0);
      await h.datasync();
      await c.fs.syncDir(c.path('d'));
      const outcomes = new Set<boolean>();
      for (const seed of SEEDS) {
        const after = await crash(c.fs, { seed, mode: 'random' });
        const present = (await after.readdir(c.dir)).includes('d');
        outcomes.add(present);
        if (present) expect(text(await readFile(after, c.path('d', 'f'))), `seed ${seed}`).toBe('inside');
      }
      expect([...outcomes].sort()).toEqual([false, true]);
      expect(await (await crash(c.fs, { seed: 1, mode: 'durable-only' })).readdir(c.dir)).toEqual([]);
      await c.fs.syncDir(c.dir);
      for (const seed of SEEDS) {
        expect(text(await readFile(await crash(c.fs, { seed, mode: 'random' }), c.path('d', 'f'))), `seed ${seed}`).toBe('inside');
      }
    });

    it('a removal without syncDir may be reverted (the file comes back with its synced data); after syncDir it is final', async () => {
      const c = ctx();
      const h = await c.open(c.path('r'), 'createExclusive');
      await writeFully(h, bytes('keep me'), 0, 7, 0);
      await h.datasync();
      await c.fs.syncDir(c.dir);
      await c.fs.remove(c.path('r'));
      const outcomes = new Set<boolean>();
      for (const seed of SEEDS) {
        const after = await crash(c.fs, { seed, mode: 'random' });
        const present = (await after.readdir(c.dir)).includes('r');
        outcomes.add(present);
        if (present) expect(text(await readFile(after, c.path('r')))).toBe('keep me');
      }
      expect([...outcomes].sort()).toEqual([false, true]);
      expect(text(await readFile(await crash(c.fs, { seed: 1, mode: 'durable-only' }), c.path('r')))).toBe('keep me');
      expect(await (await crash(c.fs, { seed: 1, mode: 'keep-all' })).readdir(c.dir)).toEqual([]);
      await c.fs.syncDir(c.dir);
      for (const seed of SEEDS) expect(await (await crash(c.fs, { seed, mode: 'random' })).readdir(c.dir)).toEqual([]);
    });

    it('rename over an existing file is atomic: the target is entirely old or entirely new, and a reverted rename restores the old target and the source', async () => {
      const c = ctx();
      const oldBytes = pattern(2000, 11);
      const newBytes = pattern(2500, 12);
      for (const [name, data] of [
        ['target', oldBytes],
        ['source.tmp', newBytes],
      ] as const) {
        const h = await c.open(c.path(name), 'createExclusive');
        await writeFully(h, data, 0, data.length, 0);
        await h.datasync();
      }
      await c.fs.syncDir(c.dir);
      await c.fs.rename(c.path('source.tmp'), c.path('target'));
      const outcomes = new Set<string>();
      for (const seed of SEEDS) {
        const after = await crash(c.fs, { seed, mode: 'random' });
        const names = (await after.readdir(c.dir)).sort();
        const target = await readFile(after, c.path('target'));
        if (equal(target, newBytes)) {
          expect(names, `seed ${seed}: the rename was kept, the source name is gone`).toEqual(['target']);
          outcomes.add('new');
        } else {
          expect(target, `seed ${seed}: the target is entirely old or entirely new`).toEqual(oldBytes);
          expect(names, `seed ${seed}: the reverted rename restores the source`).toEqual(['source.tmp', 'target']);
          expect(await readFile(after, c.path('source.tmp'))).toEqual(newBytes);
          outcomes.add('old');
        }
      }
      expect([...outcomes].sort()).toEqual(['new', 'old']);
      expect(await readFile(await crash(c.fs, { seed: 1, mode: 'durable-only' }), c.path('target'))).toEqual(oldBytes);
      expect(await readFile(await crash(c.fs, { seed: 1, mode: 'keep-all' }), c.path('target'))).toEqual(newBytes);
      await c.fs.syncDir(c.dir);
      for (const seed of SEEDS) {
        const after = await crash(c.fs, { seed, mode: 'random' });
        expect(await after.readdir(c.dir)).toEqual(['target']);
        expect(await readFile(after, c.path('target'))).toEqual(newBytes);
      }
    });

    it('a file created and renamed without syncDir ends under one name or none, never both', async () => {
      const c = ctx();
      const h = await c.open(c.path('a.tmp'), 'createExclusive');
      await writeFully(h, bytes('moved'), 0, 5, 0);
      await h.datasync();
      await c.fs.rename(c.path('a.tmp'), c.path('a'));
      const outcomes = new Set<string>();
      for (const seed of SEEDS) {
        const names = (await (await crash(c.fs, { seed, mode: 'random' })).readdir(c.dir)).sort();
        expect([[], ['a'], ['a.tmp']], `seed ${seed}`).toContainEqual(names);
        outcomes.add(names.join(',') || '(none)');
      }
      expect([...outcomes].sort()).toEqual(['(none)', 'a', 'a.tmp']);
    });

    it('a crash releases every lock; the crashed file system keeps its handles and locks', async () => {
      const c = ctx();
      const held = await c.open(c.path('LOCK'), 'createExclusive');
      await held.tryLock();
      await held.datasync();
      await c.fs.syncDir(c.dir);
      for (const mode of ['random', 'durable-only', 'keep-all'] as const) {
        const after = await crash(c.fs, { seed: 3, mode });
        const h = await after.open(c.path('LOCK'), 'readWrite');
        try {
          await h.tryLock();
        } finally {
          await h.close();
        }
      }
      const other = await c.open(c.path('LOCK'), 'readWrite');
      await expectFsError(other.tryLock(), 'ELOCKED');
    });

    it('crashing leaves the file system that crashed as it was: handles, contents and names unchanged and usable', async () => {
      const c = ctx();
      const h = await c.open(c.path('f'), 'createExclusive');
      await writeFully(h, bytes('one'), 0, 3, 0);
      await c.fs.mkdir(c.path('d'));
      const live = await tree(c.fs, c.dir);
      await crash(c.fs, { seed: 5, mode: 'random' });
      await crash(c.fs, { seed: 6, mode: 'durable-only' });
      expect(await tree(c.fs, c.dir)).toEqual(live);
      await writeFully(h, bytes('two'), 0, 3, 3);
      await h.datasync();
      expect(text(await c.readFile(c.path('f')))).toBe('onetwo');
      expect(text(await readFile(await crash(c.fs, { seed: 7, mode: 'keep-all' }), c.path('f')))).toBe('onetwo');
    });

    it('durable-only keeps exactly the state at the last syncs; keep-all keeps exactly the live state; a seed repeats its crash', async () => {
      const c = ctx();
      await c.fs.mkdir(c.path('d'));
      await c.writeFile(c.path('d', 'x'), pattern(700, 21));
      await c.writeFile(c.path('y'), pattern(1300, 22));
      for (const p of [c.path('d', 'x'), c.path('y')]) {
        const h = await c.open(p, 'readWrite');
        await h.datasync();
      }
      await c.fs.syncDir(c.path('d'));
      await c.fs.syncDir(c.dir);
      const synced = await tree(c.fs, c.dir);
      // Unsynced: overwrite, truncate, extend, create, rename, remove, mkdir.
      const y = await c.open(c.path('y'), 'readWrite');
      await writeFully(y, pattern(600, 23), 0, 600, 100);
      await y.truncate(900);
      await y.allocate(5000);
      await c.writeFile(c.path('d', 'z'), pattern(50, 24));
      await c.fs.rename(c.path('d', 'x'), c.path('x2'));
      await c.fs.mkdir(c.path('e'));
      await c.fs.remove(c.path('d', 'z'));
      await c.writeFile(c.path('e', 'w'), 'w');
      const live = await tree(c.fs, c.dir);
      expect(await tree(await crash(c.fs, { seed: 1, mode: 'durable-only' }), c.dir)).toEqual(synced);
      expect(await tree(await crash(c.fs, { seed: 1, mode: 'keep-all' }), c.dir)).toEqual(live);
      for (const seed of SEEDS.slice(0, 8)) {
        const first = await tree(await crash(c.fs, { seed, mode: 'random' }), c.dir);
        expect(await tree(await crash(c.fs, { seed, mode: 'random' }), c.dir), `seed ${seed}`).toEqual(first);
      }
    });
  });
}

/** The whole content of a file of `fs` (missing: ENOENT). */
async function readFile(fs: FileSystem, path: string): Promise<Uint8Array> {
  const h = await fs.open(path, 'read');
  try {
    const size = await h.size();
    const buf = new Uint8Array(size);
    const n = await readFully(h, buf, 0, size, 0);
    return buf.subarray(0, n);
  } finally {
    await h.close();
  }
}

/** Everything below `dir`: relative path → file contents (hex) or `dir`. */
async function tree(fs: FileSystem, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (path: string, rel: string) => {
    for (const name of (await fs.readdir(path)).sort()) {
      const p = joinPath(path, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await fs.stat(p);
      if (st.isDirectory) {
        out[r] = 'dir';
        await walk(p, r);
      } else {
        out[r] = Buffer.from(await readFile(fs, p)).toString('hex');
      }
    }
  };
  try {
    await walk(dir, '');
  } catch (e) {
    if (!(e instanceof FileSystemError)) throw e;
    throw new Error(`crash suite: cannot list ${dir} after the crash (${e.message}); is the fixture's dir durable?`, { cause: e });
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
