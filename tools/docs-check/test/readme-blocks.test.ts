/**
 * The READMEs' code blocks that are meant to work are run, so a README example that breaks fails CI.
 *
 * A block is checked when the line before its opening fence (blank lines aside) is a marker:
 *
 *   <!-- ci: run -->        sh/bash: run with `bash -euo pipefail` from the repository root;
 *                           ts/js: type-checked with the repository's compiler settings against the built
 *                           packages, then run with node in a fresh empty directory. A line
 *                           `console.log(...); // TEXT` also requires a stdout line equal to TEXT.
 *   <!-- ci: typecheck -->  ts/js only: type-checked, not run (a test-suite file, a fragment that needs a
 *                           running server).
 *
 * Blocks without a marker are prose (output samples, commands with placeholders, CI's own `npm ci`/`npm test`).
 * Blocks that a package's own tests already run as written (fs-memory's, fs-s3-archive's and
 * metrics-prometheus's README examples, in their test/readme.test.ts) are not marked, so they are not run twice.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Block {
  /** `README.md:12` (path relative to the repository root, line of the opening fence). */
  readonly where: string;
  readonly lang: string;
  readonly mode: 'run' | 'typecheck';
  readonly code: string;
}

/** The READMEs checked: the root one and every package's, tool's and example's. */
function readmes(): string[] {
  const files = ['README.md'];
  for (const group of ['packages', 'tools', 'examples']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const f = join(group, name, 'README.md');
      if (existsSync(join(root, f))) files.push(f);
    }
  }
  return files;
}

function markedBlocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- ci: (run|typecheck) -->$/.exec(lines[i]!.trim());
    if (!marker) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    const fence = /^(`{3,})(\w+)\s*$/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`${file}:${i + 1}: a ci marker must be followed by a fenced code block with a language`);
    const end = lines.findIndex((l, k) => k > j && l.startsWith(fence[1]!));
    if (end < 0) throw new Error(`${file}:${j + 1}: unterminated code block`);
    blocks.push({ where: `${file}:${j + 1}`, lang: fence[2]!, mode: marker[1] as Block['mode'], code: lines.slice(j + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const all = readmes().flatMap(markedBlocks);
const shell = all.filter((b) => b.lang === 'sh' || b.lang === 'bash');
const code = all.filter((b) => ['ts', 'js', 'mjs', 'typescript', 'javascript'].includes(b.lang));

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // FORCE_COLOR (nx sets it) would colour the CLI's and node's output.
    const { FORCE_COLOR: _forceColor, ...env } = process.env;
    execFile(cmd, args, { cwd, timeout, env: { ...env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}\n${err.message}` : stderr });
    });
  });
}

it('finds the blocks the root README promises to work', () => {
  const rootRun = shell.filter((b) => b.where.startsWith('README.md:') && b.mode === 'run').map((b) => b.code);
  expect(rootRun.join('\n')).toMatch(/^npm start\b/m);
  expect(rootRun.join('\n')).toMatch(/^npx walnut dump examples\/etcd-wal\/wal\b/m);
  expect(code.some((b) => b.where.startsWith('README.md:') && b.mode === 'run')).toBe(true);
  for (const b of shell) expect(b.mode, `${b.where}: shell blocks can only be run`).toBe('run');
});

it.each(shell.map((b) => [b.where, b] as const))('%s (shell) runs from the repository root', async (_where, block) => {
  const r = await run('bash', ['-euo', 'pipefail', '-c', block.code], root);
  expect(r.code, `${block.where} failed:\n${block.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`).toBe(
    0,
  );
});

describe('TypeScript blocks', () => {
  let work = '';
  const files = new Map<Block, string>();

  beforeAll(async () => {
    // Outside the repository (nothing for eslint or git to see), with node_modules linked so that the blocks
    // import the built workspace packages exactly as an application does.
    work = await mkdtemp(join(tmpdir(), 'walnut-docs-check-'));
    await symlink(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
    for (const [k, b] of code.entries()) {
      const f = join(work, `block-${k}.mts`);
      await writeFile(f, b.code + '\nexport {};\n');
      files.set(b, f);
    }
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('type-check against the built packages', () => {
    const config = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram([...files.values()], { ...options, noEmit: true, declaration: false, declarationMap: false });
    const byFile = new Map([...files].map(([b, f]) => [f, b]));
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const block = d.file ? byFile.get(d.file.fileName) : undefined;
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      const where = block ? `${block.where} (+${line})` : (d.file?.fileName ?? '');
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  }, 120_000);

  it.each(code.filter((b) => b.mode === 'run').map((b) => [b.where, b] as const))('%s runs', async (_where, block) => {
    const js = ts.transpileModule(block.code + '\nexport {};\n', {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const file = files.get(block)!.replace(/\.mts$/, '.mjs');
    await writeFile(file, js);
    const cwd = join(work, relative(work, file).replace(/\.mjs$/, '-cwd'));
    await mkdir(cwd);
    const r = await run(process.execPath, [file], cwd);
    expect(r.code, `${block.where} failed:\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
    const stdout = r.stdout.split('\n');
    for (const m of block.code.matchAll(/^\s*console\.log\(.*\);\s*\/\/ (.+)$/gm)) {
      expect(stdout, `${block.where}: a stdout line equal to the comment '${m[1]}'`).toContain(m[1]);
    }
  });
});
