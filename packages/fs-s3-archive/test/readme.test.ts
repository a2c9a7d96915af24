// The README's archive-and-restore example runs as written, against the real S3 server of the test setup:
// its import lines are checked against the packages, the rest runs as an async function.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as walCore from '@walnut/wal-core';
import * as fsNode from '@walnut/fs-node';
import * as archive from '../src/index.js';
import { s3Env, uniquePrefix } from './support/s3-lab.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const modules: Record<string, Record<string, unknown>> = {
  '@walnut/wal-core': walCore,
  '@walnut/fs-node': fsNode,
  '@walnut/fs-s3-archive': archive,
};

function block(firstLine: string): string {
  const start = readme.indexOf('\n' + firstLine + '\n');
  expect(start, `README block starting with ${firstLine}`).toBeGreaterThan(0);
  return readme.slice(start + 1, readme.indexOf('\n```', start + 1));
}

async function run(code: string, extra: Record<string, unknown>): Promise<void> {
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
  names.push(...Object.keys(extra));
  values.push(...Object.values(extra));
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, body)(...values);
}

it('README: archive and restore on fs-node and the real S3 server', async () => {
  const root = await mkdtemp(join(tmpdir(), 'walnut-s3a-readme-'));
  try {
    const lines: string[] = [];
    const console = { log: (...a: unknown[]) => lines.push(a.join(' ')) };
    const runId = uniquePrefix('readme').replace(/\/$/, '');
    await run(block('// archive-and-restore.mjs — env holds S3_* settings, root a scratch directory, runId something unique'), {
      env: s3Env(),
      root,
      runId,
      console,
    });
    expect(lines).toEqual(['300 true 100']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
