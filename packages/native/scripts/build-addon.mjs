#!/usr/bin/env node
// Builds the addon (build/Release/walnut_native.node) with node-gyp, from source, at install and build.
//
// - node-gyp: the one npm runs scripts with (npm_config_node_gyp), else one resolvable from here, else the one
//   bundled with the npm beside this Node, else PATH.
// - headers: node-gyp's own choice when npm passes a nodedir; otherwise the headers installed beside this
//   Node (<prefix>/include/node, as distribution packages and the official tarballs have them), so the build
//   needs no download. Only when neither exists does node-gyp fetch them as it normally would.
// - up to date (the .node newer than every source): nothing to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'Release', 'walnut_native.node');
const sources = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'native')).map((f) => join(root, 'native', f))];

if (existsSync(out) && sources.every((s) => statSync(s).mtimeMs <= statSync(out).mtimeMs)) process.exit(0);

function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    // The copy bundled with the npm that ships beside this Node.
    const bundled = join(
      dirname(dirname(process.execPath)),
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    );
    return existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
  }
}

const args = ['rebuild'];
if (!process.env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}
const [cmd, ...pre] = nodeGyp();
const r = spawnSync(cmd, [...pre, ...args], { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`@walnut/native: could not run node-gyp (${r.error.message}); walnut falls back to @node-rs/crc32 and node:fs`);
  process.exit(1);
}
process.exit(r.status ?? 1);
