// The README's examples are run as they are written: each code block is taken from README.md, its
// import lines are checked against what is passed in, and the rest runs as an async function.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as walCore from '@walnut/wal-core';
import * as fsMemory from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The code block whose first line is `firstLine`. */
function block(firstLine: string): string {
  const start = readme.indexOf('\n' + firstLine + '\n');
  expect(start, `README block starting with ${firstLine}`).toBeGreaterThan(0);
  const end = readme.indexOf('\n```', start + 1);
  return readme.slice(start + 1, end);
}

const modules: Record<string, Record<string, unknown>> = { '@walnut/wal-core': walCore, '@walnut/fs-memory': fsMemory, vitest: {} };

/** Runs a block: its imports become parameters (checked to exist), `extra` supplies the rest. */
async function run(code: string, extra: Record<string, unknown>): Promise<void> {
  const names: string[] = [];
  const values: unknown[] = [];
  const body = code.replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_, list: string, from: string) => {
    for (const name of list.split(',').map((s) => s.trim())) {
      const value = name in extra ? extra[name] : modules[from]?.[name];
      expect(value, `README imports ${name} from ${from}`).toBeDefined();
      names.push(name);
      values.push(value);
    }
    return '';
  });
  expect(body).not.toMatch(/^import /m);
  for (const [k, v] of Object.entries(extra)) {
    if (names.includes(k)) continue;
    names.push(k);
    values.push(v);
  }
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, body)(...values);
}

it('README: the opening example prints what it says', async () => {
  const lines: string[] = [];
  const console = { log: (...a: unknown[]) => lines.push(a.map((x) => (typeof x === 'bigint' ? `${x}n` : JSON.stringify(x))).join(' ')) };
  await run(block('// example.mjs (plain JavaScript, also valid TypeScript) — run with: node example.mjs'), { console });
  expect(lines).toEqual(['1n 1', '["0000000000000000-0000000000000000.wal"]']);
});

it('README: the crash test passes', async () => {
  const tests: Array<() => Promise<void>> = [];
  await run(block('// crash.test.mjs — run with: npx vitest run crash.test.mjs'), {
    it: (_name: string, fn: () => Promise<void>) => tests.push(fn),
    expect,
  });
  expect(tests).toHaveLength(1);
  for (const t of tests) await t();
});
