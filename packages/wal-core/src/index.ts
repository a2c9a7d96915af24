/**
 * @walnut/wal-core — etcd's write-ahead log, byte for byte, written against an abstract FileSystem.
 * @packageDocumentation
 */
export type { FileSystem, FileHandle, FileStat, OpenFlags, OpenOptions, NamedFileSystem } from './fs/file-system.js';
export { joinPath, dirnamePath, basenamePath, cleanPath } from './fs/path.js';
export { writeFully, readFully } from './fs/io.js';
export * from './errors.js';
export { EntryType, EMPTY_HARD_STATE, isEmptyHardState, mustSync, emptyConfState } from './types.js';
export type { Entry, HardState, ConfState, Snapshot } from './types.js';
