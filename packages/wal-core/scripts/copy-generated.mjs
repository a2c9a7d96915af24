// tsc does not copy the protobufjs-generated JavaScript: put it beside the compiled code.
// Only proto.js: no declaration file in dist refers to the generated module, and proto.d.ts would make the
// published types import `long` (a dependency of protobufjs, not of wal-core).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(pkg, 'dist', 'generated'), { recursive: true });
rmSync(join(pkg, 'dist', 'generated', 'proto.d.ts'), { force: true });
for (const f of ['proto.js']) copyFileSync(join(pkg, 'src', 'generated', f), join(pkg, 'dist', 'generated', f));
