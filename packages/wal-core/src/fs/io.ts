import { FileSystemError } from '../errors.js';
import type { FileHandle } from './file-system.js';

/**
 * Writes the whole range, looping over short writes. A write that makes no progress is an
 * `EIO`: retrying it forever would hang.
 */
export async function writeFully(file: FileHandle, buf: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = await file.write(buf, offset + done, length - done, position + done);
    if (n <= 0) throw new FileSystemError('EIO', 'write', file.path, 'write made no progress');
    done += n;
  }
}

/**
 * Reads exactly `length` bytes unless the file ends first; resolves with the bytes read.
 */
export async function readFully(file: FileHandle, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await file.read(buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
