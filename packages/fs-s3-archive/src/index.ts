/**
 * @walnut/fs-s3-archive — released WAL segments archived to S3, verified end to end, and read back
 * transparently through a {@link S3ArchiveFileSystem}.
 * @packageDocumentation
 */
export { S3ArchiveFileSystem } from './s3-archive-file-system.js';
export type { S3ArchiveFileSystemOptions, ArchivedSegment } from './s3-archive-file-system.js';
export { SegmentArchiver, archiveSegments } from './segment-archiver.js';
export type { SegmentArchiverOptions, ArchiveRoundOptions, ArchiveRoundResult, ArchiveMetrics } from './segment-archiver.js';
export type { ObjectStore, ObjectMetadata, ObjectSummary, ObjectInfo, PutOptions, PutResult } from './object-store.js';
export { MemoryObjectStore } from './memory-object-store.js';
export type { MemoryObjectStoreOptions } from './memory-object-store.js';
export { S3ObjectStore } from './s3-object-store.js';
export type { S3ObjectStoreOptions } from './s3-object-store.js';
export { segmentKey, segmentFacts, factsToMetadata, metadataToFacts, crc32cBase64 } from './segment-object.js';
export type { SegmentFacts } from './segment-object.js';
export * from './archive-errors.js';
export { listArchive, verifyArchive, verifySegmentBytes } from './archive-catalog.js';
export type {
  ArchiveCatalog,
  CatalogSegment,
  ListArchiveOptions,
  VerifyArchiveOptions,
  ArchiveVerifyReport,
  ArchiveProgress,
} from './archive-catalog.js';
export { restoreWal } from './restore.js';
export type { RestoreOptions, RestoreProgress, RestoredSegment, RestoreResult } from './restore.js';
export { pruneArchive } from './prune.js';
export type { PruneArchiveOptions, PruneArchiveResult } from './prune.js';
