// Counter history: samples of each cache's hits, misses and requests at every poll, turned into hit
// rate and request rate over time. Bounded by time (HISTORY_MS), so a page left open never grows.

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- used by the files inlined after this one
const trend = (() => {
  const HISTORY_MS = 10 * 60_000;
  const RATE_WINDOW_MS = 10_000;

  /** Adds a sample per cache to `history` (name → samples), dropping what is older than the chart needs. */
  function record(history, caches, now) {
    for (const c of caches) {
      let samples = history.get(c.name);
      if (!samples) history.set(c.name, (samples = []));
      samples.push({ t: now, hits: c.hits, misses: c.misses, total: c.total });
      // One rate window beyond the chart, so its left edge still has a window to average over.
      while (samples.length > 0 && samples[0].t < now - HISTORY_MS - RATE_WINDOW_MS) samples.shift();
    }
    for (const name of history.keys()) {
      if (!caches.some((c) => c.name === name)) history.delete(name);
    }
  }

  /** Deltas between two samples; undefined when a counter went backwards (stats were reset). */
  function delta(a, b) {
    const hits = b.hits - a.hits;
    const misses = b.misses - a.misses;
    const total = b.total - a.total;
    if (!(hits >= 0 && misses >= 0 && total >= 0)) return undefined;
    return { hits, misses, total, seconds: (b.t - a.t) / 1000 };
  }

  /**
   * The hit rate % of a delta as the server computes hit_rate: the share of lookups that cost no
   * upstream call (hits and coalesced, i.e. all but misses); undefined without lookups or a delta.
   */
  function hitRate(d) {
    return d && d.total > 0 ? (100 * (d.total - d.misses)) / d.total : undefined;
  }

  /** [t, hit rate %] over the RATE_WINDOW_MS before each sample; null where there was no traffic or a reset. */
  function hitRateSeries(samples) {
    const points = [];
    let first = 0;
    for (let i = 1; i < samples.length; i++) {
      while (first < i - 1 && samples[first + 1].t <= samples[i].t - RATE_WINDOW_MS) first++;
      points.push([samples[i].t, hitRate(delta(samples[first], samples[i])) ?? null]);
    }
    return points;
  }

  /** Deltas over the most recent `windowMs`, or undefined without two samples in it. */
  function recent(samples, windowMs) {
    if (!samples || samples.length < 2) return undefined;
    const last = samples[samples.length - 1];
    let first = samples.length - 2;
    while (first > 0 && samples[first - 1].t >= last.t - windowMs) first--;
    return delta(samples[first], last);
  }

  return { HISTORY_MS, RATE_WINDOW_MS, record, hitRate, hitRateSeries, recent };
})();
