// tsc does not copy the protobufjs-generated JavaScript: put it beside the compiled code.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(pkg, 'dist', 'generated'), { recursive: true });
for (const f of ['proto.js', 'proto.d.ts']) copyFileSync(join(pkg, 'src', 'generated', f), join(pkg, 'dist', 'generated', f));
