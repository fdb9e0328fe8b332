import { describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/observability/events.js';

interface Events {
  a: { n: number };
  b: { s: string };
}

describe('EventHub', () => {
  it('delivers to listeners of the event only; `any` tracks whether anyone listens', () => {
    const hub = new EventHub<Events>();
    expect(hub.any).toBe(false);
    const onA = vi.fn();
    hub.on('a', onA);
    expect(hub.any).toBe(true);
    expect(hub.has('a')).toBe(true);
    expect(hub.has('b')).toBe(false);
    hub.emit('a', { n: 1 });
    hub.emit('b', { s: 'x' });
    expect(onA).toHaveBeenCalledExactlyOnceWith({ n: 1 });
    hub.off('a', onA);
    expect(hub.any).toBe(false);
    hub.emit('a', { n: 2 });
    expect(onA).toHaveBeenCalledTimes(1);
  });

  it('a listener removed during delivery does not disturb the current delivery; errors are contained', () => {
    const hub = new EventHub<Events>();
    const second = vi.fn();
    const first = vi.fn(() => {
      hub.off('a', second);
      throw new Error('listener bug');
    });
    hub.on('a', first);
    hub.on('a', second);
    expect(() => hub.emit('a', { n: 1 })).not.toThrow();
    expect(second).toHaveBeenCalledTimes(1);
    hub.emit('a', { n: 2 });
    expect(second).toHaveBeenCalledTimes(1);
    expect(() => hub.on('a', 5 as any)).toThrow(TypeError);
  });
});
