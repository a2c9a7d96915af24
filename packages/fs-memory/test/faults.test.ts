import { describe, expect, it } from 'vitest';
import { FileSystemError, readFully, writeFully, type FileHandle, type FileSystem } from '@walnut/wal-core';
import { FaultInjectingFileSystem, MemoryFileSystem, SeededScheduler, type OperationKind } from '../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function failure(p: Promise<unknown>): Promise<FileSystemError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FileSystemError);
  return e as FileSystemError;
}

async function readAll(h: FileHandle): Promise<Uint8Array> {
  const size = await h.size();
  const buf = new Uint8Array(size);
  return buf.subarray(0, await readFully(h, buf, 0, size, 0));
}

describe('FaultInjectingFileSystem', () => {
  it('fails the n-th operation of all (nth without kind or path), counting every operation', async () => {
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), { seed: 1, faults: [{ nth: 3, error: 'EIO' }] });
    await fs.mkdir('/d'); // 1
    const h = await fs.open('/d/f', 'create'); // 2
    const e = await failure(h.write(enc('x'), 0, 1, 0)); // 3
    expect(e).toMatchObject({ code: 'EIO', syscall: 'write', path: '/d/f' });
    expect(e.message).toContain('injected fault');
    await h.write(enc('x'), 0, 1, 0); // 4: only the 3rd fails
    expect(fs.operationCount).toBe(4);
    expect(fs.injected).toEqual([{ index: 3, kind: 'write', path: '/d/f', fault: 'EIO' }]);
  });

  it('matches by kind (one or several) and by path (string or RegExp; either side of a rename), with ENOSPC', async () => {
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), {
      seed: 1,
      faults: [
        { kind: 'datasync', nth: 2, error: 'ENOSPC' },
        { kind: ['mkdir', 'rename'], path: /\.wal$/, every: true, error: 'EIO' },
        { path: '/exact', error: 'EIO' },
      ],
    });
    const h = await fs.open('/f', 'create');
    await h.datasync();
    expect(await failure(h.datasync())).toMatchObject({ code: 'ENOSPC', syscall: 'fdatasync' });
    await h.datasync();
    expect((await failure(fs.mkdir('/a.wal'))).code).toBe('EIO');
    expect((await failure(fs.mkdir('/b.wal'))).code).toBe('EIO');
    await fs.mkdir('/c');
    expect((await failure(fs.rename('/f', '/f.wal'))).code).toBe('EIO'); // the target matches
    expect((await failure(fs.stat('/exact'))).code).toBe('EIO');
    expect((await failure(fs.stat('/exact'))).code).toBe('ENOENT'); // fired once: now the real answer
    expect(fs.injected.map((f) => `${f.kind}:${f.fault}`)).toEqual(['datasync:ENOSPC', 'mkdir:EIO', 'mkdir:EIO', 'rename:EIO', 'stat:EIO']);
  });

  it('every from the nth on; addFault counts from when it is added; clearFaults removes the rules', async () => {
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), { seed: 1 });
    await fs.mkdir('/x');
    fs.addFault({ kind: 'stat', nth: 2, every: true, error: 'EIO' });
    await fs.stat('/x');
    await failure(fs.stat('/x'));
    await failure(fs.stat('/x'));
    fs.clearFaults();
    await fs.stat('/x');
    expect(() => fs.addFault({ nth: 0, error: 'EIO' })).toThrow(RangeError);
    expect(() => fs.addFault({ error: 'EPERM' as 'EIO' })).toThrow(RangeError);
  });

  it('a failed datasync loses the unsynced data (as Linux after a failed fsync): still readable, never durable unless its page is written again', async () => {
    const mem = new MemoryFileSystem({ seed: 2 });
    const fs = new FaultInjectingFileSystem(mem, { seed: 1, faults: [{ kind: 'datasync', nth: 2, error: 'EIO' }] });
    const h = await fs.open('/f', 'create');
    await writeFully(h, enc('synced'), 0, 6, 0);
    await h.datasync();
    await fs.syncDir('/');
    await writeFully(h, enc('+lost'), 0, 5, 6);
    await failure(h.datasync());
    expect(dec(await readAll(h))).toBe('synced+lost'); // the page cache still has it
    expect(dec(mem.durableState().files.get('/f')!)).toBe('synced');
    // A later successful datasync does not bring it back; what is written after it is durable.
    await writeFully(h, enc('!'), 0, 1, 8192);
    await h.datasync();
    const expected = new Uint8Array(8193);
    expected.set(enc('synced'));
    expected[8192] = '!'.charCodeAt(0);
    expect(mem.durableState().files.get('/f')).toEqual(expected);
    for (let seed = 0; seed < 16; seed++) expect(await readAll(await mem.crash({ seed }).open('/f', 'read'))).toEqual(expected);
    // A process crash keeps what the page cache held.
    const live = await readAll(h);
    expect(dec(live.subarray(0, 11))).toBe('synced+lost');
    expect(await readAll(await mem.crash({ mode: 'keep-all' }).open('/f', 'read'))).toEqual(live);
    // Writing into the lost bytes' page again makes the whole page durable with the next sync, as the kernel writes back whole pages.
    await writeFully(h, enc('?'), 0, 1, 100);
    await h.datasync();
    expect(dec(mem.durableState().files.get('/f')!.subarray(0, 11))).toBe('synced+lost');
  });

  it('a failed datasync of a backend without the hook still fails cleanly; dropUnsynced(path) is also offered on the file system', async () => {
    const mem = new MemoryFileSystem();
    // Hide fs-memory's hooks: any FileSystem can be wrapped.
    const plain: FileSystem = {
      open: async (p, f, o) => {
        const h = await mem.open(p, f, o);
        return {
          path: h.path,
          read: (...a) => h.read(...a),
          write: (...a) => h.write(...a),
          size: () => h.size(),
          truncate: (n) => h.truncate(n),
          allocate: (n) => h.allocate(n),
          datasync: () => h.datasync(),
          sync: () => h.sync(),
          tryLock: () => h.tryLock(),
          lock: () => h.lock(),
          unlock: () => h.unlock(),
          close: () => h.close(),
        };
      },
      readdir: (p) => mem.readdir(p),
      stat: (p) => mem.stat(p),
      mkdir: (p, o) => mem.mkdir(p, o),
      remove: (p, o) => mem.remove(p, o),
      rename: (a, b) => mem.rename(a, b),
      syncDir: (p) => mem.syncDir(p),
    };
    const fs = new FaultInjectingFileSystem(plain, { seed: 1, faults: [{ kind: 'sync', error: 'EIO' }] });
    expect(fs.kind).toBe('faulty');
    const h = await fs.open('/f', 'create');
    await writeFully(h, enc('abc'), 0, 3, 0);
    expect((await failure(h.sync())).code).toBe('EIO');
    expect(dec(await readAll(h))).toBe('abc');

    const direct = new FaultInjectingFileSystem(mem, { seed: 1 });
    expect(direct.kind).toBe('faulty memory');
    await h.datasync();
    await direct.syncDir('/');
    await writeFully(h, enc('def'), 0, 3, 3);
    direct.dropUnsynced('/f');
    await h.datasync();
    // The lost bytes read as zeros; the size (inode metadata, not a page) is persisted by the next sync.
    expect(dec(mem.durableState().files.get('/f')!)).toBe('abc\0\0\0');
  });

  it('short writes: writeFully (as the WAL writes) still writes everything; the shortened writes are reported', async () => {
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), { seed: 5, shortWrites: 1 });
    const h = await fs.open('/f', 'create');
    const data = new Uint8Array(10_000).map((_, i) => i % 251);
    expect(await h.write(data, 0, data.length, 0)).toBeLessThan(data.length);
    await writeFully(h, data, 0, data.length, 0);
    expect(await readAll(h)).toEqual(data);
    expect(fs.injected.length).toBeGreaterThan(2);
    expect(fs.injected.every((f) => f.fault === 'shortWrite' && f.kind === 'write' && /^wrote \d+ of \d+ bytes$/.test(f.detail!))).toBe(
      true,
    );
  });

  it('short writes stop only at multiples of shortWriteAlignment (512 by default, as Linux), or at any byte with 1', async () => {
    const ends = async (alignment: number | undefined, position: number, length: number) => {
      const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), {
        seed: 11,
        shortWrites: 1,
        ...(alignment === undefined ? {} : { shortWriteAlignment: alignment }),
      });
      const h = await fs.open('/f', 'create');
      const out = new Set<number>();
      for (let i = 0; i < 200; i++) out.add(position + (await h.write(new Uint8Array(length).fill(7), 0, length, position)));
      return [...out].sort((a, b) => a - b);
    };
    // 100..2100 crosses 512, 1024, 1536 and 2048: those are the only places a write there can stop.
    expect(await ends(undefined, 100, 2000)).toEqual([512, 1024, 1536, 2048]);
    expect(await ends(4096, 100, 5000)).toEqual([4096]);
    // Within one sector a write is never cut; one ending exactly on a boundary can stop only before it.
    expect(await ends(undefined, 10, 400)).toEqual([410]);
    expect(await ends(undefined, 0, 1024)).toEqual([512]);
    const anyByte = await ends(1, 100, 50);
    expect(anyByte.length).toBeGreaterThan(20);
    expect(anyByte.every((e) => e > 100 && e <= 150)).toBe(true);
    expect(() => new FaultInjectingFileSystem(new MemoryFileSystem(), { seed: 1, shortWriteAlignment: 0 })).toThrow(RangeError);
  });

  it('bit flips on read: exactly one bit differs per read, and they are reported', async () => {
    const mem = new MemoryFileSystem();
    const w = await mem.open('/f', 'create');
    const data = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
    await writeFully(w, data, 0, data.length, 0);
    const fs = new FaultInjectingFileSystem(mem, { seed: 9, bitFlipsOnRead: 1 });
    const h = await fs.open('/f', 'read');
    for (let k = 0; k < 5; k++) {
      const buf = new Uint8Array(4096);
      expect(await h.read(buf, 0, 4096, 0)).toBe(4096);
      let bits = 0;
      for (let i = 0; i < 4096; i++) for (let x = buf[i]! ^ data[i]!; x !== 0; x &= x - 1) bits++;
      expect(bits).toBe(1);
    }
    expect(fs.injected.filter((f) => f.fault === 'bitFlip')).toHaveLength(5);
    expect(() => new FaultInjectingFileSystem(mem, { seed: 1, bitFlipsOnRead: 2 })).toThrow(RangeError);
  });

  it('is deterministic: the same seed gives the same short writes and bit flips', async () => {
    const trace = async (seed: number) => {
      const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), { seed, shortWrites: 0.5, bitFlipsOnRead: 0.5 });
      const h = await fs.open('/f', 'create');
      const data = new Uint8Array(3000).fill(1);
      for (let i = 0; i < 10; i++) await writeFully(h, data, 0, data.length, i * 3000);
      for (let i = 0; i < 10; i++) await h.read(new Uint8Array(100), 0, 100, i * 100);
      return fs.injected.map((f) => `${f.index} ${f.fault} ${f.detail}`);
    };
    expect(await trace(3)).toEqual(await trace(3));
    expect(await trace(3)).not.toEqual(await trace(4));
  });

  it('a failed close still closes the handle (its lock is released), as close(2)', async () => {
    const mem = new MemoryFileSystem();
    const fs = new FaultInjectingFileSystem(mem, { seed: 1, faults: [{ kind: 'close', error: 'EIO' }] });
    const h = await fs.open('/LOCK', 'create');
    await h.tryLock();
    await failure(h.close());
    await (await mem.open('/LOCK', 'readWrite')).tryLock();
  });

  it('onOperation sees every operation, in order, before it runs', async () => {
    const seen: string[] = [];
    const fs = new FaultInjectingFileSystem(new MemoryFileSystem(), {
      seed: 1,
      onOperation: (op) => seen.push(`${op.index}:${op.kind}:${op.path}`),
    });
    const h = await fs.open('/f', 'create');
    await h.write(enc('a'), 0, 1, 0);
    await h.close();
    await fs.rename('/f', '/g');
    expect(seen).toEqual(['1:open:/f', '2:write:/f', '3:close:/f', '4:rename:/f']);
  });

  it('a seeded scheduler decides the completion order of concurrent operations, repeatably', async () => {
    const order = async (seed: number) => {
      const mem = new MemoryFileSystem();
      const done: string[] = [];
      const fs = new FaultInjectingFileSystem(mem, { seed: 1, scheduler: new SeededScheduler({ seed, maxLatency: 20 }) });
      const ops = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => fs.mkdir(`/${n}`).then(() => done.push(n)));
      await Promise.all(ops);
      return done.join('');
    };
    const orders = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const o = await order(seed);
      expect(await order(seed)).toBe(o);
      orders.add(o);
    }
    expect(orders.size).toBeGreaterThan(3);
    const s = new SeededScheduler({ seed: 1, maxLatency: 5 });
    const kinds: OperationKind[] = ['read', 'write'];
    await Promise.all(kinds.map((kind, i) => s.admit({ index: i + 1, kind, path: '/x' })));
    expect(s.now()).toBeLessThanOrEqual(5);
    expect(s.waiting).toBe(0);
  });
});
