// Shared helpers of the persistence tests: a scratch folder per test, snapshot entries made to order,
// a logger that records its lines, a file system that fails at a chosen step of a write, and one whose
// first rename waits to be released (to order concurrent writes of one file).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSnapshotFs } from '../../src/util/atomic-write.js';
import type { SnapshotEntry, SnapshotFs } from '../../src/persistence/types.js';

/** A fresh folder and a function that removes it. */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'larder-persist-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A snapshot entry with sensible defaults. */
export function entry(key: string | number, overrides: Partial<SnapshotEntry> = {}): SnapshotEntry {
  return {
    key,
    value: `v:${key}`,
    createdAt: 1_000,
    staleAt: 0,
    expiresAt: 0,
    tags: [],
    size: 0,
    frequency: 0,
    ...overrides,
  };
}

/** A console-style logger that keeps every line. */
export function recordingLogger(): {
  lines: { level: string; message: string; fields: unknown }[];
  logger: Record<'debug' | 'info' | 'warn' | 'error', (message: string, fields: unknown) => void>;
} {
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const at = (level: string) => (message: string, fields: unknown) => lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** The steps of an atomic write, in order. */
export const WRITE_STEPS = ['open', 'write', 'partial-write', 'sync', 'close', 'rename'] as const;
/** One step of an atomic write. */
export type WriteStep = (typeof WRITE_STEPS)[number];

/** node:fs, except that `step` fails (a `partial-write` writes half the bytes first, as a crash would). */
export function failingFs(step: WriteStep): SnapshotFs {
  const boom = (): never => {
    throw Object.assign(new Error(`injected failure at ${step}`), { code: 'EIO' });
  };
  return {
    ...nodeSnapshotFs,
    async open(path, flags) {
      if (step === 'open') boom();
      const handle = await nodeSnapshotFs.open(path, flags);
      return {
        async writeFile(data) {
          if (step === 'write') boom();
          if (step === 'partial-write') {
            await handle.writeFile(data.subarray(0, data.length >> 1));
            boom();
          }
          await handle.writeFile(data);
        },
        async sync() {
          if (step === 'sync') boom();
          await handle.sync();
        },
        async close() {
          await handle.close();
          if (step === 'close') boom();
        },
      };
    },
    async rename(from, to) {
      if (step === 'rename') boom();
      await nodeSnapshotFs.rename(from, to);
    },
  };
}

/**
 * node:fs whose first rename waits for `release()` (`renaming` resolves once it waits). `opens` counts
 * the writes begun (a write opens its temporary file in the same turn as the call that starts it), and
 * `renamed` resolves when a second rename has replaced the file.
 */
export function gatedFs(): {
  fs: SnapshotFs;
  renaming: Promise<void>;
  release: () => void;
  opens: () => number;
  renamed: Promise<void>;
} {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const renaming = new Promise<void>((resolve) => (arrived = resolve));
  let secondDone!: () => void;
  const renamed = new Promise<void>((resolve) => (secondDone = resolve));
  let opens = 0;
  let renames = 0;
  const fs: SnapshotFs = {
    ...nodeSnapshotFs,
    open(path, flags) {
      opens++;
      return nodeSnapshotFs.open(path, flags);
    },
    async rename(from, to) {
      const n = ++renames;
      if (n === 1) {
        arrived();
        await gate;
      }
      await nodeSnapshotFs.rename(from, to);
      if (n === 2) secondDone();
    },
  };
  return { fs, renaming, release, opens: () => opens, renamed };
}
