/**
 * @walnut/fs-memory — walnut's FileSystem in memory, on memfs, with POSIX semantics
 * (and, in a later release, a seeded crash and durability model).
 * @packageDocumentation
 */
export { MemoryFileSystem } from './memory-file-system.js';
export type { MemoryFileSystemOptions } from './memory-file-system.js';
