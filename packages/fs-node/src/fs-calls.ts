/**
 * The node:fs calls fs-node makes, as promises over the callback API.
 *
 * Why the callback forms: the sync forms commit fastest here (PERFORMANCE-NOTES: ~7.7k vs
 * ~4.3–5.7k commits/s for `fs.promises` FileHandle) but block the event loop that the WAL's group
 * commit and background segment pipeline depend on. The callback forms run on the libuv pool like
 * the promise forms but skip the FileHandle machinery, so they sit between the two. The fs-node
 * production issue measures sync vs callback vs promise (and a worker thread) in the benchmark and
 * may change this choice; keeping every call in this one file makes that a local change.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/** Runs a callback-style call as a promise; a synchronous throw (argument validation) rejects. */
function call<T>(start: (cb: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)));
  });
}

export const open = (path: string, flags: number, mode: number): Promise<number> => call<number>((cb) => fs.open(path, flags, mode, cb));
export const close = (fd: number): Promise<void> => call<void>((cb) => fs.close(fd, (err) => cb(err, undefined)));
export const read = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> =>
  call<number>((cb) => fs.read(fd, buffer, offset, length, position, (err, n) => cb(err, n)));
export const write = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> =>
  call<number>((cb) => fs.write(fd, buffer, offset, length, position, (err, n) => cb(err, n)));
export const fstat = (fd: number): Promise<fs.Stats> => call<fs.Stats>((cb) => fs.fstat(fd, cb));
export const ftruncate = (fd: number, size: number): Promise<void> =>
  call<void>((cb) => fs.ftruncate(fd, size, (err) => cb(err, undefined)));
export const fdatasync = (fd: number): Promise<void> => call<void>((cb) => fs.fdatasync(fd, (err) => cb(err, undefined)));
export const fsync = (fd: number): Promise<void> => call<void>((cb) => fs.fsync(fd, (err) => cb(err, undefined)));
export const stat = (path: string): Promise<fs.Stats> => call<fs.Stats>((cb) => fs.stat(path, cb));
export const lstat = (path: string): Promise<fs.Stats> => call<fs.Stats>((cb) => fs.lstat(path, cb));
export const readdir = (path: string): Promise<string[]> => call<string[]>((cb) => fs.readdir(path, cb));
export const mkdir = (path: string, mode: number): Promise<void> =>
  call<void>((cb) => fs.mkdir(path, { mode }, (err) => cb(err, undefined)));
export const mkdirRecursive = (path: string, mode: number): Promise<void> =>
  call<void>((cb) => fs.mkdir(path, { mode, recursive: true }, (err) => cb(err, undefined)));
export const unlink = (path: string): Promise<void> => call<void>((cb) => fs.unlink(path, (err) => cb(err, undefined)));
export const rmdir = (path: string): Promise<void> => call<void>((cb) => fs.rmdir(path, (err) => cb(err, undefined)));
export const rmTree = (path: string): Promise<void> =>
  call<void>((cb) => fs.rm(path, { recursive: true, force: false }, (err) => cb(err, undefined)));
export const rename = (from: string, to: string): Promise<void> => call<void>((cb) => fs.rename(from, to, (err) => cb(err, undefined)));

/**
 * The data path in the calling thread (`io: 'sync'`): pread/pwrite/fdatasync/fsync without the libuv
 * pool round trip, which costs more than a 100-byte write itself (see NodeFileSystemOptions.io).
 */
function now<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err);
  }
}
/** pwrite, fdatasync and fsync in the calling thread, returning their result directly. */
export interface BlockingIo {
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fdatasync(fd: number): void;
  fsync(fd: number): void;
}

/** Through node:fs's sync forms. */
export const nodeBlockingIo: BlockingIo = {
  write: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  fsync: (fd) => fs.fsyncSync(fd),
};

/**
 * Through @walnut/native (an optional dependency, Linux), when it is installed: the same system calls
 * without node:fs's JavaScript layer. Measured on bench a's commit pattern (160-byte pwrite + fdatasync,
 * alternating blocks in one process): walnut's commit loop 5–8 % faster. Its errors carry `code`, `errno`
 * and `syscall` like node:fs's, so they map to the same FileSystemErrors.
 */
export const nativeBlockingIo: BlockingIo | undefined = loadNativeBlockingIo();

/** Loaded synchronously (the addon's CommonJS entry), so this module has no top-level await. */
function loadNativeBlockingIo(): BlockingIo | undefined {
  try {
    const m = createRequire(import.meta.url)('@walnut/native/binding') as {
      posixIo?: Omit<BlockingIo, 'write'> & { pwrite: BlockingIo['write'] };
    };
    const io = m.posixIo;
    return io === undefined ? undefined : { write: io.pwrite, fdatasync: io.fdatasync, fsync: io.fsync };
  } catch {
    return undefined;
  }
}
export const readNow = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> =>
  now(() => fs.readSync(fd, buffer, offset, length, position));
export const writeNow = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> =>
  now(() => fs.writeSync(fd, buffer, offset, length, position));
export const fdatasyncNow = (fd: number): Promise<void> => now(() => fs.fdatasyncSync(fd));
export const fsyncNow = (fd: number): Promise<void> => now(() => fs.fsyncSync(fd));
/**
 * fstat in the calling thread, for allocate whatever the io form: it is a few microseconds, and a pool
 * round trip would hold the zero-fill back until the event loop turns (see zero-fill-thread.ts).
 */
export const fstatNow = (fd: number): Promise<fs.Stats> => now(() => fs.fstatSync(fd));

export const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = fs.constants;
/** O_DIRECTORY where the platform has it (POSIX), else 0 (Windows). */
export const O_DIRECTORY: number = fs.constants.O_DIRECTORY ?? 0;
