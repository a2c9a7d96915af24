import { mergeConfig } from 'vitest/config';
import { walnutVitestConfig } from '../../vitest.shared.ts';

// test/s3-server.ts starts the real S3 server (Ceph RGW) once per run; tests read it with inject('s3').
export default mergeConfig(walnutVitestConfig(), { test: { globalSetup: ['test/s3-server.ts'] } });
