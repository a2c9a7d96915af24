/**
 * The storage contract the WAL is written against (DESIGN §2).
 *
 * The interface is deliberately narrow: it is exactly what the WAL needs. Every backend
 * (`NodeFileSystem`, `MemoryFileSystem`, `S3ArchiveFileSystem`, fault-injecting wrappers)
 * implements it and maps its own failures onto {@link FileSystemError} with a stable
 * {@link FileSystemErrorCode}, so wal-core never inspects backend-specific errors.
 *
 * Paths are POSIX-style strings. What a path is relative to is the backend's business
 * (`NodeFileSystem` takes ordinary OS paths; `MemoryFileSystem` paths are absolute in its volume).
 *
 * Durability semantics every backend documents:
 * - bytes written to a file may be lost in a crash until the file is datasynced or synced;
 *   a crash may keep any subset of unsynced writes, torn at 512-byte sector granularity;
 * - creating, renaming and removing names may be lost until the parent directory is synced;
 * - `rename` replaces its target atomically;
 * - a lock excludes every other holder (another handle in this process, or another process)
 *   until it is released, its handle is closed, or the process dies.
 *
 * @packageDocumentation
 */

/**
 * How a file is opened.
 * - `read`: read-only; the file must exist.
 * - `readWrite`: read and write; the file must exist.
 * - `create`: read and write; created (with `mode`) if missing, never truncated.
 * - `createExclusive`: read and write; fails with `EEXIST` if the name exists.
 * - `createTruncate`: read and write; created if missing, truncated to 0 if present.
 */
export type OpenFlags = 'read' | 'readWrite' | 'create' | 'createExclusive' | 'createTruncate';

/** Options for {@link FileSystem.open}. */
export interface OpenOptions {
  /** Permission bits for a newly created file (default 0o600, as etcd's segments), reduced by the umask. */
  readonly mode?: number;
}

/** What {@link FileSystem.stat} reports. */
export interface FileStat {
  /** Size in bytes. */
  readonly size: number;
  /** True for a regular file. */
  readonly isFile: boolean;
  /** True for a directory. */
  readonly isDirectory: boolean;
  /** Permission bits (`mode & 0o777`). */
  readonly mode: number;
}

/** Hints for {@link FileHandle.allocate}. */
export interface AllocateOptions {
  /**
   * Whether appends into the allocated range will be datasynced (default true). False (a WAL with
   * `noFsync`) lets a backend trade the reservation for speed: fs-node then only extends the file, so a
   * full disk fails in a later write instead (etcd's own behaviour where fallocate is unsupported).
   */
  readonly synced?: boolean;
}

/**
 * An open file. Positional I/O only: a handle has no implicit file position, which keeps
 * concurrent readers and the WAL's own bookkeeping explicit.
 */
export interface FileHandle {
  /** The path the handle was opened with. */
  readonly path: string;

  /**
   * Reads up to `length` bytes at file offset `position` into `buffer[offset..]`.
   * Resolves with the number of bytes read; fewer than `length` only at end of file.
   */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;

  /**
   * Writes `buffer[offset..offset+length)` at file offset `position`, extending the file
   * (with zeros in any gap) as needed. Resolves with the number of bytes written, which a
   * backend may make smaller than `length` (a short write); callers that need the whole
   * range written loop (see `writeFully`). Fails with `EBADF` on a read-only handle.
   */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;

  /** The file's current size in bytes. */
  size(): Promise<number>;

  /** Sets the file's size: shorter drops bytes, longer appends zeros. `EBADF` on a read-only handle. */
  truncate(size: number): Promise<void>;

  /**
   * Makes the file at least `size` bytes long, the new bytes reading as zeros, and reserves
   * the space where the medium can (so that a full disk fails here, not in a later write).
   * Never shrinks the file. Fails with `ENOSPC` when the space cannot be had, `EBADF` on a read-only handle.
   * Backends make it atomic with respect to writes on the same handle.
   * `options.synced: false` says the caller will never datasync appends into the range (a WAL with
   * `noFsync`): a backend may then skip the reservation (see {@link AllocateOptions.synced}).
   */
  allocate(size: number, options?: AllocateOptions): Promise<void>;

  /** Makes the file's data (and the metadata needed to read it back, e.g. its size) durable. */
  datasync(): Promise<void>;

  /** Makes the file's data and all its metadata durable. */
  sync(): Promise<void>;

  /**
   * Takes the exclusive advisory lock on this file without waiting.
   * Fails with `ELOCKED` if any other handle (in this process or another) holds it.
   * The handle must be open for writing (an exclusive open-file-description lock needs write access, as
   * etcd's own locks do); on a `read` handle backends fail with `EBADF`.
   */
  tryLock(): Promise<void>;

  /**
   * Takes the exclusive advisory lock, waiting until it is free (a write handle, as `tryLock`).
   * Closing the handle while it waits rejects the call with `EBADF`.
   */
  lock(): Promise<void>;

  /** Releases the lock if this handle holds it. */
  unlock(): Promise<void>;

  /** Closes the handle, releasing its lock. Further calls fail with `EBADF`. Idempotent. */
  close(): Promise<void>;
}

/** A hierarchical file system with the durability primitives a WAL needs. */
export interface FileSystem {
  /** Opens (and possibly creates) a file. Fails with `ENOENT`, `EEXIST`, `EISDIR`, ... */
  open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle>;

  /** The names in a directory (not `.` or `..`), in no particular order. */
  readdir(path: string): Promise<string[]>;

  /** Size and kind of a file or directory. Fails with `ENOENT` if missing. */
  stat(path: string): Promise<FileStat>;

  /**
   * Creates a directory (`mode` default 0o700). With `recursive`, creates missing parents and
   * succeeds if it already exists; otherwise fails with `EEXIST`.
   */
  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void>;

  /**
   * Removes a file or directory. With `recursive`, removes a directory and everything in it;
   * without, a non-empty directory fails with `ENOTEMPTY`. With `force`, a missing path is not an error.
   */
  remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void>;

  /**
   * Renames a file or directory, atomically replacing an existing target file
   * (or an empty target directory), as POSIX rename(2).
   */
  rename(from: string, to: string): Promise<void>;

  /** Makes the directory's entries (creates, renames, removes within it) durable. */
  syncDir(path: string): Promise<void>;
}

/**
 * Optional capability: a FileSystem that can describe itself for messages and metrics
 * (e.g. `"node"`, `"memory"`). Not required by the WAL.
 */
export interface NamedFileSystem extends FileSystem {
  /** Names the backend in messages and metrics (`node`, `memory`, `s3-archive`, ...). */
  readonly kind: string;
}
