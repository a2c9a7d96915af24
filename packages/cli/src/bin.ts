#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { runCli } from './program.js';

/** Asks on stderr (stdout may be piped into a file) and reads one line from stdin. */
async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } catch (e) {
    // Ctrl+C or Ctrl+D at the prompt is an answer: no (exit 4, not confirmed), not an internal error.
    if ((e as Error).name === 'AbortError') {
      process.stderr.write('\n');
      return '';
    }
    throw e;
  } finally {
    rl.close();
  }
}

// `walnut dump ... | head`: a closed pipe is not an error worth a stack trace. The command has not finished
// (its exit code is unknown), so exit as a process killed by SIGPIPE does (128 + 13): never 0, so a script
// with `set -o pipefail` cannot take an unfinished check for a clean one.
const EXIT_BROKEN_PIPE = 141;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
  throw e;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stderrIsTTY: process.stderr.isTTY === true,
  interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
  prompt,
});
