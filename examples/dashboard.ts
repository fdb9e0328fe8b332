// Larder's admin API and live dashboard in your own node:http service: a read-through cache in front
// of a slow function, and `createAdmin` mounted at /admin. Run: `node --import tsx examples/dashboard.ts`,
// then open http://127.0.0.1:8100/admin/dashboard and paste the key it prints.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createCache } from 'larder-cache';
import { createAdmin } from 'larder-cache/http';

const weather = createCache<{ city: string; celsius: number }>({
  name: 'weather',
  ttl: '10s',
  maxEntries: 1000,
});

/** A slow upstream: 300 ms per call. */
async function fetchWeather(city: string) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { city, celsius: Math.round(Math.random() * 30) };
}

const apiKey = process.env.LARDER_API_KEY ?? randomBytes(12).toString('base64url');
const admin = createAdmin({ caches: { weather }, apiKey, prefix: '/admin' });

const server = createServer((req, res) => {
  void admin(req, res, async () => {
    const city = new URL(req.url ?? '/', 'http://x').searchParams.get('city') ?? 'Oslo';
    const body = JSON.stringify(await weather.getOrSet(city, () => fetchWeather(city)));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
});

server.listen(8100, '127.0.0.1', () => {
  console.log('GET http://127.0.0.1:8100/?city=Oslo   (cached 10 s)');
  console.log(`dashboard: http://127.0.0.1:8100/admin/dashboard   key: ${apiKey}`);
});

process.once('SIGINT', () => {
  server.close();
  server.closeAllConnections();
  admin.close();
  void weather.close();
});
