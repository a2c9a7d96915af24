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
