/**
 * The `moveReleasedSegments` hook the archive's runs of the WAL suite give it: one archive round keeping
 * the newest segment. A segment that does not decode (the corrupt golden datasets) is never archived —
 * the round stops there with ARCHIVE_CORRUPT and the rest stays local, which the suite's reads then cross.
 */
import { ArchiveCorruptionError, archiveSegments, type S3ArchiveFileSystem } from '../../src/index.js';

export async function archiveReleased(fs: S3ArchiveFileSystem, dir: string, count: { rounds: number; segments: number }): Promise<void> {
  try {
    const r = await archiveSegments(fs, dir, { max: 1 });
    if (r.archived.length > 0) count.rounds++;
    count.segments += r.archived.length;
  } catch (e) {
    if (!(e instanceof ArchiveCorruptionError)) throw e;
  }
}
