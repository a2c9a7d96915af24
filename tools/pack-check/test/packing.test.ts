import { describe, expect, it } from 'vitest';
import { bareImports, isBuiltin, packageOf } from './packing.js';

describe('bareImports', () => {
  it('finds static, side-effect, dynamic, require and createRequire imports, and import() types', () => {
    const code = [
      "import { a } from 'alpha';",
      "import {\n  b,\n  c,\n} from '@scope/beta/sub';",
      "export { d } from 'gamma';",
      "export * from './local.js';",
      "import 'side-effect';",
      "const m = await import('dynamic');",
      "const r = require('cjs');",
      "const native = createRequire(import.meta.url)('native-addon');",
      "type T = import('typed').T;",
      "import { readFile } from 'node:fs';",
    ].join('\n');
    expect(bareImports(code).sort()).toEqual(
      ['@scope/beta/sub', 'alpha', 'cjs', 'dynamic', 'gamma', 'native-addon', 'node:fs', 'side-effect', 'typed'].sort(),
    );
  });

  it('leaves out relative specifiers and text that only mentions a module', () => {
    expect(bareImports("import x from '../x.js';\nconst s = 'from here';\n// imports nothing\n")).toEqual([]);
  });
});

describe('packageOf and isBuiltin', () => {
  it('names the package of a specifier', () => {
    expect(packageOf('@scope/name/deep/path')).toBe('@scope/name');
    expect(packageOf('protobufjs/minimal.js')).toBe('protobufjs');
  });

  it('knows Node.js builtins with and without the node: prefix', () => {
    expect(isBuiltin('node:fs')).toBe(true);
    expect(isBuiltin('fs/promises')).toBe(true);
    expect(isBuiltin('commander')).toBe(false);
  });
});
