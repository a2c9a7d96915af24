/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
import type { AllocateOptions, FileHandle, FileStat, FileSystem, OpenFlags, OpenOptions } from '@walnut/wal-core';
import type { CliIo } from './io.js';

/** Bytes as `12.3 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A progress line: `update` redraws it, `done` ends it. Both do nothing unless stderr is a TTY. */
export interface Progress {
  update(p: {
    readonly done: number;
    readonly total: number;
    readonly bytes: number;
    readonly totalBytes: number;
    readonly name?: string;
  }): void;
  done(): void;
}

/** A progress bar labelled `label` on `io.stderr` (a no-op when `io.stderrIsTTY` is not true). */
export function progressBar(io: CliIo, label: string): Progress {
  if (io.stderrIsTTY !== true) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  return {
    update(p) {
      const width = 24;
      const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : p.total > 0 ? p.done / p.total : 1;
      const fill = Math.round(frac * width);
      const bar = `${'#'.repeat(fill)}${'-'.repeat(width - fill)}`;
      io.stderr(`\r\x1b[2K${label} [${bar}] ${p.done}/${p.total} segments, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr('\n');
      drawn = false;
    },
  };
}

/** A progress bar over a list of segments, advanced when a scan enters a segment. */
export interface ScanProgress {
  /** The scan entered segment `index` (0-based) of the list. */
  segment(index: number): void;
  /** Ends the bar: erases its line, so what follows on stderr starts on a clean line. */
  done(): void;
}

/**
 * A {@link progressBar} for a record scan of `segments` (verify, dump --raw, stat): drawn only when
 * stderr is a terminal and the directory is large enough to take a while (more than 4 segments or
 * 64 MiB), redrawn at most every 100 ms.
 */
export function scanProgress(
  io: CliIo,
  label: string,
  segments: ReadonlyArray<{ readonly name: string; readonly size: number }>,
): ScanProgress {
  const totalBytes = segments.reduce((n, s) => n + s.size, 0);
  if (io.stderrIsTTY !== true || (segments.length <= 4 && totalBytes <= 64 * 1024 * 1024)) {
    return { segment: () => undefined, done: () => undefined };
  }
  const bar = progressBar(io, label);
  let last = 0;
  let drawn = false;
  return {
    segment(index) {
      const now = Date.now();
      if (now - last < 100 && index < segments.length - 1) return;
      last = now;
      drawn = true;
      let bytes = 0;
      for (let i = 0; i < index; i++) bytes += segments[i]!.size;
      bar.update({ done: index, total: segments.length, bytes, totalBytes, name: segments[index]?.name });
    },
    done() {
      if (drawn) io.stderr('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** A file handle that reports the bytes read through it. */
class CountingHandle implements FileHandle {
  constructor(
    private readonly inner: FileHandle,
    private readonly onRead: (n: number) => void,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const n = await this.inner.read(buffer, offset, length, position);
    this.onRead(n);
    return n;
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.inner.write(buffer, offset, length, position);
  }
  size(): Promise<number> {
    return this.inner.size();
  }
  truncate(size: number): Promise<void> {
    return this.inner.truncate(size);
  }
  allocate(size: number, options?: AllocateOptions): Promise<void> {
    return this.inner.allocate(size, options);
  }
  datasync(): Promise<void> {
    return this.inner.datasync();
  }
  sync(): Promise<void> {
    return this.inner.sync();
  }
  tryLock(): Promise<void> {
    return this.inner.tryLock();
  }
  lock(): Promise<void> {
    return this.inner.lock();
  }
  unlock(): Promise<void> {
    return this.inner.unlock();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A FileSystem that passes everything through and reports the bytes read from `*.wal` files: how a
 * progress bar follows `Wal.openForRead` + `readAll`, which have no progress hook of their own.
 */
export class ReadCountingFileSystem implements FileSystem {
  constructor(
    private readonly inner: FileSystem,
    private readonly onRead: (bytes: number) => void,
  ) {}
  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    const h = await this.inner.open(path, flags, options);
    return path.endsWith('.wal') ? new CountingHandle(h, this.onRead) : h;
  }
  readdir(path: string): Promise<string[]> {
    return this.inner.readdir(path);
  }
  stat(path: string): Promise<FileStat> {
    return this.inner.stat(path);
  }
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    return this.inner.mkdir(path, options);
  }
  remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    return this.inner.remove(path, options);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path);
  }
}

/**
 * A progress bar by bytes read for a WAL read of `segments` (`dump`): same rules as {@link scanProgress}
 * (a terminal, a large directory), redrawn at most every 100 ms, erased at the end. Wrap the file system
 * with {@link ReadCountingFileSystem} and pass `bytes` as its callback.
 */
export function readProgress(
  io: CliIo,
  label: string,
  segments: ReadonlyArray<{ readonly name: string; readonly size: number }>,
): { readonly bytes: (n: number) => void; readonly done: () => void } | undefined {
  const totalBytes = segments.reduce((n, s) => n + s.size, 0);
  if (io.stderrIsTTY !== true || (segments.length <= 4 && totalBytes <= 64 * 1024 * 1024)) return undefined;
  const bar = progressBar(io, label);
  let read = 0;
  let last = 0;
  let drawn = false;
  return {
    bytes(n) {
      read += n;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      drawn = true;
      // Segments are read in order: the count of those fully read follows from the bytes.
      let done = 0;
      for (let acc = 0; done < segments.length && acc + segments[done]!.size <= read; done++) acc += segments[done]!.size;
      bar.update({ done, total: segments.length, bytes: Math.min(read, totalBytes), totalBytes });
    },
    done() {
      if (drawn) io.stderr('\r\x1b[2K');
      drawn = false;
    },
  };
}
