// Turns an advisor's curve into one or two sentences an operator can act on ("doubling url from 5,000
// to 10,000 entries would raise its hit ratio from 72% to 81% for about 3 MB more"). Predictions are
// anchored on the cache's measured hit ratio: a size change is priced as the simulated *difference*
// from the simulated current size, which cancels most of the sampling bias and the effect of what the
// miniatures do not model (TTL expiry, invalidations).
import type { EvictionPolicy } from '../engine/types.js';
import type { Advice, AdviceCurvePoint } from './types.js';

/** Below this many sampled requests the curve is too noisy to act on. */
export const MIN_SAMPLED_REQUESTS = 1000;
/** A change of size is worth recommending when it moves the hit ratio by at least this many points. */
export const WORTHWHILE_POINTS = 2;
/** Shrinking is suggested when it costs less than this many points. */
export const NEGLIGIBLE_POINTS = 1;

const VERBS: ReadonlyMap<number, string> = new Map([
  [0.25, 'cutting'],
  [0.5, 'halving'],
  [2, 'doubling'],
  [4, 'quadrupling'],
]);

/** The recommendation text for `advice` (whose own `recommendation` field is ignored). */
export function buildRecommendation(advice: Advice): string {
  const { cache, policy, current, curve, sampledRequests } = advice;
  if (sampledRequests < MIN_SAMPLED_REQUESTS) {
    return (
      `Not enough traffic yet to advise on ${cache}: ${sampledRequests.toLocaleString('en-US')} sampled ` +
      `requests so far, about ${MIN_SAMPLED_REQUESTS.toLocaleString('en-US')} are needed.`
    );
  }
  const here = curve.find((p) => p.multiplier === 1)!;
  const predict = (point: AdviceCurvePoint, p: EvictionPolicy = policy): number =>
    clampPercent(current.hitRatio + point[p] - here[policy]);
  const larger = curve.filter((p) => p.multiplier > 1);
  const grow = larger.find((p) => predict(p) - current.hitRatio >= WORTHWHILE_POINTS);
  let text: string;
  if (grow !== undefined) {
    text = `${capitalise(resize(grow.multiplier))} ${cache} from ${count(current.capacity)} to ${count(grow.capacity)} entries would raise its hit ratio from ${pct(current.hitRatio)} to ${pct(predict(grow))}${cost(advice, grow, 'more')}.`;
    const further = larger.find(
      (p) => p.multiplier > grow.multiplier && predict(p) - predict(grow) >= WORTHWHILE_POINTS,
    );
    if (further !== undefined) {
      text += ` At ${count(further.capacity)} entries it would reach ${pct(predict(further))}.`;
    }
  } else {
    const smaller = curve.filter((p) => p.multiplier < 1).sort((a, b) => a.multiplier - b.multiplier);
    const shrink = smaller.find((p) => current.hitRatio - predict(p) < NEGLIGIBLE_POINTS);
    const next = larger[0];
    if (shrink !== undefined) {
      text = `${cache} is larger than its workload needs: ${resize(shrink.multiplier)} it from ${count(current.capacity)} to ${count(shrink.capacity)} entries would lower its hit ratio only from ${pct(current.hitRatio)} to ${pct(predict(shrink))}${cost(advice, shrink, 'less')}.`;
    } else if (next !== undefined) {
      text = `${cache} is well sized: growing it from ${count(current.capacity)} to ${count(next.capacity)} entries would raise its hit ratio by only ${points(predict(next) - current.hitRatio)} (to ${pct(predict(next))}).`;
    } else {
      text = `${cache} is well sized for its workload.`;
    }
  }
  const other: EvictionPolicy = policy === 'lru' ? 'tinylfu' : 'lru';
  if (here[other] - here[policy] >= WORTHWHILE_POINTS) {
    text += ` Switching ${cache} to the ${other} policy would raise its hit ratio to about ${pct(predict(here, other))} at the same size.`;
  }
  return text;
}

function resize(multiplier: number): string {
  return VERBS.get(multiplier) ?? `resizing (x${multiplier})`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}

function pct(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

function points(value: number): string {
  const v = Number(Math.max(0, value).toFixed(1));
  return `${v} point${v === 1 ? '' : 's'}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

// " for about 3 MB more" / " and free about 1.5 MB", or nothing when the entry size is unknown.
function cost(advice: Advice, point: AdviceCurvePoint, direction: 'more' | 'less'): string {
  if (advice.bytesPerEntry <= 0) return '';
  const bytes = Math.abs(point.capacity - advice.current.capacity) * advice.bytesPerEntry;
  return direction === 'more'
    ? ` for about ${formatBytes(bytes)} more`
    : ` and free about ${formatBytes(bytes)}`;
}

/** Bytes in a short human form: `512 bytes`, `40 kB`, `3 MB`, `1.2 GB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const shown = value >= 10 || unit === 0 ? Math.round(value) : Number(value.toFixed(1));
  return `${shown} ${units[unit]}`;
}
