// Every TypeScript/JavaScript block in README.md and docs/**/*.md is real (issue 16): a complete program
// that type-checks (strict, with 'larder-cache' mapped to src/ by tsconfig paths) and runs to exit 0
// under tsx, or the exact text of a region of a checked file in examples/, which is then type-checked
// and run the same way. Blocks marked `no-run` are type-checked only; blocks marked `redis` run against
// a redis-server this test starts. The info-string words are described in test/docs/blocks.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_SERVER, RedisServer } from '../helpers/redis-server.js';
import { allBlocks, CHECKED_LANGUAGES, importsOf, region, type CodeBlock } from './blocks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = join(ROOT, 'test-output', 'docs-blocks');
const RUN_TIMEOUT_MS = 120_000;
/** Programs run at most this many at a time: each is a Node process compiling TypeScript. */
const PARALLEL_RUNS = 3;
/** How long a run may wait for its turn and run. */
const TEST_TIMEOUT_MS = 600_000;

// DOCS_BLOCKS=docs/concepts checks only the blocks of matching files, for working on a page.
const only = process.env.DOCS_BLOCKS;
const blocks = allBlocks(ROOT).filter(
  (block) => CHECKED_LANGUAGES.has(block.lang) && (only === undefined || block.source.includes(only)),
);
const programs = blocks.filter((block) => block.excerpt === undefined && block.checkedBy === undefined);
const delegated = blocks.filter((block) => block.checkedBy !== undefined);
const excerpts = blocks.filter((block) => block.excerpt !== undefined);
/** Checked files that excerpts come from, each run once (with `redis` if any excerpt of it says so). */
const checkedFiles = new Map<string, { redis: boolean; noRun: boolean }>();
for (const block of excerpts) {
  const seen = checkedFiles.get(block.excerpt!.file);
  checkedFiles.set(block.excerpt!.file, {
    redis: (seen?.redis ?? false) || block.redis,
    noRun: (seen?.noRun ?? true) && block.noRun,
  });
}

const label = (block: CodeBlock): string => `${block.source}:${block.line}`;
const fileName = (block: CodeBlock): string =>
  `${block.source.replace(/[^\w]+/g, '_')}_L${block.line}.${block.lang.startsWith('j') ? 'mjs' : 'ts'}`;

let typeErrors = '';
let redis: RedisServer | undefined;

let running = 0;
const waiting: Array<() => void> = [];

/** Runs `file` under tsx once a slot is free; resolves with its exit code and output. */
async function run(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  if (running >= PARALLEL_RUNS) await new Promise<void>((resolveTurn) => waiting.push(resolveTurn));
  running++;
  try {
    return await runNow(file, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function runNow(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: WORK,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(WORK, 'tsconfig.json'), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${RUN_TIMEOUT_MS} ms]`;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  for (const block of programs) writeFileSync(join(WORK, fileName(block)), block.code);
  writeFileSync(
    join(WORK, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true, allowJs: false },
      include: ['*.ts', ...[...checkedFiles.keys()].map((file) => `../../${file}`)],
    }),
  );
  // Not spawnSync: a worker blocked for the whole type-check misses vitest's RPC deadlines.
  const tsc = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', WORK], {
    cwd: ROOT,
  });
  let tscOutput = '';
  tsc.stdout.on('data', (chunk: Buffer) => (tscOutput += chunk.toString()));
  tsc.stderr.on('data', (chunk: Buffer) => (tscOutput += chunk.toString()));
  const status = await new Promise<number | null>((resolveExit) => tsc.on('close', resolveExit));
  typeErrors = status === 0 ? '' : tscOutput;
  writeFileSync(join(WORK, 'tsc.txt'), typeErrors);
  if ([...blocks].some((block) => block.redis && !block.noRun) && REDIS_SERVER !== undefined)
    redis = await RedisServer.start();
}, 180_000);

afterAll(async () => {
  await redis?.stop();
});

/** The type errors reported in one file, or ''. */
const errorsIn = (file: string): string =>
  typeErrors
    .split('\n')
    .filter((line) => line.includes(file))
    .join('\n');

describe('README and docs code blocks', () => {
  it('there are blocks to check, and every one imports the package by its name', () => {
    if (only === undefined) expect(programs.length).toBeGreaterThan(10);
    for (const block of programs) {
      const relativeImports = importsOf(block.code).filter((spec) => spec.startsWith('.'));
      expect(relativeImports, label(block)).toEqual([]);
      expect(
        importsOf(block.code).filter(
          (spec) => spec.startsWith('larder') && !/^larder-cache(\/|$)/.test(spec),
        ),
        label(block),
      ).toEqual([]);
    }
  });

  it.skipIf(only !== undefined)('nothing outside the blocks fails to type-check', () => {
    const known = [...programs.map(fileName), ...checkedFiles.keys()];
    const other = typeErrors
      .split('\n')
      .filter((line) => /error TS/.test(line) && !known.some((file) => line.includes(file)));
    expect(other).toEqual([]);
  });

  describe.each(excerpts.map((block) => [label(block), block] as const))('%s', (_name, block) => {
    it(`is ${block.excerpt!.file}${block.excerpt!.region === undefined ? '' : '#' + block.excerpt!.region}`, () => {
      const text = readFileSync(join(ROOT, block.excerpt!.file), 'utf8');
      expect(region(text, block.excerpt!.region)).toBe(block.code);
    });
  });

  describe.each(delegated.map((block) => [label(block), block] as const))('%s', (_name, block) => {
    it(`is checked by ${block.checkedBy}, which reads this page`, () => {
      expect(readFileSync(join(ROOT, block.checkedBy!), 'utf8')).toContain(block.source);
    });
  });

  describe.concurrent.each([...checkedFiles].map(([file, how]) => [file, how] as const))(
    '%s',
    (file, how) => {
      it('imports the package by its name', () => {
        const specs = importsOf(readFileSync(join(ROOT, file), 'utf8'));
        expect(specs.filter((spec) => spec.startsWith('.') && spec.includes('src/'))).toEqual([]);
      });
      it('type-checks', () => {
        const errors = errorsIn(file);
        expect(errors, errors).toBe('');
      });
      it.skipIf(how.noRun || (how.redis && REDIS_SERVER === undefined))(
        'runs to exit 0',
        async () => {
          const result = await run(join(ROOT, file), how.redis ? { REDIS_URL: redis!.url } : {});
          expect(result.code, result.output).toBe(0);
        },
        TEST_TIMEOUT_MS,
      );
    },
  );

  describe.concurrent.each(programs.map((block) => [label(block), block] as const))('%s', (_name, block) => {
    it('type-checks', () => {
      const errors = errorsIn(fileName(block));
      expect(errors, errors).toBe('');
    });
    it.skipIf(block.noRun || (block.redis && REDIS_SERVER === undefined))(
      'runs to exit 0',
      async () => {
        const result = await run(join(WORK, fileName(block)), block.redis ? { REDIS_URL: redis!.url } : {});
        expect(result.code, result.output).toBe(0);
      },
      TEST_TIMEOUT_MS,
    );
  });
});
