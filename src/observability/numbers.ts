// Number formatting shared by stats producers: two-decimal rounding and the hit-rate percentage every
// stats report uses (percent with two decimals, 0 when there were no requests).

/** Rounds to two decimals. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Hits as a percentage of requests, two decimals; 0 when there were none. */
export function hitRatePercent(hits: number, requests: number): number {
  return requests === 0 ? 0 : round2((hits / requests) * 100);
}
