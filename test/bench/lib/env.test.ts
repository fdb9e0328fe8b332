// The header every benchmark prints: it must name the revision of the code measured.
import { describe, expect, it } from 'vitest';
import { environmentLine, loadAverage, revision } from '../../../bench/lib/env.js';

describe('environment line', () => {
  it('names a git revision (or says it is unknown), the Node version and the load', () => {
    expect(revision()).toMatch(/^([0-9a-f]{4,}(\+dirty)?|unknown)$/);
    expect(loadAverage()).toMatch(/^\d+\.\d{2}$/);
    const line = environmentLine();
    expect(line).toContain(process.version);
    expect(line).toContain(`src at ${revision()}`);
  });
});
