/**
 * @walnut/interop — etcd 3.4's own WAL (the Go reference harness in ../shared/reference) beside walnut:
 * install/build it, run its commands. Used by the interop tests and by tools/bench.
 * @packageDocumentation
 */
export {
  ensureReferenceHarness,
  REFERENCE_APT_PACKAGES,
  REFERENCE_INSTALL_COMMAND,
  repositoryRoot,
  sharedDir,
} from './reference-harness.js';
export { etcdwal, etcdDump, etcdVerify, etcdSnapshots, snapArg, errorOf, stringifyLikeGo } from './etcdwal.js';
export type { SnapPosition } from './etcdwal.js';
