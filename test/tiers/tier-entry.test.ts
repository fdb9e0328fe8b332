// The L2 wire record keeps its field names: the tier's entry calls the end of grace `expiresAt`, but
// what the codec encodes still says `graceUntil`, so a previous version reads what this one writes and
// this one reads what a previous version wrote. Local bookkeeping never reaches L2.
import { describe, expect, it } from 'vitest';
import { parseTierEntry, storedRecord } from '../../src/tiers/tier-entry.js';
import type { TierEntry } from '../../src/tiers/types.js';

describe('the L2 wire record', () => {
  it('encodes the end of grace as graceUntil and leaves retryAt and version behind', () => {
    const tags = ['t'];
    const entry: TierEntry = {
      value: 'v',
      createdAt: 10,
      staleAt: 100,
      expiresAt: 200,
      tags,
      indexTags: ['ns:t', 't'],
      retryAt: 150,
      version: 12_345,
    };
    expect(storedRecord(entry)).toStrictEqual({
      value: 'v',
      createdAt: 10,
      staleAt: 100,
      graceUntil: 200,
      tags,
      indexTags: ['ns:t', 't'],
    });
    expect(storedRecord({ ...entry, indexTags: tags })).not.toHaveProperty('indexTags');
  });

  it('reads a record written by the previous version into the one entry shape', () => {
    const wire = {
      value: { n: 1 },
      createdAt: 10,
      staleAt: 0,
      graceUntil: 0,
      tags: ['a'],
      indexTags: ['x:a'],
    };
    expect(parseTierEntry(wire)).toStrictEqual({
      value: { n: 1 },
      createdAt: 10,
      staleAt: 0,
      expiresAt: 0,
      tags: ['a'],
      indexTags: ['x:a'],
    });
    expect(parseTierEntry(storedRecord(parseTierEntry(wire)))).toStrictEqual(parseTierEntry(wire));
  });

  it('refuses a record that lacks the wire name for the end of grace', () => {
    expect(() => parseTierEntry({ value: 1, createdAt: 1, staleAt: 0, expiresAt: 0, tags: [] })).toThrow(
      'graceUntil is undefined',
    );
  });
});
