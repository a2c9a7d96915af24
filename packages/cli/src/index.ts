/**
 * @walnut/cli — the `walnut` command line: dump, verify, snapshots, repair, stat, demo, and the archive commands (archive ls | verify | push | prune, restore).
 * @packageDocumentation
 */
export { runCli } from './program.js';
export { ExitCode } from './io.js';
export type { CliIo, CliOptions, ArchiveLocation } from './io.js';
export { toJson } from './json.js';
export type { JsonValue } from './json.js';
export { parseSnap, formatSnap, parseIndex } from './snap.js';
export type { SnapPosition } from './snap.js';
