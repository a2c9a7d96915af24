import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFully, writeFully, type FileSystem } from '@walnut/wal-core';
import { MemoryFileSystem, SplitMix64 } from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

afterEach(() => {
  vi.restoreAllMocks();
});

async function readFile(fs: FileSystem, path: string): Promise<Uint8Array> {
  const h = await fs.open(path, 'read');
  try {
    const size = await h.size();
    const buf = new Uint8Array(size);
    return buf.subarray(0, await readFully(h, buf, 0, size, 0));
  } finally {
    await h.close();
  }
}

async function writeAt(fs: FileSystem, path: string, data: Uint8Array, position = 0, sync = false): Promise<void> {
  const h = await fs.open(path, 'create');
  try {
    await writeFully(h, data, 0, data.length, position);
    if (sync) await h.datasync();
  } finally {
    await h.close();
  }
}

/** Every file and directory of `fs`, with contents (the state a test compares). */
async function snapshot(fs: FileSystem): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = await fs.stat(p);
      if (st.isDirectory) {
        out[p] = `dir ${st.mode.toString(8)}`;
        await walk(p);
      } else out[p] = `${st.mode.toString(8)} ${Buffer.from(await readFile(fs, p)).toString('hex')}`;
    }
  };
  await walk('/');
  return out;
}

/** The same as `snapshot`, from `durableState()`. */
function durableSnapshot(fs: MemoryFileSystem): Record<string, string> {
  const { files, dirs } = fs.durableState();
  const out: Record<string, string> = {};
  for (const [p, names] of dirs) for (const n of names) out[p === '/' ? `/${n}` : `${p}/${n}`] = 'dir';
  for (const [p, bytes] of files) out[p] = Buffer.from(bytes).toString('hex');
  return out;
}

/** A seeded workload of writes, syncs, truncates, creates, renames, removes and directory syncs. */
async function workload(fs: MemoryFileSystem, seed: number, steps: number, onStep?: (i: number) => Promise<void>): Promise<void> {
  const rng = new SplitMix64(seed);
  const dirs = ['/', '/a', '/b'];
  await fs.mkdir('/a');
  await fs.mkdir('/b');
  const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)]!;
  const name = () => `${pick(dirs)}/${pick(['f', 'g', 'h', 'i'])}`.replace('//', '/');
  for (let i = 0; i < steps; i++) {
    const p = name();
    const exists = await fs.stat(p).then(
      () => true,
      () => false,
    );
    switch (rng.int(8)) {
      case 0:
      case 1:
      case 2: {
        const data = new Uint8Array(1 + rng.int(1500)).map(() => rng.int(256));
        await writeAt(fs, p, data, rng.int(2000), rng.int(3) === 0);
        break;
      }
      case 3:
        if (exists) {
          const h = await fs.open(p, 'readWrite');
          await (rng.bool() ? h.truncate(rng.int(3000)) : h.allocate(rng.int(5000)));
          await h.close();
        }
        break;
      case 4:
        if (exists) await fs.rename(p, name());
        break;
      case 5:
        if (exists) await fs.remove(p);
        break;
      case 6:
        await fs.syncDir(pick(dirs));
        break;
      case 7:
        if (exists) {
          const h = await fs.open(p, 'readWrite');
          await h.sync();
          await h.close();
        }
        break;
    }
    await onStep?.(i);
  }
}

describe('crash', () => {
  it('is deterministic: the same seed and operations give the same post-crash state; the n-th crash derives its seed', async () => {
    const results: Array<Record<string, string>[]> = [];
    for (let run = 0; run < 2; run++) {
      const fs = new MemoryFileSystem({ seed: 99 });
      await workload(fs, 5, 120);
      results.push([await snapshot(fs.crash()), await snapshot(fs.crash()), await snapshot(fs.crash({ seed: 7 }))]);
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]![0]).not.toEqual(results[0]![1]); // the 2nd crash draws from another seed
    const fs = new MemoryFileSystem({ seed: 99 });
    expect(fs.crash({ seed: 3 }).seed).toBe(3n);
    expect(fs.crash().seed).not.toBe(fs.crash().seed);
  });

  it('keep-all is the live state, durable-only is durableState(), and a crashed file system is all durable (seeded workloads, crash after every step)', async () => {
    for (const seed of [1, 2, 3]) {
      const fs = new MemoryFileSystem({ seed });
      await workload(fs, seed, 60, async (i) => {
        expect(await snapshot(fs.crash({ mode: 'keep-all' })), `seed ${seed} step ${i}`).toEqual(await snapshot(fs));
        const durable = fs.crash({ mode: 'durable-only' });
        expect(durableSnapshot(durable)).toEqual(durableSnapshot(fs));
        const random = fs.crash({ mode: 'random' });
        expect(await snapshot(random.crash({ mode: 'durable-only' }))).toEqual(await snapshot(random));
      });
    }
  });

  it('explores: over seeds, a random crash of one state gives several different states, each within what the operations allow', async () => {
    const fs = new MemoryFileSystem({ seed: 1 });
    await workload(fs, 11, 80);
    const states = new Set<string>();
    for (let seed = 0; seed < 40; seed++) states.add(JSON.stringify(await snapshot(fs.crash({ seed }))));
    expect(states.size).toBeGreaterThan(10);
  });

  it('several crash clones from one state: each is independent of the original and of the others', async () => {
    const fs = new MemoryFileSystem({ seed: 4 });
    await fs.mkdir('/d');
    await fs.syncDir('/');
    await writeAt(fs, '/d/f', enc('one'), 0, true);
    await fs.syncDir('/d');
    const h = await fs.open('/d/f', 'readWrite');
    await h.tryLock();
    const first = fs.crash({ mode: 'keep-all' });
    await writeFully(h, enc('two'), 0, 3, 3);
    const second = fs.crash({ mode: 'keep-all' });
    await writeAt(first, '/d/f', enc('!'), 3);
    expect(dec(await readFile(first, '/d/f'))).toBe('one!');
    expect(dec(await readFile(second, '/d/f'))).toBe('onetwo');
    expect(dec(await readFile(fs, '/d/f'))).toBe('onetwo');
    // The original keeps its lock; each clone starts without.
    await (await second.open('/d/f', 'readWrite')).tryLock();
    await expect((await fs.open('/d/f', 'readWrite')).tryLock()).rejects.toMatchObject({ code: 'ELOCKED' });
  });

  it('durableState: names as last dir-synced, bytes as last synced, following the inode through a rename', async () => {
    const fs = new MemoryFileSystem();
    expect(fs.durableState()).toEqual({ files: new Map(), dirs: new Map([['/', []]]) });
    await fs.mkdir('/w');
    await writeAt(fs, '/w/a', enc('synced'), 0, true);
    expect([...fs.durableState().dirs]).toEqual([['/', []]]);
    await fs.syncDir('/');
    await fs.syncDir('/w');
    await writeAt(fs, '/w/a', enc('-unsynced'), 6);
    await fs.rename('/w/a', '/w/b');
    let st = fs.durableState();
    expect([...st.dirs]).toEqual([
      ['/', ['w']],
      ['/w', ['a']],
    ]);
    expect(dec(st.files.get('/w/a')!)).toBe('synced');
    const h = await fs.open('/w/b', 'readWrite');
    await h.datasync();
    await h.close();
    st = fs.durableState();
    expect(dec(st.files.get('/w/a')!)).toBe('synced-unsynced'); // the old name, the new bytes: the inode's
    await fs.syncDir('/w');
    expect([...fs.durableState().files.keys()]).toEqual(['/w/b']);
  });

  it('a truncate or allocate is durable with the next sync; sizes are kept exactly', async () => {
    const fs = new MemoryFileSystem();
    const h = await fs.open('/f', 'create');
    await writeFully(h, enc('abcdef'), 0, 6, 0);
    await h.datasync();
    await fs.syncDir('/');
    await h.truncate(2);
    await h.allocate(10);
    expect(dec(fs.crash({ mode: 'durable-only' }).durableState().files.get('/f')!)).toBe('abcdef');
    await h.datasync();
    expect(fs.durableState().files.get('/f')).toEqual(new Uint8Array([97, 98, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await readFile(fs.crash({ mode: 'durable-only' }), '/f')).toEqual(new Uint8Array([97, 98, 0, 0, 0, 0, 0, 0, 0, 0]));
  });

  it('keeps modes of files and directories through a crash', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/ro', { mode: 0o500 });
    await fs.mkdir('/rw');
    await (await fs.open('/rw/f', 'create', { mode: 0o400 })).close();
    await fs.syncDir('/');
    await fs.syncDir('/rw');
    const after = fs.crash({ mode: 'durable-only' });
    expect((await after.stat('/ro')).mode).toBe(0o500);
    expect((await after.stat('/rw/f')).mode).toBe(0o400);
  });

  it('a removed tree may come back in a crash only consistently: a directory never returns without what it held', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/t/u', { recursive: true });
    await writeAt(fs, '/t/u/f', enc('f'), 0, true);
    await writeAt(fs, '/t/g', enc('g'), 0, true);
    for (const d of ['/', '/t', '/t/u']) await fs.syncDir(d);
    await fs.remove('/t', { recursive: true });
    const seen = new Set<string>();
    for (let seed = 0; seed < 64; seed++) {
      const s = await snapshot(fs.crash({ seed }));
      const paths = Object.keys(s).join(' ');
      seen.add(paths);
      // A directory's removal is kept only after all of its entries' removals.
      if (!('/t' in s)) expect(paths).toBe('');
      if (!('/t/u' in s)) expect('/t/u/f' in s).toBe(false);
    }
    expect(seen.size).toBeGreaterThan(2);
    await fs.syncDir('/');
    for (let seed = 0; seed < 16; seed++) expect(await fs.crash({ seed }).readdir('/')).toEqual([]);
  });

  it('costs memory and time proportional to the data: a 4 MiB log of 1024 synced appends, preallocated to 64 MB, crashes 30 times quickly', async () => {
    const fs = new MemoryFileSystem({ seed: 1 });
    const h = await fs.open('/log', 'create');
    await h.allocate(64_000_000);
    const chunk = new Uint8Array(4096).fill(7);
    for (let i = 0; i < 1024; i++) {
      await writeFully(h, chunk, 0, chunk.length, i * chunk.length);
      if (i % 4 === 3) await h.datasync();
    }
    await fs.syncDir('/');
    const t0 = performance.now();
    for (let i = 0; i < 30; i++) fs.crash({ mode: i % 2 === 0 ? 'random' : 'durable-only' });
    expect(performance.now() - t0).toBeLessThan(10_000); // generous for slow CI; typically well under a second
    expect(fs.durableState().files.get('/log')!.length).toBe(64_000_000);
  });

  it('does not use Math.random for crashes', async () => {
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random called');
    });
    const fs = new MemoryFileSystem({ seed: 8 });
    await workload(fs, 8, 40);
    fs.crash();
    fs.crash({ mode: 'durable-only' });
    fs.crash({ mode: 'keep-all' });
    expect(Math.random).not.toHaveBeenCalled();
  });

  it('rejects an unknown mode and a non-integer seed', () => {
    const fs = new MemoryFileSystem();
    expect(() => fs.crash({ mode: 'other' as never })).toThrow(RangeError);
    expect(() => fs.crash({ seed: 0.5 })).toThrow(RangeError);
  });
});
