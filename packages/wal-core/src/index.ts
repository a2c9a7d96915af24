/**
 * @walnut/wal-core — etcd's write-ahead log, byte for byte, written against an abstract FileSystem.
 *
 * The public surface: {@link Wal}, the {@link FileSystem} contract backends implement, the typed
 * errors, the raft value types, segment naming, and the canonical dump used by tools.
 * @packageDocumentation
 */
export { Wal, isWalError } from './wal.js';
export type { ReadAllResult, SnapshotPosition } from './wal.js';
export type { ReplayItem } from './read-all.js';
export type { AllocateOptions, FileSystem, FileHandle, FileStat, OpenFlags, OpenOptions, NamedFileSystem } from './fs/file-system.js';
export { joinPath, dirnamePath, basenamePath, cleanPath } from './fs/path.js';
export { writeFully, readFully } from './fs/io.js';
export * from './errors.js';
export { EntryType, EMPTY_HARD_STATE, isEmptyHardState, mustSync, emptyConfState } from './types.js';
export type { Entry, HardState, ConfState, Snapshot } from './types.js';
export {
  DEFAULT_SEGMENT_SIZE_BYTES,
  SLOW_SYNC_WARNING_MS,
  noopLogger,
  systemClock,
  immediateScheduler,
  guardHooks,
  guardLogger,
} from './options.js';
export type { WalOptions, WalLogger, WalClock, WalMetrics, WalRecordKind, WalRepairOutcome, WalScheduler } from './options.js';
export { formatSegmentName, parseSegmentName, tryParseSegmentName } from './segment-name.js';
export type { SegmentName } from './segment-name.js';
export { canonicalDump, formatCanonicalDump } from './canonical-dump.js';
export type { CanonicalDump, CanonicalDumpEntry } from './canonical-dump.js';
export { crc32cUpdate, crc32cImplementation } from './crc32c.js';
export { RecordType } from './codec/messages.js';
export { RecordDecoder } from './record-decoder.js';
export type { DecodedRecord, SegmentSource, RecordDecoderOptions } from './record-decoder.js';
export { encodeEntry, decodeEntry, encodeHardState, decodeHardState, encodeSnapshot, decodeSnapshot } from './codec/messages.js';
export { purgeSegments, SegmentPurger, PurgerStoppedError, systemTimer, DEFAULT_PURGE_INTERVAL_MS } from './purge.js';
export type { PurgeOptions, PurgeResult, PurgeTimer, SegmentPurgerOptions, WalPurgeOptions } from './purge.js';
