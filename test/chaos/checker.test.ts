// The chaos checker's rule on hand-built histories: what it must flag (stale reads after an acknowledged
// write, on the writer at once, elsewhere past the bound) and what it must allow (concurrent writes,
// reads that started before the ack, lag within the bound and after an outage, misses).
import { describe, expect, it } from 'vitest';
import { check, deadlineOf, emptyHistory, OTHER_INSTANCE_LAG_MS } from './checker.js';
import type { History, Producer, ReadRecord, WriteRecord } from './checker.js';

const LAG = OTHER_INSTANCE_LAG_MS;
let nextOp = 0;
const set = (
  h: History,
  version: number,
  instance: string,
  issuedAt: number,
  ackedAt?: number,
): WriteRecord => {
  const producer: Producer = { version, key: 'k', kind: 'set', instance, opId: ++nextOp, issuedAt, ackedAt };
  h.producers.set(version, producer);
  const write: WriteRecord = {
    opId: producer.opId,
    kind: 'set',
    instance,
    keys: ['k'],
    target: 'k',
    version,
    issuedAt,
    ackedAt: ackedAt ?? Infinity,
  };
  if (ackedAt !== undefined) h.writes.push(write);
  return write;
};
const load = (h: History, version: number, instance: string, issuedAt: number, settledAt?: number): void => {
  h.producers.set(version, {
    version,
    key: 'k',
    kind: 'load',
    instance,
    opId: ++nextOp,
    issuedAt,
    settledAt,
  });
};
const del = (h: History, instance: string, issuedAt: number, ackedAt: number): void => {
  h.writes.push({ opId: ++nextOp, kind: 'delete', instance, keys: ['k'], target: 'k', issuedAt, ackedAt });
};
const read = (h: History, instance: string, startedAt: number, version?: number, key = 'k'): ReadRecord => {
  const r: ReadRecord = {
    opId: ++nextOp,
    kind: 'getOrSet',
    instance,
    key: 'k',
    startedAt,
    endedAt: startedAt + 1,
    value: version === undefined ? undefined : { key, version },
  };
  h.reads.push(r);
  return r;
};

describe('chaos checker', () => {
  it('flags a read on the writer that returns a value its acknowledged delete removed', () => {
    const h = emptyHistory();
    set(h, 1, 'A', 0, 5);
    del(h, 'A', 10, 12);
    read(h, 'A', 13, 1);
    expect(check(h).map((v) => v.kind)).toEqual(['same-instance']);
  });

  it('flags a load started before the write whose value a later caller on the writer got (joined)', () => {
    const h = emptyHistory();
    load(h, 1, 'A', 0, 30);
    del(h, 'A', 10, 12);
    read(h, 'A', 13, 1);
    expect(check(h).map((v) => v.kind)).toEqual(['same-instance']);
  });

  it('allows reads that started before the write was acknowledged, and misses', () => {
    const h = emptyHistory();
    set(h, 1, 'A', 0, 5);
    del(h, 'A', 10, 12);
    read(h, 'A', 11, 1);
    read(h, 'A', 12, 1);
    read(h, 'A', 20);
    expect(check(h)).toEqual([]);
  });

  it('allows either value of two concurrent sets, and a load that started after the write was issued', () => {
    const h = emptyHistory();
    set(h, 1, 'A', 0, 10);
    set(h, 2, 'B', 5, 8); // overlaps set 1: Redis may keep either
    read(h, 'C', 11, 1);
    read(h, 'A', 12, 2);
    load(h, 3, 'A', 20, 40);
    del(h, 'A', 15, 25); // issued before the load: the load may see the post-delete state
    read(h, 'A', 50, 3);
    expect(check(h)).toEqual([]);
  });

  it('gives other instances the lag bound, pushed past outages of Redis and of the writer', () => {
    const h = emptyHistory();
    set(h, 1, 'A', 0, 5);
    del(h, 'A', 10, 12);
    read(h, 'B', 12 + LAG - 1, 1);
    expect(check(h)).toEqual([]);
    read(h, 'B', 12 + LAG, 1);
    expect(check(h).map((v) => v.kind)).toEqual(['other-instance']);

    const delete_: WriteRecord = {
      opId: 0,
      kind: 'delete',
      instance: 'A',
      keys: ['k'],
      target: 'k',
      issuedAt: 10,
      ackedAt: 12,
    };
    expect(deadlineOf(delete_, [{ kind: 'redis-kill', subject: 'redis', start: 0, end: 500 }])).toBe(
      500 + LAG,
    );
    // Chained: Redis back at 500, then the writer down before the bound ran out, back at 3000.
    const chained = [
      { kind: 'redis-kill', subject: 'redis', start: 0, end: 500 },
      { kind: 'instance-kill', subject: 'A', start: 600, end: 3000 },
      { kind: 'instance-kill', subject: 'C', start: 100, end: 9000 },
    ];
    expect(deadlineOf(delete_, chained)).toBe(3000 + LAG);
    // An outage that ended before the write, or began after the bound, changes nothing.
    expect(deadlineOf(delete_, [{ kind: 'redis-pause', subject: 'redis', start: 0, end: 11 }])).toBe(
      12 + LAG,
    );
    expect(deadlineOf(delete_, [{ kind: 'redis-pause', subject: 'redis', start: 12 + LAG, end: 9e9 }])).toBe(
      12 + LAG,
    );
  });

  it('never allows lag on the writer, even across its own restart', () => {
    const h = emptyHistory();
    set(h, 1, 'A', 0, 5);
    del(h, 'A', 10, 12);
    h.outages.push({ kind: 'instance-kill', subject: 'A', start: 20, end: 400 });
    const [v] = [read(h, 'A', 401, 1)].map(() => check(h)[0]);
    expect(v?.kind).toBe('same-instance');
    expect(v?.readerRestarted).toBe(true);
  });

  it('splits out racing loads on another instance, and flags values of the wrong key', () => {
    const h = emptyHistory();
    load(h, 1, 'B', 0, 40); // still unanswered when A's delete was issued
    del(h, 'A', 10, 12);
    read(h, 'A', 50, 1);
    read(h, 'C', 50, 1, 'other');
    expect(check(h).map((v) => v.kind)).toEqual(['racing-load', 'wrong-key']);
  });
});
