/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
import type { CliIo } from './io.js';

/** Bytes as `12.3 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A progress line: `update` redraws it, `done` ends it. Both do nothing unless stderr is a TTY. */
export interface Progress {
  update(p: {
    readonly done: number;
    readonly total: number;
    readonly bytes: number;
    readonly totalBytes: number;
    readonly name?: string;
  }): void;
  done(): void;
}

/** A progress bar labelled `label` on `io.stderr` (a no-op when `io.stderrIsTTY` is not true). */
export function progressBar(io: CliIo, label: string): Progress {
  if (io.stderrIsTTY !== true) return { update: () => undefined, done: () => undefined };
  let drawn = false;
  return {
    update(p) {
      const width = 24;
      const frac = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : p.total > 0 ? p.done / p.total : 1;
      const fill = Math.round(frac * width);
      const bar = `${'#'.repeat(fill)}${'-'.repeat(width - fill)}`;
      io.stderr(`\r\x1b[2K${label} [${bar}] ${p.done}/${p.total} segments, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr('\n');
      drawn = false;
    },
  };
}

/** A progress bar over a list of segments, advanced when a scan enters a segment. */
export interface ScanProgress {
  /** The scan entered segment `index` (0-based) of the list. */
  segment(index: number): void;
  /** Ends the bar: erases its line, so what follows on stderr starts on a clean line. */
  done(): void;
}

/**
 * A {@link progressBar} for a record scan of `segments` (verify, dump --raw, stat): drawn only when
 * stderr is a terminal and the directory is large enough to take a while (more than 4 segments or
 * 64 MiB), redrawn at most every 100 ms.
 */
export function scanProgress(
  io: CliIo,
  label: string,
  segments: ReadonlyArray<{ readonly name: string; readonly size: number }>,
): ScanProgress {
  const totalBytes = segments.reduce((n, s) => n + s.size, 0);
  if (io.stderrIsTTY !== true || (segments.length <= 4 && totalBytes <= 64 * 1024 * 1024)) {
    return { segment: () => undefined, done: () => undefined };
  }
  const bar = progressBar(io, label);
  let last = 0;
  let drawn = false;
  return {
    segment(index) {
      const now = Date.now();
      if (now - last < 100 && index < segments.length - 1) return;
      last = now;
      drawn = true;
      let bytes = 0;
      for (let i = 0; i < index; i++) bytes += segments[i]!.size;
      bar.update({ done: index, total: segments.length, bytes, totalBytes, name: segments[index]?.name });
    },
    done() {
      if (drawn) io.stderr('\r\x1b[2K');
      drawn = false;
    },
  };
}
