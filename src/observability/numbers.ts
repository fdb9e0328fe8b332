// Number formatting shared by stats producers: two-decimal rounding and the hit-rate percentage every
// stats report uses (percent with two decimals, 0 when there were no requests).

import { roundMs } from '../util/time.js';

/** Rounds to two decimals: the one rounding rule, shared with every `durationMs` (util/time.ts). */
export const round2: (n: number) => number = roundMs;

/** Hits as a percentage of requests, two decimals; 0 when there were none. */
export function hitRatePercent(hits: number, requests: number): number {
  return requests === 0 ? 0 : round2((hits / requests) * 100);
}
