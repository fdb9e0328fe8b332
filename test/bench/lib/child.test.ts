// Child-process measurements: the parent must get the child's JSON answer, and a child that fails
// must fail the parent instead of producing a silent hole in a table.
import { describe, expect, it } from 'vitest';
import { runChild } from '../../../bench/lib/child.js';

describe('runChild', () => {
  it('returns the JSON line a memory child prints for the payload baseline', () => {
    const result = runChild('memory-child.ts', ['payload only']) as {
      bytesPerEntry: number;
      present: number;
    };
    expect(result.present).toBe(100_000);
    // A string key and a ~100-byte object cannot take less than 100 bytes of heap per entry.
    expect(result.bytesPerEntry).toBeGreaterThan(100);
  });

  it('fails when the child fails', () => {
    expect(() => runChild('memory-child.ts', ['no such library'])).toThrow(
      /unknown library 'no such library'/,
    );
  });
});
