// Rendering: tiles, the hit-rate chart, one row per cache with its actions, the sizing advisor's
// curves, health and the key table. Every piece of data goes in through text nodes (`el`,
// `textContent`), never as markup.
/* global drawLineChart, drawCurveChart, svgEl, CHART_COLORS, fmt, report, trend, state, act */

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- used by app.js, inlined after this file
const view = (() => {
  const MAX_KEY_ROWS = 200;
  const POLICIES = ['lru', 'tinylfu'];
  const POLICY_NAMES = { lru: 'LRU', tinylfu: 'W-TinyLFU' };
  const POLICY_COLORS = { lru: '#d9822b', tinylfu: '#2f6fed' };

  const $ = (id) => document.getElementById(id);

  /** Creates an element; strings among the children become text nodes, never markup. */
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.append(...children.map((c) => (typeof c === 'object' ? c : String(c))));
    return node;
  }

  function colorOf(name) {
    if (!state.colors.has(name))
      state.colors.set(name, CHART_COLORS[state.colors.size % CHART_COLORS.length]);
    return state.colors.get(name);
  }

  function render(stats, health, perf) {
    renderTiles(stats, health, perf);
    renderChart();
    renderCacheRows();
    renderSelect($('inv-cache'));
    renderSelect($('keys-cache'));
    renderHealth(health);
    renderKeys();
  }

  function renderTiles(stats, health, perf) {
    let answered = 0;
    let lookups = 0;
    let rps = 0;
    let size = 0;
    let capacity = 0;
    let bytes = 0;
    let total = 0;
    for (const c of state.caches) {
      const minute = trend.recent(state.history.get(c.name), 60_000);
      if (minute) {
        answered += minute.total - minute.misses;
        lookups += minute.total;
      }
      const r = trend.recent(state.history.get(c.name), trend.RATE_WINDOW_MS);
      if (r && r.seconds > 0) rps += r.total / r.seconds;
      size += c.size || 0;
      capacity += c.maxEntries || 0;
      bytes += c.bytes || 0;
      total += c.total || 0;
    }
    const overall = (stats && stats.overall) || {};
    $('t-hit-rate').textContent = lookups > 0 ? fmt.pct((100 * answered) / lookups) : '–';
    $('t-hit-rate-sub').textContent = `last minute · ${fmt.pct(report.num(overall, 'hit_rate'))} overall`;
    $('t-rps').textContent = fmt.rate(rps);
    $('t-rps-sub').textContent = `${fmt.int(total)} requests since start`;
    $('t-entries').textContent = fmt.int(size);
    $('t-entries-sub').textContent = capacity > 0 ? `of ${fmt.int(capacity)} capacity` : '';
    $('t-bytes').textContent = fmt.bytes(bytes);
    $('t-bytes-sub').textContent = `${state.caches.length} caches`;
    const mem = report.readProcessMemory(perf);
    $('t-process').textContent = fmt.bytes(mem.rss);
    $('t-process-sub').textContent = Number.isFinite(mem.heapUsed)
      ? `heap ${fmt.bytes(mem.heapUsed)} of ${fmt.bytes(mem.heapTotal)}`
      : 'resident set size';
    const l2 = report.tierHealth(health, 'l2');
    const bus = report.tierHealth(health, 'bus');
    $('t-tier').textContent = l2 ? `L2 ${l2.status}` : 'L1 only';
    $('t-tier-sub').textContent = l2 ? `bus ${bus ? bus.status : 'off'}` : 'in-memory, no Redis tier';
    const pill = $('health');
    const status = (health && health.status) || 'unknown';
    pill.textContent = `health: ${status}`;
    pill.className = `pill pill-${['ok', 'degraded', 'down'].includes(status) ? status : 'unknown'}`;
  }

  function renderChart() {
    const now = Date.now();
    // The window grows with the history up to trend.HISTORY_MS, so a fresh page does not squeeze its lines.
    let oldest = now;
    for (const samples of state.history.values())
      if (samples.length > 0) oldest = Math.min(oldest, samples[0].t);
    const span = Math.min(trend.HISTORY_MS, Math.max(60_000, now - oldest));
    const series = state.caches.map((c) => ({
      label: c.name,
      color: colorOf(c.name),
      points: trend.hitRateSeries(state.history.get(c.name) || []),
    }));
    drawLineChart($('chart'), { series, xMin: now - span, xMax: now });
    const legend = $('legend');
    legend.replaceChildren(
      ...state.caches.map((c) => {
        const swatch = el('span', 'swatch');
        swatch.style.background = colorOf(c.name);
        return el('span', 'legend-item', swatch, c.name);
      }),
    );
  }

  function renderCacheRows() {
    const body = $('cache-rows');
    const names = new Set(state.caches.map((c) => c.name));
    for (const [name, row] of state.rows) {
      if (!names.has(name)) {
        row.element.remove();
        state.rows.delete(name);
      }
    }
    for (const c of state.caches) {
      let row = state.rows.get(c.name);
      if (!row) state.rows.set(c.name, (row = buildCacheRow(c.name)));
      body.append(row.element); // keeps rows in name order
      row.update(c);
    }
  }

  function buildCacheRow(name) {
    const cell = (className) => el('td', className);
    const status = el('span', 'pill pill-ok');
    const nameCell = el('td', null, el('span', 'cache-name', name, status));
    const hitRate = cell('num');
    const rps = cell('num');
    const fill = el('span', 'bar-fill');
    const sizeText = el('span');
    const size = el('td', null, el('span', 'bar', fill), sizeText);
    const bytes = cell('num');
    const evictions = cell('num');
    const stale = cell('num');
    const latency = cell('num');

    const ttlInput = el('input');
    ttlInput.type = 'text';
    ttlInput.placeholder = '30m';
    ttlInput.setAttribute('aria-label', `New TTL for ${name}`);
    const ttlNow = el('span', 'muted');
    const ttlForm = el('form', 'ttl-form', ttlNow, ttlInput, el('button', 'btn', 'Set'));
    ttlForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const raw = ttlInput.value.trim();
      if (!raw) return;
      const ttl = /^\d+$/.test(raw) ? Number(raw) : raw;
      act(
        `Change the TTL of "${name}" to ${raw}?`,
        `config?cache=${encodeURIComponent(name)}`,
        { ttl },
        () => {
          ttlInput.value = '';
          return `TTL of ${name} set to ${raw}.`;
        },
      );
    });

    const clear = el('button', 'btn', 'Clear');
    clear.type = 'button';
    clear.dataset.action = 'clear';
    clear.addEventListener('click', () =>
      act(
        `Clear every entry of "${name}"?`,
        `clear?cache=${encodeURIComponent(name)}`,
        undefined,
        () => `${name} cleared.`,
      ),
    );
    const toggle = el('button', 'btn');
    toggle.type = 'button';
    toggle.dataset.action = 'toggle';
    let enabled = true;
    toggle.addEventListener('click', () => {
      const next = !enabled;
      act(
        `${next ? 'Enable' : 'Disable'} caching in "${name}"?`,
        `config?cache=${encodeURIComponent(name)}`,
        { enabled: next },
        () => `${name} ${next ? 'enabled' : 'disabled'}.`,
      );
    });

    const element = el(
      'tr',
      null,
      nameCell,
      hitRate,
      rps,
      size,
      bytes,
      evictions,
      stale,
      latency,
      el('td', null, ttlForm),
      el('td', null, el('span', 'actions', clear, toggle)),
    );
    element.dataset.cache = name;

    function update(c) {
      enabled = c.enabled;
      status.textContent = c.enabled ? 'on' : 'off';
      status.className = `pill ${c.enabled ? 'pill-ok' : 'pill-off'}`;
      toggle.textContent = c.enabled ? 'Disable' : 'Enable';
      const minute = trend.hitRate(trend.recent(state.history.get(name), 60_000));
      hitRate.textContent = fmt.pct(minute ?? c.hitRate);
      hitRate.title = `${fmt.pct(c.hitRate)} since start`;
      const r = trend.recent(state.history.get(name), trend.RATE_WINDOW_MS);
      rps.textContent = r && r.seconds > 0 ? fmt.rate(r.total / r.seconds) : '–';
      const cap = c.maxEntries;
      fill.style.width = `${Number.isFinite(cap) && cap > 0 ? Math.min(100, (100 * c.size) / cap) : 0}%`;
      sizeText.textContent = `${fmt.int(c.size)} / ${Number.isFinite(cap) ? fmt.int(cap) : '∞'}`;
      // Without a byte budget the engine estimates its memory from a sample of entries.
      bytes.textContent = Number.isFinite(c.maxBytes)
        ? `${fmt.bytes(c.bytes)} / ${fmt.bytes(c.maxBytes)}`
        : `≈ ${fmt.bytes(c.bytes)}`;
      evictions.textContent = `${fmt.int(c.evictions)} / ${fmt.int(c.expirations)}`;
      stale.textContent = `${fmt.int(c.staleHits)} / ${fmt.int(c.loadErrors)}`;
      latency.textContent =
        c.loads > 0 || Number.isFinite(c.p50) ? `${fmt.ms(c.p50)} / ${fmt.ms(c.p99)}` : '–';
      ttlNow.textContent = Number.isFinite(c.ttlMs) && c.ttlMs > 0 ? fmt.duration(c.ttlMs) : 'none';
    }
    return { element, update };
  }

  /** One card per cache with advice (state.advice), built once and updated when the advice is refetched. */
  function renderAdvice() {
    $('advisor').hidden = state.advice.length === 0;
    const list = $('advice-list');
    const names = new Set(state.advice.map((a) => a.name));
    for (const [name, card] of state.adviceCards) {
      if (!names.has(name)) {
        card.element.remove();
        state.adviceCards.delete(name);
      }
    }
    for (const a of state.advice) {
      let card = state.adviceCards.get(a.name);
      if (!card) state.adviceCards.set(a.name, (card = buildAdviceCard(a.name)));
      list.append(card.element); // keeps cards in name order
      card.update(a);
    }
  }

  function buildAdviceCard(name) {
    const chart = svgEl('svg', {
      class: 'advice-chart',
      'aria-label': `Predicted hit ratio of ${name} at other capacities`,
    });
    const meta = el('span', 'muted');
    const legend = el('div', 'legend');
    const text = el('p', 'advice-text');
    const sample = el('p', 'muted advice-sample');
    const element = el(
      'article',
      'advice',
      el('div', 'advice-head', el('h3', null, name), meta),
      el('div', 'advice-plot', chart, legend),
      el('div', 'advice-words', text, sample),
    );
    element.dataset.cache = name;

    function update(a) {
      const here = a.curve.find((p) => p.multiplier === 1);
      const now = Number.isFinite(a.hitRatio) ? a.hitRatio : here ? here[a.policy] : Number.NaN;
      // Drawn as the recommendation reads them: each simulated change from 1x added to the measured
      // hit ratio, so the current point lies on its policy's line and the text matches the picture.
      const offset = here && Number.isFinite(now) ? now - here[a.policy] : 0;
      // The policy in use first, so the other one's dashed line stays visible where the two coincide.
      const policies = [a.policy, ...POLICIES.filter((p) => p !== a.policy)];
      const series = policies.map((policy) => ({
        label: `${POLICY_NAMES[policy]}${policy === a.policy ? ' (in use)' : ''}`,
        color: POLICY_COLORS[policy],
        dashed: policy !== a.policy,
        points: a.curve.map((p) => [p.multiplier, Math.min(100, Math.max(0, p[policy] + offset))]),
      }));
      const nowLabel = `now: ${fmt.pct(now)} at ${fmt.int(a.capacity)} entries`;
      drawCurveChart(chart, {
        series,
        marker: Number.isFinite(now) ? { x: 1, y: now, label: nowLabel } : undefined,
        xLabel: (m) => `${fmt.int(a.curve.find((p) => p.multiplier === m).capacity)}\n${m}x`,
      });
      meta.textContent = `${POLICY_NAMES[a.policy]} · ${fmt.int(a.capacity)} entries`;
      legend.replaceChildren(
        ...series.map((s) => {
          const swatch = el('span', s.dashed ? 'swatch swatch-dashed' : 'swatch');
          swatch.style.setProperty('--swatch', s.color);
          return el('span', 'legend-item', swatch, s.label);
        }),
        el('span', 'legend-item', el('span', 'swatch swatch-now'), nowLabel),
      );
      text.textContent = a.recommendation;
      sample.textContent = `${fmt.int(a.sampledRequests)} sampled requests · ${fmt.pct(100 * a.sampleRate)} of keys followed`;
    }
    return { element, update };
  }

  function renderSelect(select) {
    const names = state.caches.map((c) => c.name);
    const current = [...select.options].slice(1).map((o) => o.value);
    if (current.join('\n') === names.join('\n')) return;
    const keep = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const name of names) {
      const option = el('option', null, name);
      option.value = name;
      select.append(option);
    }
    select.value = names.includes(keep) ? keep : '';
  }

  function renderHealth(health) {
    const list = $('health-list');
    const items = [];
    const add = (label, value) => items.push(el('dt', null, label), el('dd', null, value));
    if (!health) {
      add('status', 'not reported');
    } else {
      add('overall', health.status + (health.reason ? ` — ${health.reason}` : ''));
      for (const part of ['l2', 'bus']) {
        const h = report.tierHealth(health, part);
        const detail = h && h.driver ? ` (${h.driver}${h.breaker ? `, breaker ${h.breaker}` : ''})` : '';
        add(
          part === 'l2' ? 'shared tier' : 'bus',
          h ? h.status + detail + (h.reason ? ` — ${h.reason}` : '') : 'not configured',
        );
      }
      const caches = health.caches && typeof health.caches === 'object' ? health.caches : {};
      for (const [name, h] of Object.entries(caches)) {
        if (h && h.status && h.status !== 'ok') add(name, h.status + (h.reason ? ` — ${h.reason}` : ''));
      }
    }
    list.replaceChildren(...items);
  }

  function renderKeys() {
    const only = $('keys-cache').value;
    const needle = $('keys-search').value.trim().toLowerCase();
    const matches = [];
    let total = 0;
    for (const c of state.caches) {
      if (only && c.name !== only) continue;
      total += Number.isFinite(c.entriesTotal) ? c.entriesTotal : c.entries.length;
      for (const e of c.entries) {
        // The server filtered by the search already; this keeps typing responsive until the next poll.
        if (needle && !e.key.toLowerCase().includes(needle)) continue;
        matches.push([c.name, e]);
      }
    }
    const rows = matches
      .slice(0, MAX_KEY_ROWS)
      .map(([cache, e]) =>
        el(
          'tr',
          null,
          el('td', null, cache),
          e.numeric ? el('td', 'key', e.key, ' ', el('span', 'tag', 'number')) : el('td', 'key', e.key),
          el('td', 'num', fmt.duration(e.ageMs)),
          el('td', 'num', fmt.duration(e.ttlRemainingMs)),
          el(
            'td',
            'num',
            Number.isFinite(e.adaptiveTtlMs) ? fmt.duration(e.adaptiveTtlMs) : '–',
            e.revalidatable ? el('span', 'tag', 'etag') : '',
          ),
          el('td', 'num', Number.isFinite(e.size) ? fmt.bytes(e.size) : '–'),
          el('td', 'tags', ...e.tags.map((t) => el('span', 'tag', t))),
        ),
      );
    $('key-rows').replaceChildren(...rows);
    $('keys-note').textContent =
      total === 0
        ? needle
          ? 'No key matches the search.'
          : 'No keys cached.'
        : `Showing ${fmt.int(rows.length)} of ${fmt.int(total)} ${needle ? 'matching ' : ''}keys.`;
  }

  return { $, MAX_KEY_ROWS, render, renderChart, renderKeys, renderAdvice };
})();
