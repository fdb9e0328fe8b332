// A process killed (SIGKILL, a real child process) while it writes its snapshot: the file at the
// path is always one whole snapshot, the previous one or the new one, never a half-written file taken
// as whole; the next start restores it and removes the dead writer's temporary file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createCacheManager } from '../../src/cache/manager.js';
import { decodeSnapshot, SnapshotRefusedError } from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { recordingLogger, scratchDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./killed-writer-child.ts', import.meta.url));
const KEYS = 2_000; // as in the child
const serializer = msgpackSerializer();

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/** Starts the child; `lines` yields what it prints, line by line. */
function start(path: string, mode: 'loop' | 'hang'): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function next(lines: AsyncIterator<string>): Promise<string> {
  const line = await lines.next();
  if (line.done === true) throw new Error('the child exited early');
  return line.value;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The generation every entry of the file at `path` carries (throws on a refused or mixed file). */
function generationOnDisk(path: string): number {
  const entries = decodeSnapshot(readFileSync(path), serializer).caches.get('c') ?? [];
  expect(entries).toHaveLength(KEYS);
  const generations = new Set(entries.map((e) => (e.value as { generation: number }).generation));
  expect(generations.size).toBe(1);
  return [...generations][0]!;
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

describe('a writer killed with SIGKILL', () => {
  it('halfway through the temporary file: the previous snapshot loads whole, the half file is removed at the next start', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const { child, lines } = start(path, 'hang');
    expect(await next(lines)).toBe('restored none');
    expect(await next(lines)).toBe('writing 1');
    expect(await next(lines)).toBe('wrote 1');
    expect(await next(lines)).toBe('writing 2');
    expect(await next(lines)).toBe('half');
    const whole = statSync(path).size;
    await kill(child);

    // The half-written file is there, beside the intact previous snapshot, and is no snapshot itself.
    const [half] = temporaries(scratch.dir);
    expect(half).toBeDefined();
    const bytes = readFileSync(join(scratch.dir, half!));
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.length).toBeLessThan(whole);
    expect(() => decodeSnapshot(bytes, serializer)).toThrow(SnapshotRefusedError);
    expect(generationOnDisk(path)).toBe(1);

    const { lines: log, logger } = recordingLogger();
    const manager = createCacheManager({
      logger,
      caches: { c: { maxEntries: KEYS * 2, cleanupInterval: 0 } },
      persist: { path, onShutdown: false },
    });
    expect(await manager.get('c').get('key:0')).toMatchObject({ generation: 1 });
    expect(manager.get('c').stats().size).toBe(KEYS);
    expect(temporaries(scratch.dir)).toEqual([]);
    expect(log.some((l) => l.message.includes('removed temporary files'))).toBe(true);
    await manager.close();
  }, 60_000);

  it('at any point of a write, again and again: each start restores one whole snapshot, the last written or the one under way', async () => {
    const path = join(scratch.dir, 'caches.snap');
    let onDisk: number | 'none' = 'none';
    // Each round kills the writer on another of its lines: while it writes its second snapshot, just
    // after it, while it writes its third, while it writes its first.
    const rounds = [
      ['writing', 2],
      ['wrote', 2],
      ['writing', 3],
      ['writing', 1],
    ] as const;
    for (const [killOn, times] of rounds) {
      const { child, lines } = start(path, 'loop');
      expect(await next(lines)).toBe(`restored ${onDisk}`);
      let wrote = onDisk === 'none' ? 0 : onDisk;
      let writing = wrote;
      let seen = 0;
      const track = (line: string): boolean => {
        const [what, generation] = line.split(' ');
        if (what === 'wrote') wrote = Number(generation);
        if (what === 'writing') writing = Number(generation);
        return what === killOn && ++seen === times;
      };
      while (!track(await next(lines)));
      await kill(child);
      // The child may have gone on before the signal landed: what it printed until then is still to read.
      for (let line = await lines.next(); line.done !== true; line = await lines.next()) track(line.value);
      onDisk = generationOnDisk(path);
      expect([wrote, writing]).toContain(onDisk);
    }
  }, 120_000);
});
