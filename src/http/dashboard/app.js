// The dashboard's behaviour: asks for the admin API key (kept in sessionStorage), polls the admin
// API every two seconds (the sizing advisor every ten), runs the actions behind confirm(), and hands
// the answers to render.js. Inlined last, after chart.js, format.js, report.js, trend.js and render.js.
/* global fmt, report, trend, view, clearTimeout */

const POLL_MS = 2000;
// The advisor's curves move slowly (they need thousands of sampled requests), and each answer costs
// the server a pass over every miniature cache: no need to ask on every poll.
const ADVISOR_POLL_MS = 10_000;
const KEY_STORAGE = 'larder.apiKey';
const SEARCH_DEBOUNCE_MS = 250;

// The page is served at `<prefix>/dashboard`; the admin API answers next to it.
const API_BASE = location.pathname.replace(/\/dashboard\/?$/, '');
const { $ } = view;

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  timer: undefined,
  paused: false,
  /** cache name → samples { t, hits, misses, total } (see trend.js). */
  history: new Map(),
  /** cache name → { element, update }: a row built once, updated on every poll. */
  rows: new Map(),
  colors: new Map(),
  caches: [],
  polling: false,
  pollAgain: false,
  /** The advisor's answer, read by report.readAdvice; when it was last asked for. */
  advice: [],
  adviceAt: -Infinity,
  /** cache name → { element, update }: an advice card built once, updated when advice arrives. */
  adviceCards: new Map(),
};

class AuthError extends Error {}

async function api(path, options = {}) {
  const init = { method: options.method || 'GET', cache: 'no-store', headers: { 'X-API-Key': state.key } };
  if (options.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(`${API_BASE}/${path}`, init);
  if (res.status === 401 || res.status === 403) throw new AuthError('The API key was rejected.');
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!res.ok) throw new Error(json.error || json.message || `${init.method} ${path}: HTTP ${res.status}`);
  return json;
}

/** Fetches and renders once, then schedules the next poll; a call made meanwhile runs right after. */
async function poll() {
  if (state.polling) {
    state.pollAgain = true;
    return;
  }
  state.polling = true;
  clearTimeout(state.timer);
  try {
    // The key search runs on the server, so every key can be found, not only the ones listed.
    const needle = $('keys-search').value.trim();
    const statsPath = `stats?limit=${view.MAX_KEY_ROWS}${needle ? `&q=${encodeURIComponent(needle)}` : ''}`;
    const askAdvice = Date.now() - state.adviceAt >= ADVISOR_POLL_MS;
    const [stats, health, perf, advice] = await Promise.allSettled([
      api(statsPath),
      api('health'),
      api('performance'),
      askAdvice ? api('advisor') : Promise.resolve(undefined),
    ]);
    for (const r of [stats, health, perf, advice]) {
      if (r.status === 'rejected' && r.reason instanceof AuthError) throw r.reason;
    }
    if (stats.status === 'rejected') throw stats.reason;
    const now = Date.now();
    state.caches = report.readCaches(stats.value);
    trend.record(state.history, state.caches, now);
    view.render(
      stats.value,
      health.status === 'fulfilled' ? health.value : undefined,
      perf.status === 'fulfilled' ? perf.value : undefined,
    );
    if (askAdvice) {
      // A failed ask (e.g. an older server without the route) keeps the last curves and waits a full period.
      state.adviceAt = now;
      if (advice.status === 'fulfilled') {
        state.advice = report.readAdvice(advice.value);
        view.renderAdvice();
      }
    }
    $('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
  } catch (error) {
    if (error instanceof AuthError) {
      state.polling = false;
      logout(error.message);
      return;
    }
    $('updated').textContent = `connection problem: ${error.message} — retrying`;
  }
  state.polling = false;
  if (state.pollAgain) {
    state.pollAgain = false;
    return poll();
  }
  if (!state.paused && state.key) state.timer = setTimeout(poll, POLL_MS);
}

/** Runs an admin action after confirm(), reports its answer, and refreshes the numbers at once. */
async function act(question, path, body, describe) {
  if (!confirm(question)) return;
  const out = $('action-result');
  try {
    const answer = await api(path, { method: 'POST', body });
    out.className = 'muted';
    out.textContent = describe(answer);
  } catch (error) {
    if (error instanceof AuthError) return logout(error.message);
    out.className = 'error';
    out.textContent = `Failed: ${error.message}`;
  }
  await poll();
}

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('pause').hidden = false;
  poll();
}

function logout(message) {
  clearTimeout(state.timer);
  state.key = null;
  // The next key may see other caches: ask the advisor again on the first poll.
  state.adviceAt = -Infinity;
  sessionStorage.removeItem(KEY_STORAGE);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('pause').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('updated').textContent = 'not connected';
  $('api-key').focus();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.key = $('api-key').value.trim();
  $('api-key').value = '';
  if (!state.key) return;
  sessionStorage.setItem(KEY_STORAGE, state.key);
  start();
});

$('logout').addEventListener('click', () => logout());

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  if (!state.paused) poll();
  else clearTimeout(state.timer);
});

$('clear-all').addEventListener('click', () =>
  act('Clear every cache?', 'clear', undefined, () => 'All caches cleared.'),
);

$('invalidate-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const cache = $('inv-cache').value;
  const kind = $('inv-kind').value;
  const value = $('inv-value').value.trim();
  if (!value) return;
  // A number key (listed with the "number" mark) is sent as a JSON number: "123" would name the string key.
  const numeric = kind === 'number-keys';
  if (numeric && !Number.isFinite(Number(value))) {
    $('action-result').className = 'error';
    $('action-result').textContent = `"${value}" is not a number.`;
    return;
  }
  const body = numeric ? { keys: [Number(value)] } : { [kind]: [value] };
  if (cache) body.cache = cache;
  act(
    `Invalidate ${kind.replace(/s$/, '')} "${value}" in ${cache ? `"${cache}"` : 'every cache'}?`,
    'invalidate',
    body,
    (answer) => {
      const n = report.countOf(answer);
      return `Invalidated ${n === undefined ? 'the matching' : fmt.int(n)} entries for ${kind.replace(/s$/, '')} "${value}".`;
    },
  );
});

let searchTimer;
$('keys-search').addEventListener('input', () => {
  view.renderKeys();
  clearTimeout(searchTimer);
  searchTimer = setTimeout(poll, SEARCH_DEBOUNCE_MS);
});
$('keys-cache').addEventListener('change', view.renderKeys);
window.addEventListener('resize', view.renderChart);

if (state.key) start();
else logout();
