/**
 * @walnut/fs-memory — walnut's FileSystem in memory, on memfs, with POSIX semantics, a durability
 * model with seeded crashes (`MemoryFileSystem.crash`), and fault injection for any FileSystem
 * (`FaultInjectingFileSystem`).
 * @packageDocumentation
 */
export { MemoryFileSystem } from './memory-file-system.js';
export type { MemoryFileSystemOptions, CrashOptions } from './memory-file-system.js';
export type { CrashMode } from './volume.js';
export { FaultInjectingFileSystem } from './fault-injecting-file-system.js';
export type {
  FaultInjectingOptions,
  FaultRule,
  InjectedFault,
  OperationInfo,
  OperationKind,
  OperationScheduler,
} from './fault-injecting-file-system.js';
export { SeededScheduler } from './seeded-scheduler.js';
export type { SeededSchedulerOptions } from './seeded-scheduler.js';
export { SplitMix64 } from './prng.js';
