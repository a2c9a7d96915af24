/**
 * {@link S3ArchiveFileSystem}: a {@link FileSystem} that shows a live FileSystem and an object-store archive
 * of released WAL segments as one tree.
 *
 * - Everything the live WAL does goes to the wrapped (live) file system, unchanged.
 * - A directory listing adds the segments archived from that directory (key `<prefix><path relative to
 *   root>`), so `Wal.openForRead`, `verify`, `validSnapshotEntries` and the CLI read across both tiers.
 * - Opening an archived segment for reading gives a handle that reads it from the store in verified
 *   chunks (ranged GETs, read-ahead, a bounded shared cache). Opening it for writing, renaming, removing
 *   or locking it is a typed error (`EROFS`): archived objects are immutable. `purgeSegments` skips
 *   them (a read-only segment is not a purge candidate).
 * - A name present in both tiers (the moment between upload and local delete) is the live file.
 *
 * Invariant: this is the only writer of its prefix (one WAL directory tree per prefix), so the index of
 * archived names it keeps is exact; {@link S3ArchiveFileSystem.refresh} reloads it after outside changes.
 */
import {
  FileSystemError,
  InvalidArgumentError,
  basenamePath,
  cleanPath,
  dirnamePath,
  tryParseSegmentName,
  type FileHandle,
  type FileStat,
  type FileSystem,
  type NamedFileSystem,
  type OpenFlags,
  type OpenOptions,
  type WalLogger,
  noopLogger,
} from '@walnut/wal-core';
import { ArchiveCorruptionError, ArchiveError } from './archive-errors.js';
import { ArchivedSegmentHandle, ChunkCache } from './archived-segment-handle.js';
import type { ObjectStore } from './object-store.js';
import { metadataToFacts, segmentKey, type SegmentFacts } from './segment-object.js';

/** Options of {@link S3ArchiveFileSystem}. */
export interface S3ArchiveFileSystemOptions {
  /** Key prefix of this WAL tree in the store, e.g. `cluster-a/member-1/`. May be empty. */
  readonly prefix: string;
  /** The live path that maps to `prefix` (default `/`, or the live file system's root). */
  readonly root?: string;
  /** Bytes fetched per ranged GET when reading an archived segment (default 4 MiB; rounded up to whole verification chunks). */
  readonly readAheadBytes?: number;
  /** Upper bound of the shared cache of verified chunks, in bytes (default 32 MiB; 0 disables it). */
  readonly cacheBytes?: number;
  /**
   * What a directory listing does when the store cannot be listed (unreachable, access denied):
   * `'live-only'` (default) lists the live names, logs a warning and asks the store again next time, so a
   * node still starts from its local segments during an outage (a reader that needs an archived segment
   * then gets a typed "not covered" error, never wrong data); `'throw'` fails the listing with the store's
   * typed error.
   */
  readonly whenArchiveUnavailable?: 'live-only' | 'throw';
  /** Where the outage warning goes. */
  readonly logger?: WalLogger;
  /**
   * Let `remove` delete a live segment that is not archived yet (default false). By default it fails with
   * `EPERM`, so that nothing — a WAL's own purger, a stray script through this file system — can drop a
   * segment on its way to the archive: segments leave the live tier only through the archiver, which
   * removes them on the live file system after the upload is verified. (The conformance suites, which
   * delete segments on purpose, set it.)
   */
  readonly allowUnarchivedRemoval?: boolean;
}

/** An archived segment as the index knows it. */
export interface ArchivedSegment {
  /** The object key. */
  readonly key: string;
  /** The segment's file name. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
}

const DEFAULT_READ_AHEAD = 4 * 1024 * 1024;
const DEFAULT_CACHE = 32 * 1024 * 1024;

/** A live file system with the archive of its released segments overlaid. */
export class S3ArchiveFileSystem implements NamedFileSystem {
  /** `s3-archive over <kind of the live file system>`. */
  readonly kind: string;
  /** The live file system (the first tier), as given. */
  readonly live: FileSystem;
  /** The object store of the archive, as given. */
  readonly store: ObjectStore;
  /** {@link S3ArchiveFileSystemOptions.prefix}. */
  readonly prefix: string;
  /** {@link S3ArchiveFileSystemOptions.root}, normalized. */
  readonly root: string;
  /** {@link S3ArchiveFileSystemOptions.readAheadBytes}, default applied. */
  readonly readAheadBytes: number;
  readonly #cache: ChunkCache;
  readonly #unavailable: 'live-only' | 'throw';
  readonly #logger: WalLogger;
  readonly #allowUnarchivedRemoval: boolean;
  /** Per live directory: archived segment name → summary (loaded on first use). */
  readonly #index = new Map<string, Map<string, ArchivedSegment>>();
  readonly #loading = new Map<string, Promise<Map<string, ArchivedSegment>>>();
  /** Per directory with a load in flight: the index changes noted since it started. */
  readonly #pending = new Map<string, ((m: Map<string, ArchivedSegment>) => unknown)[]>();

  constructor(live: FileSystem, store: ObjectStore, options: S3ArchiveFileSystemOptions) {
    this.live = live;
    this.store = store;
    this.prefix = options.prefix;
    this.root = cleanPath(options.root ?? '/');
    this.readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD;
    this.#cache = new ChunkCache(options.cacheBytes ?? DEFAULT_CACHE);
    this.#unavailable = options.whenArchiveUnavailable ?? 'live-only';
    this.#logger = options.logger ?? noopLogger;
    this.#allowUnarchivedRemoval = options.allowUnarchivedRemoval ?? false;
    const innerKind = (live as Partial<NamedFileSystem>).kind;
    this.kind = `s3-archive over ${typeof innerKind === 'string' ? innerKind : 'a file system'}`;
  }

  /** The key prefix of the archived segments of live directory `dir`. */
  dirPrefix(dir: string): string {
    const d = cleanPath(dir);
    if (d === this.root) return this.prefix;
    const rootSlash = this.root.endsWith('/') ? this.root : `${this.root}/`;
    if (!d.startsWith(rootSlash)) throw new InvalidArgumentError(`S3ArchiveFileSystem: ${d} is outside the archive root ${this.root}`);
    return `${this.prefix}${d.slice(rootSlash.length)}/`;
  }

  /** The object key of a segment path. */
  keyOf(path: string): string {
    const p = cleanPath(path);
    return segmentKey(this.dirPrefix(dirnamePath(p)), basenamePath(p));
  }

  /** The archived segments of `dir`, oldest first (from the index; loads it on first use). */
  async archivedSegments(dir: string): Promise<ArchivedSegment[]> {
    const m = await this.#dirIndex(cleanPath(dir));
    return [...m.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Forgets the index, so the next listing asks the store again (after changes made elsewhere). */
  refresh(): void {
    this.#index.clear();
  }

  /** Records a segment the archiver has just stored (and verified). */
  noteArchived(dir: string, seg: ArchivedSegment): void {
    this.#note(cleanPath(dir), seg.name, seg);
  }

  /** Removes a segment from the index (archive retention). */
  noteRemoved(dir: string, name: string): void {
    this.#note(cleanPath(dir), name, undefined);
  }

  /**
   * Applies a change to the index — and to a load in flight: a listing requested before the change may
   * come back without it, and storing that listing as it is would hide an archived segment (or show a
   * removed one) until refresh(). Changes noted while a load runs are replayed onto its result.
   */
  #note(dir: string, name: string, seg: ArchivedSegment | undefined): void {
    const apply = (m: Map<string, ArchivedSegment>) => (seg ? m.set(name, seg) : m.delete(name));
    const m = this.#index.get(dir);
    if (m) apply(m);
    const pending = this.#pending.get(dir);
    if (pending) pending.push(apply);
  }

  async #dirIndex(dir: string): Promise<Map<string, ArchivedSegment>> {
    const have = this.#index.get(dir);
    if (have) return have;
    let p = this.#loading.get(dir);
    if (!p) {
      const pending: ((m: Map<string, ArchivedSegment>) => unknown)[] = [];
      this.#pending.set(dir, pending);
      p = (async () => {
        const prefix = this.dirPrefix(dir);
        const m = new Map<string, ArchivedSegment>();
        for (const o of await this.store.list(prefix)) {
          const name = o.key.slice(prefix.length);
          if (name.includes('/') || !tryParseSegmentName(name)) continue;
          m.set(name, { key: o.key, name, size: o.size });
        }
        for (const apply of pending) apply(m);
        this.#index.set(dir, m);
        return m;
      })().finally(() => {
        this.#loading.delete(dir);
        if (this.#pending.get(dir) === pending) this.#pending.delete(dir);
      });
      this.#loading.set(dir, p);
    }
    return p;
  }

  /** The archived segment at `path`, if the name is archived and not (also) live. */
  async #archived(path: string): Promise<ArchivedSegment | undefined> {
    const p = cleanPath(path);
    const name = basenamePath(p);
    if (!tryParseSegmentName(name)) return undefined;
    const dir = dirnamePath(p);
    try {
      this.dirPrefix(dir);
    } catch {
      return undefined; // outside the archive root
    }
    // The live tier first: a live name is never archived-only (between upload and local delete the live
    // file wins), and the store is not needed to tell, so a live segment stays usable during a store outage.
    try {
      await this.live.stat(p);
      return undefined;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
    return (await this.#dirIndex(dir)).get(name);
  }

  #readOnly(syscall: string, path: string): FileSystemError {
    return new FileSystemError('EROFS', syscall, path, 'an archived segment is immutable');
  }

  /** Reads the facts an archived segment's object carries (a HEAD). */
  async archivedFacts(seg: ArchivedSegment): Promise<SegmentFacts> {
    const info = await this.store.head(seg.key);
    if (!info) throw new FileSystemError('ENOENT', 'open', seg.key, 'the archived object disappeared');
    const facts = metadataToFacts(seg.key, seg.name, info.metadata);
    if (facts.size !== info.size) {
      throw new ArchiveCorruptionError(seg.key, `the object holds ${info.size} bytes, its metadata says ${facts.size}`);
    }
    return facts;
  }

  async open(path: string, flags: OpenFlags, options?: OpenOptions): Promise<FileHandle> {
    const seg = await this.#archived(path);
    if (!seg) return this.live.open(path, flags, options);
    if (flags === 'createExclusive') throw new FileSystemError('EEXIST', 'open', path, 'an archived segment has this name');
    if (flags !== 'read') throw this.#readOnly('open', path);
    const facts = await this.archivedFacts(seg);
    return new ArchivedSegmentHandle(cleanPath(path), seg.key, facts, this.store, this.#cache, this.readAheadBytes);
  }

  async readdir(path: string): Promise<string[]> {
    const names = await this.live.readdir(path);
    let archived: Map<string, ArchivedSegment>;
    try {
      this.dirPrefix(path);
    } catch {
      return names; // outside the archive root
    }
    try {
      archived = await this.#dirIndex(cleanPath(path));
    } catch (e) {
      if (this.#unavailable === 'throw' || !(e instanceof ArchiveError) || e instanceof ArchiveCorruptionError) throw e;
      this.#logger.warn(
        { dir: path, location: this.store.location, error: e.message },
        'archive: listing unavailable, listing live segments only',
      );
      return names;
    }
    if (archived.size === 0) return names;
    const seen = new Set(names);
    for (const n of archived.keys()) if (!seen.has(n)) names.push(n);
    // One listing in order (byte order, as segment names sort), live and archived together.
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async stat(path: string): Promise<FileStat> {
    try {
      return await this.live.stat(path);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      const seg = await this.#archived(path);
      if (!seg) throw e;
      return { size: seg.size, isFile: true, isDirectory: false, mode: 0o444 };
    }
  }

  mkdir(path: string, options?: { readonly recursive?: boolean; readonly mode?: number }): Promise<void> {
    return this.live.mkdir(path, options);
  }

  async remove(path: string, options?: { readonly recursive?: boolean; readonly force?: boolean }): Promise<void> {
    if (await this.#archived(path)) throw this.#readOnly('unlink', path);
    if (!this.#allowUnarchivedRemoval && tryParseSegmentName(basenamePath(cleanPath(path))) && !options?.recursive) {
      let isFile = false;
      try {
        isFile = (await this.live.stat(path)).isFile;
      } catch {
        // missing: the live file system reports it below
      }
      if (isFile) {
        throw new FileSystemError(
          'EPERM',
          'unlink',
          path,
          'a segment leaves the live tier only through the archiver, after its upload is verified (allowUnarchivedRemoval lifts this)',
        );
      }
    }
    return this.live.remove(path, options);
  }

  async rename(from: string, to: string): Promise<void> {
    if (await this.#archived(from)) throw this.#readOnly('rename', from);
    // The target of a WAL cut (tmp -> next segment) is never archived. During a store outage ('live-only')
    // it is checked against the live tier alone, as a listing is: the cut must not fail because the store
    // is down (found by the archive simulation, tools/sim: a cut while the index was not loaded yet).
    let target: ArchivedSegment | undefined;
    try {
      target = await this.#archived(to);
    } catch (e) {
      if (this.#unavailable === 'throw' || !(e instanceof ArchiveError) || e instanceof ArchiveCorruptionError) throw e;
      this.#logger.warn(
        { path: to, location: this.store.location, error: e.message },
        'archive: index unavailable, renaming on the live tier',
      );
    }
    if (target) throw this.#readOnly('rename', to);
    return this.live.rename(from, to);
  }

  syncDir(path: string): Promise<void> {
    return this.live.syncDir(path);
  }
}
