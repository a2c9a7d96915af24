#!/usr/bin/env node
// Compiles proto/*.proto with protobufjs (pbjs static module + pbts types) into src/generated/.
// The output is committed; test/proto-schema.test.ts checks it is up to date.
// Usage: node scripts/generate-proto.mjs [outDir]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(pkg, 'src', 'generated');
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
const cliDir = dirname(require.resolve('protobufjs-cli/package.json'));
const js = join(out, 'proto.js');
execFileSync(
  process.execPath,
  [
    join(cliDir, 'bin', 'pbjs'),
    '-t',
    'static-module',
    '-w',
    'es6',
    '--dependency',
    'protobufjs/minimal.js',
    '--force-long',
    '--no-verify',
    '--no-convert',
    '--no-delimited',
    '--no-typeurl',
    '--keep-case',
    '-p',
    join(pkg, 'proto'),
    '-o',
    js,
    'walpb.proto',
    'raftpb.proto',
  ],
  { cwd: join(pkg, 'proto'), stdio: 'inherit' },
);
// protobufjs is CommonJS: Node's ESM loader exposes it as a default export only.
const src = readFileSync(js, 'utf8').replace(
  'import * as $protobuf from "protobufjs/minimal.js";',
  'import $protobuf from "protobufjs/minimal.js";',
);
writeFileSync(js, src);
execFileSync(process.execPath, [join(cliDir, 'bin', 'pbts'), '-o', join(out, 'proto.d.ts'), js], { stdio: 'inherit' });
