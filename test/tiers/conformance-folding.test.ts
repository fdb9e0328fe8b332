// The driver conformance suite (larder-cache/test-suite) must fail a store that folds distinct keys into
// one: such a store passes every other check, and hands one user's entry to another. The suite runs
// against a case-folding wrapper of the memory driver in a child vitest.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('driver conformance suite', () => {
  it('fails a store that folds keys together, and only on that', async () => {
    const result = await run(
      process.execPath,
      [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--config',
        'test/tiers/fixtures/folding-driver.vitest.config.ts',
      ],
      { env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
    ).then(
      () => ({ failed: false, stdout: '' }),
      (error: { stdout?: string }) => ({ failed: true, stdout: error.stdout ?? '' }),
    );
    expect(result.failed).toBe(true);
    expect(result.stdout).toMatch(/×[^\n]*keeps apart keys a store could fold together/);
    expect(result.stdout).toMatch(/Tests\s+1 failed \| \d+ passed/);
  }, 120_000);
});
