/**
 * A small file system of the test's own, to fill up (ENOSPC) or to mount read-only (EROFS): a
 * loop-mounted ext4 image (like the project's disk: ext4, no journal), else a size-limited tmpfs.
 * Mounting needs root on Linux; where it cannot be done, {@link mountSmallFs} returns the precise
 * reason, which the tests print when they skip.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  /** The mount point. */
  readonly dir: string;
  /** What was mounted, for messages: "ext4 (loop, 40 MiB image)" or "tmpfs (size=40 MiB)". */
  readonly kind: string;
  /** Unmounts and removes the mount point and image. Idempotent. */
  unmount(): Promise<void>;
}

export type SmallFsResult =
  { readonly fs: SmallFs; readonly skipReason?: undefined } | { readonly fs?: undefined; readonly skipReason: string };

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
}

/**
 * Mounts a file system of `bytes` bytes: `ext4` (loop), `tmpfs`, or `auto` (ext4, else tmpfs).
 * With `readOnly`, the file system is mounted read-only.
 */
export async function mountSmallFs(
  bytes: number,
  options: { kind?: 'auto' | 'ext4' | 'tmpfs'; readOnly?: boolean } = {},
): Promise<SmallFsResult> {
  if (process.platform !== 'linux') return { skipReason: `mounting a small file system needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { skipReason: `mounting a small file system needs root (running as uid ${process.getuid?.()})` };
  const kind = options.kind ?? 'auto';
  const base = await mkdtemp(join(tmpdir(), 'walnut-small-fs-'));
  const dir = join(base, 'mnt');
  await mkdir(dir);
  const tried: string[] = [];
  const cleanupBase = () => rm(base, { recursive: true, force: true });
  const make = (what: string): SmallFs => {
    let done = false;
    return {
      dir,
      kind: what,
      async unmount() {
        if (done) return;
        done = true;
        // A lazy unmount still detaches if something (a leaked handle) keeps it busy.
        await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
        await cleanupBase();
      },
    };
  };

  if (kind !== 'tmpfs') {
    const image = join(base, 'image.ext4');
    try {
      await writeFile(image, '');
      await truncate(image, bytes);
      // No journal (as the project's disk) and no blocks reserved for root (so "full" means full).
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', image]);
      await run('mount', ['-o', options.readOnly ? 'loop,ro' : 'loop', image, dir]);
      return { fs: make(`ext4 (loop, ${bytes / 2 ** 20} MiB image, no journal)`) };
    } catch (err) {
      tried.push(`loop-mounted ext4: ${(err as Error).message}`);
      await rm(image, { force: true });
    }
  }
  if (kind !== 'ext4') {
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}${options.readOnly ? ',ro' : ''}`, 'tmpfs', dir]);
      return { fs: make(`tmpfs (size=${bytes / 2 ** 20} MiB)`) };
    } catch (err) {
      tried.push(`tmpfs: ${(err as Error).message}`);
    }
  }
  await cleanupBase();
  return { skipReason: `cannot mount a small file system here (${tried.join('; ')})` };
}

/** Bytes free for writing on the file system holding `dir` (the ext4 image reserves none for root). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
