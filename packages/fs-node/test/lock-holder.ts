/**
 * Runs test/fixtures/lock-holder.mjs: another Node process holding the lock on a file.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LockedError } from '@walnut/wal-core';
import type { LockHolderProcess } from '@walnut/conformance';

const SCRIPT = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** Another process holding the lock on `osPath` (an OS path); see the fixture. */
export interface ChildLockHolder extends LockHolderProcess {
  readonly pid: number;
}

/**
 * Starts the holder and resolves once it holds the lock; rejects with a {@link LockedError} if
 * the lock is taken, or an Error with the child's stderr if it fails otherwise.
 */
export function holdLockInChild(osPath: string): Promise<ChildLockHolder> {
  const child = spawn(process.execPath, [SCRIPT, osPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise<ChildLockHolder>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`lock holder did not report within ${START_TIMEOUT_MS} ms (stderr: ${stderr})`));
    }, START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.startsWith('HELD\n')) {
        clearTimeout(timer);
        resolve({ pid: child.pid!, kill });
      } else if (stdout.startsWith('LOCKED\n')) {
        clearTimeout(timer);
        void exited.then(() => reject(new LockedError('tryLock', osPath)));
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!stdout.startsWith('HELD\n') && !stdout.startsWith('LOCKED\n')) {
        reject(new Error(`lock holder exited (code ${code}, signal ${signal}) without taking the lock: ${stderr}`));
      }
    });
  });
}
