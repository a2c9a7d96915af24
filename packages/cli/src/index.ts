/**
 * @walnut/cli — the `walnut` command line: dump, verify, snapshots, repair, demo.
 * @packageDocumentation
 */
export { runCli } from './program.js';
export { ExitCode } from './io.js';
export type { CliIo, CliOptions } from './io.js';
export { toJson } from './json.js';
export type { JsonValue } from './json.js';
export { parseSnap, formatSnap } from './snap.js';
export type { SnapPosition } from './snap.js';
