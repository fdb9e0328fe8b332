import { describe, expect, it } from 'vitest';
import { FIRST_SLOT, SlotLinks } from '../../src/engine/links.js';

/** The slots of the list headed by `head`, oldest first, read by following `next` links. */
function oldestFirst(links: SlotLinks, head: number): number[] {
  const out: number[] = [];
  const d = links.data;
  for (let slot = links.first(head); slot !== head; slot = d[slot << links.shift]!) out.push(slot);
  return out;
}

describe.each([1, 2] as const)('SlotLinks (records of %i-bit shift)', (shift) => {
  it('starts with every list empty: each sentinel head points at itself', () => {
    const links = new SlotLinks(16, shift);
    for (let head = 0; head < FIRST_SLOT; head++) {
      expect(links.first(head)).toBe(head);
      expect(links.last(head)).toBe(head);
    }
  });

  it('pushBack appends the newest slot; first and last read both ends', () => {
    const links = new SlotLinks(16, shift);
    links.pushBack(0, 5);
    links.pushBack(0, 3);
    links.pushBack(0, 9);
    expect(links.first(0)).toBe(5);
    expect(links.last(0)).toBe(9);
    expect(oldestFirst(links, 0)).toEqual([5, 3, 9]);
    const out: number[] = [];
    links.collectNewestFirst(0, out);
    expect(out).toEqual([9, 3, 5]);
  });

  it('keeps several lists apart over one slot space', () => {
    const links = new SlotLinks(16, shift);
    links.pushBack(0, 3);
    links.pushBack(1, 4);
    links.pushBack(2, 5);
    links.pushBack(1, 6);
    expect(oldestFirst(links, 0)).toEqual([3]);
    expect(oldestFirst(links, 1)).toEqual([4, 6]);
    expect(oldestFirst(links, 2)).toEqual([5]);
  });

  it('unlink takes a slot out from the front, the middle or the back, and empties a list', () => {
    const links = new SlotLinks(16, shift);
    for (const slot of [3, 4, 5, 6]) links.pushBack(0, slot);
    links.unlink(4);
    expect(oldestFirst(links, 0)).toEqual([3, 5, 6]);
    links.unlink(3);
    links.unlink(6);
    expect(oldestFirst(links, 0)).toEqual([5]);
    links.unlink(5);
    expect(links.first(0)).toBe(0);
    expect(links.last(0)).toBe(0);
  });

  it('moveToBack makes a slot the newest, and leaves the newest where it is', () => {
    const links = new SlotLinks(16, shift);
    for (const slot of [3, 4, 5]) links.pushBack(0, slot);
    links.moveToBack(0, 3);
    expect(oldestFirst(links, 0)).toEqual([4, 5, 3]);
    links.moveToBack(0, 5);
    expect(oldestFirst(links, 0)).toEqual([4, 3, 5]);
    links.moveToBack(0, 5);
    expect(oldestFirst(links, 0)).toEqual([4, 3, 5]);
    const out: number[] = [];
    links.collectNewestFirst(0, out);
    expect(out).toEqual([5, 3, 4]);
  });

  it('grow keeps every link and every extra field', () => {
    const links = new SlotLinks(8, shift);
    for (const slot of [3, 7, 5]) links.pushBack(1, slot);
    if (shift === 2) links.data[(7 << 2) + 3] = 42;
    links.grow(64);
    expect(links.data.length).toBe(64 << shift);
    expect(oldestFirst(links, 1)).toEqual([3, 7, 5]);
    if (shift === 2) expect(links.data[(7 << 2) + 3]).toBe(42);
    links.pushBack(1, 60);
    expect(links.last(1)).toBe(60);
  });

  it('reset empties every list', () => {
    const links = new SlotLinks(16, shift);
    for (const slot of [3, 4]) links.pushBack(0, slot);
    links.pushBack(2, 5);
    links.reset();
    for (let head = 0; head < FIRST_SLOT; head++) expect(oldestFirst(links, head)).toEqual([]);
  });
});
