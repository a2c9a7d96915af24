// The README's opening example is run as written: its import lines are checked against the real modules,
// the rest runs as an async function, and what it prints must be what its comments say.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as promClient from 'prom-client';
import * as walCore from '@walnut/wal-core';
import * as fsMemory from '@walnut/fs-memory';
import * as self from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const modules: Record<string, Record<string, unknown>> = {
  'prom-client': promClient,
  '@walnut/wal-core': walCore,
  '@walnut/fs-memory': fsMemory,
  '@walnut/metrics-prometheus': self,
};

function block(firstLine: string): string {
  const start = readme.indexOf('\n' + firstLine + '\n');
  expect(start, `README block starting with ${firstLine}`).toBeGreaterThan(0);
  return readme.slice(start + 1, readme.indexOf('\n```', start + 1));
}

it('README: the example prints what its comments say', async () => {
  const code = block('// example.mjs (plain JavaScript, also valid TypeScript) — run with: node example.mjs');
  const names: string[] = [];
  const values: unknown[] = [];
  const body = code.replace(/^import \{([^}]*)\} from '([^']+)';$/gm, (_, list: string, from: string) => {
    for (const name of list.split(',').map((s) => s.trim())) {
      const value = modules[from]?.[name];
      expect(value, `README imports ${name} from ${from}`).toBeDefined();
      names.push(name);
      values.push(value);
    }
    return '';
  });
  expect(body).not.toMatch(/^import /m);
  const printed: string[] = [];
  names.push('console');
  values.push({ log: (s: string) => printed.push(...s.split('\n')) });
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, body)(...values);
  const promised = [...code.matchAll(/^\/\/ (walnut_.*)$/gm)].map((m) => m[1]);
  expect(promised.length).toBe(2);
  expect(printed).toEqual(promised);
});
