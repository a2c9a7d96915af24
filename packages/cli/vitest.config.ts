import { mergeConfig } from 'vitest/config';
import { walnutVitestConfig } from '../../vitest.shared.ts';

// test/archive-s3.test.ts runs the archive commands against the real S3 server (Ceph RGW) that
// fs-s3-archive's global setup starts (and stops, if this run started it); tests read it with inject('s3').
export default mergeConfig(walnutVitestConfig(), { test: { globalSetup: ['../fs-s3-archive/test/s3-server.ts'] } });
