/**
 * @walnut/fs-node — walnut's FileSystem on local disk: fdatasync, directory fsync,
 * open-file-description locks (the lock etcd takes).
 * @packageDocumentation
 */
export { NodeFileSystem } from './node-file-system.js';
export type { NodeFileSystemOptions } from './node-file-system.js';
export type { Preallocation } from './preallocation.js';
export type { NodeIo } from './node-file-handle.js';
