// The circuit breaker: opens after `threshold` consecutive failures, lets one probe through after
// `resetAfter`, closes on its success and re-opens on its failure.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/tiers/breaker.js';
import type { BreakerState } from '../../src/tiers/breaker.js';

function setup(threshold = 3, resetAfter = 1000) {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker(
    { threshold, resetAfter },
    (state) => changes.push(state),
    () => now,
  );
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after threshold consecutive failures and then refuses calls', () => {
    const { breaker, changes } = setup(3);
    breaker.failure();
    breaker.failure();
    expect(breaker.tryPass()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryPass()).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('a success resets the consecutive count', () => {
    const { breaker } = setup(3);
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
  });

  it('after resetAfter lets exactly one probe through; its success closes the circuit', () => {
    const { breaker, changes, advance } = setup(1, 1000);
    breaker.failure();
    advance(999);
    expect(breaker.tryPass()).toBe(false);
    advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.tryPass()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryPass()).toBe(true);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe re-opens the circuit for another resetAfter', () => {
    const { breaker, advance } = setup(2, 500);
    breaker.failure();
    breaker.failure();
    advance(500);
    expect(breaker.tryPass()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    advance(499);
    expect(breaker.tryPass()).toBe(false);
    advance(1);
    expect(breaker.tryPass()).toBe(true);
  });

  it('rejects bad options naming them', () => {
    expect(() => new CircuitBreaker({ threshold: 0 })).toThrow(/breaker\.threshold/);
    expect(() => new CircuitBreaker({ resetAfter: -1 })).toThrow(/breaker\.resetAfter/);
    expect(() => new CircuitBreaker({ resetAfter: 'soon' })).toThrow(/breaker\.resetAfter/);
  });
});
