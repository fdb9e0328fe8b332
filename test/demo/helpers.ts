// Starts the demo in-process for HTTP tests: an ephemeral port, no simulated latency, no random
// failures unless asked, a known API key, a clock the test moves, and no snapshots (so tests never
// write into the repository) unless a test passes its own `snapshotDir`.
import { startDemo, type Demo } from '../../demo/app.js';
import { readConfig, type DemoConfig } from '../../demo/config.js';
import { seededRandom } from '../../demo/upstreams/simulate.js';

export const API_KEY = 'test-admin-key-123';

/** A running demo plus a movable clock and a fetch bound to its URL. */
export interface TestDemo {
  demo: Demo;
  clock: { now: number; advance(ms: number): void };
  /** fetch(path, init) against the demo, with JSON helpers. */
  call(
    path: string,
    init?: RequestInit & { json?: unknown; key?: boolean; user?: string },
  ): Promise<Response>;
}

/** Starts a demo; `overrides` change the config (e.g. failure rate, TTLs, a temporary `snapshotDir`). */
export async function startTestDemo(overrides: Partial<DemoConfig> = {}): Promise<TestDemo> {
  const config = {
    ...readConfig({
      PORT: '0',
      LARDER_API_KEY: API_KEY,
      DEMO_LATENCY_SCALE: '0',
      DEMO_FAILURE_RATE: '0',
      LARDER_SNAPSHOT_DIR: 'off',
    }),
    ...overrides,
  };
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const demo = await startDemo(config, { clock: () => clock.now, random: seededRandom(1) });
  const call: TestDemo['call'] = (path, init = {}) => {
    const { json, key, user, headers, ...rest } = init;
    const h = new Headers(headers);
    if (json !== undefined) h.set('content-type', 'application/json');
    if (key) h.set('x-api-key', API_KEY);
    if (user !== undefined) h.set('x-user-id', user);
    return fetch(demo.url + path, {
      redirect: 'manual',
      ...rest,
      headers: h,
      body: json === undefined ? rest.body : JSON.stringify(json),
    });
  };
  return { demo, clock, call };
}
