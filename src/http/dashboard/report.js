// Reading the admin API's JSON (snake_case; camelCase accepted too) into the shapes the dashboard
// draws: per-cache counters and entries, process memory, action counts, tier health and the sizing
// advisor's curves.

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- used by the files inlined after this one
const report = (() => {
  function pick(obj, snake) {
    if (!obj || typeof obj !== 'object') return undefined;
    if (obj[snake] !== undefined) return obj[snake];
    return obj[snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase())];
  }

  function num(obj, snake) {
    const v = pick(obj, snake);
    return typeof v === 'number' ? v : Number.NaN;
  }

  /** A duration field: `<name>_ms` in milliseconds, else `<name>` in seconds (the admin API's entry shape). */
  function ms(obj, name) {
    const inMs = pick(obj, `${name}_ms`);
    if (inMs !== undefined) return inMs;
    const inSeconds = pick(obj, name);
    return typeof inSeconds === 'number' ? inSeconds * 1000 : inSeconds;
  }

  function readEntries(raw) {
    if (!Array.isArray(raw)) return [];
    return raw.map((e) => ({
      key: String(pick(e, 'key')),
      // The number key 123 and the string key '123' both list as "123"; key_type tells them apart.
      numeric: pick(e, 'key_type') === 'number',
      ageMs: ms(e, 'age'),
      ttlRemainingMs: ms(e, 'ttl_remaining'),
      // Absent for keys without adaptive TTL: shown as a dash.
      adaptiveTtlMs: ms(e, 'adaptive_ttl'),
      revalidatable: pick(e, 'revalidatable') === true,
      size: num(e, 'size'),
      tags: Array.isArray(e.tags) ? e.tags.map(String) : [],
    }));
  }

  function readCaches(stats) {
    const raw = (stats && stats.caches) || {};
    const list = Array.isArray(raw) ? raw : Object.entries(raw).map(([name, c]) => ({ ...c, name }));
    return list
      .map((c) => {
        const loadTime = pick(c, 'load_time') || {};
        return {
          name: String(c.name),
          enabled: pick(c, 'enabled') !== false,
          ttlMs: num(c, 'ttl'),
          hits: num(c, 'hits'),
          misses: num(c, 'misses'),
          staleHits: num(c, 'stale_hits'),
          total: num(c, 'total_requests'),
          hitRate: num(c, 'hit_rate'),
          evictions: num(c, 'evictions'),
          expirations: num(c, 'expirations'),
          loadErrors: num(c, 'load_errors'),
          size: num(c, 'size'),
          maxEntries: num(c, 'max_entries'),
          bytes: num(c, 'bytes'),
          maxBytes: num(c, 'max_bytes'),
          p50: num(loadTime, 'p50'),
          p99: num(loadTime, 'p99'),
          loads: num(loadTime, 'count'),
          entries: readEntries(pick(c, 'entries')),
          entriesTotal: num(c, 'entries_total'),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  function readProcessMemory(perf) {
    const info = (perf && (perf.process || perf.system_info || perf.systemInfo)) || {};
    const mb = (v) => (typeof v === 'number' ? v * 1024 * 1024 : Number.NaN);
    return {
      rss: Number.isFinite(num(info, 'rss')) ? num(info, 'rss') : mb(pick(info, 'process_memory_mb')),
      heapUsed: Number.isFinite(num(info, 'heap_used'))
        ? num(info, 'heap_used')
        : mb(pick(info, 'heap_used_mb')),
      heapTotal: Number.isFinite(num(info, 'heap_total'))
        ? num(info, 'heap_total')
        : mb(pick(info, 'heap_total_mb')),
    };
  }

  /** The count an action answered (`invalidated`, or a per-kind object summed). */
  function countOf(answer) {
    const n = pick(answer, 'invalidated') ?? pick(answer, 'count') ?? pick(answer, 'removed');
    if (typeof n === 'number') return n;
    if (n && typeof n === 'object') return Object.values(n).reduce((s, v) => s + (Number(v) || 0), 0);
    return undefined;
  }

  /**
   * The advisor's answer (`GET advisor`: { caches: { name: advice | null } }) as a list sorted by
   * name, leaving out caches without advice (the option is off) and curves with no usable point.
   */
  function readAdvice(answer) {
    const raw = (answer && answer.caches) || {};
    const list = [];
    for (const [name, a] of Object.entries(raw)) {
      if (!a || typeof a !== 'object') continue;
      const current = pick(a, 'current') || {};
      const curve = (Array.isArray(a.curve) ? a.curve : [])
        .map((p) => ({
          capacity: num(p, 'capacity'),
          multiplier: num(p, 'multiplier'),
          lru: num(p, 'lru'),
          tinylfu: num(p, 'tinylfu'),
        }))
        .filter((p) => p.multiplier > 0 && [p.capacity, p.lru, p.tinylfu].every(Number.isFinite))
        .sort((p, q) => p.multiplier - q.multiplier);
      if (curve.length === 0) continue;
      list.push({
        name,
        policy: pick(a, 'policy') === 'lru' ? 'lru' : 'tinylfu',
        capacity: num(current, 'capacity'),
        hitRatio: num(current, 'hit_ratio'),
        curve,
        recommendation: String(pick(a, 'recommendation') ?? ''),
        sampledRequests: num(a, 'sampled_requests'),
        sampleRate: num(a, 'sample_rate'),
      });
    }
    return list.sort((p, q) => p.name.localeCompare(q.name));
  }

  const SEVERITY = { ok: 0, degraded: 1, down: 2 };

  /**
   * The health of the shared tier or the bus: the report's own, or else the worst one among its
   * caches (each cache reports the tier it is bound to); undefined when no cache has one.
   */
  function tierHealth(health, part) {
    if (!health) return undefined;
    if (health[part]) return health[part];
    let worst;
    for (const h of Object.values(health.caches || {})) {
      const t = h && h[part];
      if (t && (!worst || (SEVERITY[t.status] ?? 1) > (SEVERITY[worst.status] ?? 1))) worst = t;
    }
    return worst;
  }

  return { num, readCaches, readProcessMemory, countOf, tierHealth, readAdvice };
})();
