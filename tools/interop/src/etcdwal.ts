/**
 * Thin wrappers around the `etcdwal` commands. Every output is returned as TEXT: a real member id
 * (`hardState.vote`) exceeds 2^53 and `JSON.parse` would round it.
 */
import { execFile } from 'node:child_process';

/** A snapshot position, as `--snap INDEX:TERM` takes it. */
export interface SnapPosition {
  readonly index: bigint;
  readonly term: bigint;
}

export function snapArg(snap: SnapPosition): string {
  return `${snap.index}:${snap.term}`;
}

/** Runs `etcdwal <args>` and returns its stdout; a non-zero exit (etcdwal's `must`, a Go panic) rejects. */
export function etcdwal(bin: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`etcdwal ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** `etcdwal dump <dir> --snap I:T [--write]`: OpenForRead (or Open) + ReadAll, canonical dump JSON. */
export function etcdDump(bin: string, dir: string, snap: SnapPosition, write = false): Promise<string> {
  return etcdwal(bin, ['dump', dir, '--snap', snapArg(snap), ...(write ? ['--write'] : [])]);
}

/** `etcdwal verify <dir> --snap I:T`: wal.Verify, `{"error": ...}`. */
export function etcdVerify(bin: string, dir: string, snap: SnapPosition): Promise<string> {
  return etcdwal(bin, ['verify', dir, '--snap', snapArg(snap)]);
}

/** `etcdwal snapshots <dir>`: wal.ValidSnapshotEntries, `{"snapshots": [...], "error": ...}`. */
export function etcdSnapshots(bin: string, dir: string): Promise<string> {
  return etcdwal(bin, ['snapshots', dir]);
}

/**
 * `JSON.stringify(value, null, 2) + '\n'` with bigints printed as JSON numbers: the text Go's
 * `json.Encoder` (2-space indent, HTML escaping off) prints for the same value.
 */
export function stringifyLikeGo(value: unknown): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v), 2);
  return text.replace(/"\\u0000bigint:(\d+)"/g, '$1') + '\n';
}

/** The `"error"` member of an etcdwal output (a top-level key; error strings never span lines). */
export function errorOf(text: string): string | null {
  const m = /^ {2}"error": (null|".*")$/m.exec(text);
  if (!m) throw new Error(`no top-level "error" in:\n${text.slice(0, 2000)}`);
  return m[1] === 'null' ? null : (JSON.parse(m[1]!) as string);
}
