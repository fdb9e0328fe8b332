// The throughput targets, checked against one run's medians. Issue 13: on get-hit, set-evict and Zipf
// read-through, both Larder policies at least as fast as the fastest peer on that workload (every peer
// is an LRU, so this is also "lru at least as fast as the fastest LRU"). Issue 2 (kept): both policies
// at least as fast as lru-cache, and the Zipf hit ratio of tinylfu at least 3 points above LRU.

import type { Subject } from './subjects.js';
import { pairedRatio } from './stats.js';
import { formatRatio } from './table.js';

/** One subject's summary on one workload. */
export interface ResultRow {
  subject: Subject;
  /** Median operations per CPU second: what the ratios and targets use. */
  opsPerSec: number;
  /** Median operations per wall-clock second. */
  wallOpsPerSec: number;
  /** Operations per CPU second of each round, in round order (for paired ratios). */
  rounds: number[];
  /** Half-range of rounds relative to the median. */
  spread: number;
  /** Hits / operations over the measured rounds. */
  hitRatio: number;
  /** False when a workload that must always hit missed. */
  valid: boolean;
}

/** All rows of one workload. */
export interface WorkloadResult {
  name: string;
  rows: ResultRow[];
}

/** One checked target with its measured figures. */
export interface TargetCheck {
  ok: boolean;
  text: string;
}

/**
 * The fastest of `rows`: by the paired per-round ratio to `base` when there is one (the figure the
 * tables print), else by median operations per second.
 */
export function fastest(rows: readonly ResultRow[], base: ResultRow | undefined): ResultRow | undefined {
  const score = (r: ResultRow): number =>
    base === undefined ? r.opsPerSec : pairedRatio(r.rounds, base.rounds);
  return rows.reduce<ResultRow | undefined>(
    (best, r) => (best === undefined || score(r) > score(best) ? r : best),
    undefined,
  );
}

/** Evaluates every target whose rows were measured; targets lacking a row are skipped. */
export function checkTargets(results: readonly WorkloadResult[], baseline: string): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const row = (w: WorkloadResult, name: string): ResultRow | undefined =>
    w.rows.find((r) => r.subject.name === name);
  const speed = (
    workload: string,
    policy: string,
    what: string,
    factor: number,
    against: ResultRow | undefined,
  ): void => {
    const w = results.find((r) => r.name === workload);
    const mine = w && row(w, `Larder ${policy}`);
    if (!mine || !against) return;
    const ratio = pairedRatio(mine.rounds, against.rounds);
    checks.push({
      ok: ratio >= factor,
      text: `${workload}: Larder ${policy} >= ${factor === 1 ? '' : `${factor}x `}${what} — ${formatRatio(ratio)} of ${against.subject.name}`,
    });
  };
  for (const w of results) {
    if (w.name !== 'get-hit' && w.name !== 'set-evict' && w.name !== 'zipf') continue;
    const base = row(w, baseline);
    const fastestPeer = fastest(
      w.rows.filter((r) => r.subject.kind === 'peer'),
      base,
    );
    for (const policy of ['tinylfu', 'lru']) {
      speed(w.name, policy, 'the fastest peer', 1, fastestPeer);
      if (fastestPeer !== base) speed(w.name, policy, baseline, 1, base);
    }
    if (w.name === 'zipf') {
      const tiny = row(w, 'Larder tinylfu');
      const lru = row(w, 'Larder lru') ?? base;
      if (tiny && lru) {
        const points = (tiny.hitRatio - lru.hitRatio) * 100;
        checks.push({
          ok: points >= 3,
          text: `zipf hit ratio: tinylfu >= ${lru.subject.name} + 3 points — ${points >= 0 ? '+' : ''}${points.toFixed(2)} points`,
        });
      }
    }
  }
  return checks;
}
