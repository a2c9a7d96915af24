/**
 * Runs one workload of one implementation in this (fresh) process and prints one JSON line:
 * `node run-one.js <walnut|raw|sqlite> <a|b|c|d|e|f> <dir> [--quick]`, or
 * `node run-one.js <walnut|walnut+archiver> h <dir> [--quick]` (needs S3_* in the environment).
 */
import { sqliteWrite } from './sqlite-peer.js';
import { rawRead, rawWrite, walnutConcurrent, walnutRead, walnutReplay, walnutWrite, type RunResult } from './workloads.js';

const [impl, workload, dir] = process.argv.slice(2);
const quick = process.argv.includes('--quick');
if (!impl || !workload || !dir) {
  process.stderr.write('usage: run-one <walnut|walnut+archiver|raw|sqlite> <a|b|c|d|e|f|h> <dir> [--quick]\n');
  process.exit(2);
}

async function run(): Promise<RunResult> {
  if (workload === 'h' && (impl === 'walnut' || impl === 'walnut+archiver')) {
    // Loaded only here, so the other workloads never load the AWS SDK.
    const { walnutArchiving } = await import('./archive-workload.js');
    return walnutArchiving(dir!, impl === 'walnut+archiver', quick);
  }
  if (impl === 'walnut') {
    if (workload === 'd') return walnutRead(dir!);
    if (workload === 'f') return walnutReplay(dir!);
    if (workload === 'e') return walnutConcurrent(dir!, quick);
    return walnutWrite(dir!, workload!, quick);
  }
  if (impl === 'raw') return workload === 'd' ? rawRead(dir!) : rawWrite(dir!, workload!, quick);
  if (impl === 'sqlite') return sqliteWrite(dir!, workload!, quick);
  throw new Error(`unknown implementation ${impl}`);
}

process.stdout.write(JSON.stringify(await run()) + '\n');
