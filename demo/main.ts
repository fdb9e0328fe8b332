// `npm start`: runs the Larder demo service (all five seed systems over simulated upstreams, the
// admin API and the live dashboard) until SIGINT/SIGTERM, then shuts down cleanly.
// `npm start -- --load` (or DEMO_LOAD=1) also drives traffic at it in-process for a while.
import { ADVISED_CACHES, startDemo } from './app.js';
import { ConfigError, readConfig } from './config.js';
import { runLoad } from './load/traffic.js';

async function main(): Promise<void> {
  let config;
  try {
    config = readConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`larder demo: bad configuration: ${error.message}`);
    process.exit(1);
  }
  const demo = await startDemo(config);
  const { url } = demo;
  console.log(`Larder demo listening on ${url}`);
  console.log(`  dashboard       ${url}/cache/dashboard`);
  console.log(`  admin API       ${url}/cache/{stats,health,performance,metrics}   (X-API-Key)`);
  console.log(`  shared tier     ${await sharedTierLine(demo)}`);
  console.log(
    `  snapshots       ${
      config.snapshotDir === undefined
        ? 'off (LARDER_SNAPSHOT_DIR=off)'
        : `${config.snapshotDir}, ${
            config.snapshotIntervalMs > 0 ? `every ${formatInterval(config.snapshotIntervalMs)} and ` : ''
          }at shutdown`
    }`,
  );
  console.log(
    `  sizing advisor  ${config.advisor ? `${ADVISED_CACHES.join(', ')} (${url}/cache/advisor)` : 'off (LARDER_ADVISOR=off)'}`,
  );
  if (config.apiKeyGenerated) {
    console.log(`  API key         ${config.apiKey}   (generated; set LARDER_API_KEY to choose one)`);
  }
  console.log('Try: curl ' + url + '/engines/stats/total   ·   npm run demo:load   ·   Ctrl-C to stop');

  const load = new AbortController();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: shutting down`);
    load.abort();
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('larder demo: error while closing', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  if (config.loadMs > 0) {
    console.log(`Driving load for ${Math.round(config.loadMs / 1000)} s …`);
    const report = await runLoad({
      baseUrl: url,
      durationMs: config.loadMs,
      apiKey: config.apiKey,
      signal: load.signal,
    });
    console.log(report.summary());
  }
}

/**
 * What the banner says of Redis: only "Redis + invalidation bus" once both answer; otherwise the
 * cause (ECONNREFUSED, ENOTFOUND, WRONGPASS, NOAUTH, …) as the tier's health reports it. Waits up to
 * 1.5 s for the first connection to settle.
 */
async function sharedTierLine(demo: Awaited<ReturnType<typeof startDemo>>): Promise<string> {
  if (demo.config.redisUrl === undefined) return 'none (in-memory only)';
  const cache = Object.values(demo.caches)[0];
  const deadline = Date.now() + 1500;
  for (;;) {
    const health = cache?.health();
    if (health?.l2?.status === 'ok' && health.bus?.status === 'ok') return 'Redis + invalidation bus';
    if (health?.l2 !== undefined && health.l2.status !== 'ok') {
      const reason = String(health.l2.reason ?? 'unknown').replace(/^(L2 failing|circuit open): /, '');
      return `Redis configured but unreachable: ${reason} — serving from memory, will reconnect`;
    }
    if (Date.now() >= deadline) {
      const reason = String(health?.bus?.reason ?? health?.l2?.reason ?? 'no answer yet');
      return `Redis configured, not connected yet (${reason}) — serving from memory, will reconnect`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `1 min`, `30 s`, `1500 ms`: the interval as a person would say it. */
function formatInterval(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

main().catch((error: unknown) => {
  console.error('larder demo: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
