// `npm run bench:conditional`: bytes the demo's provider caches (seed 000) fetch from the provider
// APIs with conditional requests (ETag / If-None-Match, a 304 renews the entry without a body) against
// plain refetches, on a demo-like week: every resource of both providers read once a minute, each
// provider's catalog changing upstream about once a day (the API bumps its revision; nothing is
// invalidated here) and an admin edit (which invalidates that provider) about every three days.
// Time is an injected clock and the simulated latency is off, so the week takes a second or two.
// Options: --seed=n.
import {
  createProviderResourceCache,
  RESOURCE_TTLS,
  type ResourceKind,
} from '../demo/seeds/provider-resource-cache.js';
import { offers, ProviderUpstream, RESOURCE_TYPES } from '../demo/upstreams/providers.js';
import { createSimulation } from '../demo/upstreams/simulate.js';
import { parseBenchArgs } from './lib/args.js';
import { createRandom } from './lib/prng.js';
import { markdownTable, type Align } from './lib/table.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Outcome {
  label: string;
  calls: number;
  bodies: number;
  bytesSent: number;
  bytesSaved: number;
}

async function run(conditional: boolean, seed: number, days: number): Promise<Outcome> {
  let now = 0;
  const random = createRandom(seed);
  const upstream = new ProviderUpstream(createSimulation({ latencyScale: 0, clock: () => now }));
  const cache = createProviderResourceCache({ clock: () => now });
  const providers = upstream.list();
  // Poisson event times per provider: upstream catalog changes (~1/day) and admin edits (~1/3 days).
  const next = (mean: number): number => now + -Math.log(1 - random()) * mean;
  const changeAt = providers.map(() => next(DAY));
  const editAt = providers.map(() => next(3 * DAY));
  let bodies = 0;
  let bytes = 0;
  for (now = 0; now < days * DAY; now += MINUTE) {
    for (const [i, p] of providers.entries()) {
      if (now >= changeAt[i]!) {
        upstream.update(p.id, {});
        changeAt[i] = next(DAY);
      }
      if (now >= editAt[i]!) {
        upstream.update(p.id, {});
        await cache.invalidateProvider(p.id);
        editAt[i] = next(3 * DAY);
      }
      for (const kind of RESOURCE_TYPES) {
        if (!offers(p.kind, kind)) continue;
        if (conditional) {
          await cache.getConditional(p.id, kind as ResourceKind, (etag) =>
            upstream.fetchResourcesIfChanged(p.id, kind, etag),
          );
        } else {
          await cache.get(p.id, kind as ResourceKind, async () => {
            const body = await upstream.fetchResources(p.id, kind);
            bodies++;
            bytes += Buffer.byteLength(JSON.stringify(body));
            return body;
          });
        }
      }
    }
  }
  await cache.clearAll();
  const t = upstream.transfer;
  const calls = Object.values(upstream.calls.toJSON()).reduce((a, b) => a + b, 0);
  return conditional
    ? { label: 'conditional (ETag)', calls, bodies: t.full, bytesSent: t.bytesSent, bytesSaved: t.bytesSaved }
    : { label: 'plain refetch', calls, bodies, bytesSent: bytes, bytesSaved: 0 };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const days = 7;
  const results = [await run(false, args.seed, days), await run(true, args.seed, days)];
  const ttls = Object.entries(RESOURCE_TTLS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `# Conditional requests to the provider APIs (seed 000)\n\n${days} simulated days; every resource of ` +
      `both demo providers read once a minute; TTLs ${ttls}; catalogs change upstream ~1/day, admin ` +
      `edits ~1 per 3 days per provider. Seed ${args.seed}.\n`,
  );
  const plain = results[0]!.bytesSent;
  const header = ['fetch', 'API calls', 'bodies sent', 'bytes sent', 'bytes saved by 304', 'vs plain'];
  const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right'];
  const rows = results.map((r) => [
    r.label,
    String(r.calls),
    String(r.bodies),
    r.bytesSent.toLocaleString('en-US'),
    r.bytesSaved.toLocaleString('en-US'),
    `${((100 * (r.bytesSent - plain)) / plain).toFixed(1)}%`,
  ]);
  console.log(markdownTable(header, rows, align));
}

await main();
