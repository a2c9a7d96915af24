/**
 * How `allocate` reserves space for a segment, chosen by measurement (`bench/prealloc-bench.mjs`,
 * numbers in the README): Node has no fallocate(2), and no maintained package offers it.
 *
 * - `zero-fill` (default): writes real zeros over the new range in 1 MiB chunks on a worker thread (the
 *   event loop stays free, and the fill progresses even while it is busy), fdatasyncing every 8 MiB and at the end. The blocks are allocated and written, so
 *   a full disk fails here, at segment creation, and appends into the segment overwrite written
 *   blocks, which is what syncs fastest on ext4 (no extent conversion, no size change per commit).
 *   Cost: the segment's size in writes (64 MB for etcd's segments, ~45 ms here), done by the WAL's
 *   background pipeline for every segment after the first.
 * - `extend`: ftruncate only (a hole: no blocks reserved), etcd's own fallback where fallocate is
 *   unsupported. Instant, but a full disk shows up in the middle of appends and commits sync slower.
 *
 * A native fallocate addon was measured too (through a C helper doing the same syscall): preparing
 * is instant, but fdatasync into unwritten extents is the slowest of the three, so it is not used.
 */
import { zeroFillOnThread } from './zero-fill-thread.js';

/** How {@link NodeFileSystem} preallocates: see the module comment and the package README. */
export type Preallocation = 'zero-fill' | 'extend';

/** The preallocation strategies, for validating options. */
export const PREALLOCATIONS: readonly Preallocation[] = ['zero-fill', 'extend'];

/**
 * Bytes per zero-filling write. Measured (bench, "zero-fill tuning" table): 1 MiB with one write in
 * flight fills a 64 MB segment about as fast as larger chunks or more writes in flight, and never
 * queues more than one write ahead of the WAL's own on the libuv pool.
 */
export const ZERO_FILL_CHUNK = 1 << 20;

/**
 * fdatasync after every this many bytes of zeros. One fdatasync at the end flushes 64 MB at once,
 * and a commit's fdatasync on the same disk waits behind it (worst commit ~15–25 ms here while the
 * pipeline prepares a segment); flushing every 8 MiB bounds that to ~4–5 ms (fallocate's own
 * stall is ~4 ms) for ~10 ms more preparation time, which the background pipeline absorbs.
 */
export const ZERO_FILL_SYNC_EVERY = 8 << 20;

/**
 * Writes zeros over `[from, to)` of the descriptor, one chunk at a time, fdatasyncing every
 * {@link ZERO_FILL_SYNC_EVERY} bytes and at the end, so that the reservation (and the new size) is
 * on disk before the segment is used: otherwise the first commit into it would pay for flushing
 * the whole range. It runs on a worker thread (`zero-fill-thread.ts`): a fill through the libuv pool
 * stalled behind a caller that never yields the event loop.
 */
export function zeroFill(fd: number, from: number, to: number): Promise<void> {
  return zeroFillOnThread(fd, from, to, ZERO_FILL_CHUNK, ZERO_FILL_SYNC_EVERY);
}
