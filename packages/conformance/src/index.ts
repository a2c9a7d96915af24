/**
 * @walnut/conformance — the shared suites every walnut FileSystem backend runs (DESIGN §5).
 * Each suite is a function that registers vitest tests for a backend given by a factory.
 * @packageDocumentation
 */
export * from './file-system-suite.js';
export * from './wal-suite.js';
