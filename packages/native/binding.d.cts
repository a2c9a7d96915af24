/** The synchronous CommonJS loader of the addon; see src/index.ts for the documented API. */
export declare const crc32c: (crc: number, data: Uint8Array, start?: number, end?: number) => number;
export declare const crc32cSoftware: (crc: number, data: Uint8Array, start?: number, end?: number) => number;
export declare const hardware: boolean;
export declare const posixIo:
  | {
      pwrite(fd: number, data: Uint8Array, offset: number, length: number, position: number): number;
      fdatasync(fd: number): void;
      fsync(fd: number): void;
    }
  | undefined;
