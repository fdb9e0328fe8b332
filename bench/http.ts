// HTTP benchmark (`npm run bench:http`): requests per second of one endpoint on node:http, Express 5 and
// Fastify 5, three ways each — the handler uncached (it takes 20 ms, like the expensive endpoints of
// seeds 001/003), the same handler behind Larder's response cache, and a handler answering the same
// body at once with no cache at all (the ceiling). Target: cached >= 90% of the ceiling.
//
// Fairness: every server runs in its own child process (a fresh V8, nothing else on its event loop)
// while autocannon drives it from this process, so load generation and serving do not share one
// thread. Each row gets a warm-up (which also fills the cache) before the measured run; cached and
// ceiling run twice (ABBA) and keep their best. These numbers are for catching regressions and
// comparing the three rows; on a shared 2-core machine they are noisy.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createCache } from '../src/cache/create-cache.js';
import { expressCache } from '../src/http/express.js';
import { fastifyCache } from '../src/http/fastify.js';
import { createHttpCache } from '../src/http/http-cache.js';
import { formatOps, markdownTable } from './lib/table.js';

type Framework = 'node' | 'express' | 'fastify';
type Mode = 'uncached' | 'cached' | 'ceiling';

const FRAMEWORKS: readonly Framework[] = ['node', 'express', 'fastify'];
const MODES: readonly Mode[] = ['uncached', 'cached', 'ceiling'];
const HANDLER_MS = 20;
const PATH = '/subscriptions/acme/providers';

/** The endpoint's answer: a ~1 KB JSON list, like seed 003's provider list. */
const BODY = JSON.stringify({
  org: 'acme',
  providers: Array.from({ length: 12 }, (_, i) => ({
    id: `prov_${i}`,
    name: `Provider ${i}`,
    plans: i * 3,
    enabled: i % 3 !== 0,
  })),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------------
// Child: one server

async function serve(framework: Framework, mode: Mode): Promise<number> {
  const cache = createCache({ name: 'bench', maxEntries: 1000 });
  const rules = { cache, rules: [{ path: '/subscriptions/:org/providers', ttl: '1h', tags: ['org:{org}'] }] };
  const slow = async (): Promise<string> => {
    await sleep(HANDLER_MS);
    return BODY;
  };
  const answer = mode === 'ceiling' ? async () => BODY : slow;

  if (framework === 'node') {
    const handler = async (_req: IncomingMessage, res: ServerResponse) => {
      const body = await answer();
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    const mw = mode === 'cached' ? createHttpCache(rules) : undefined;
    const server = createServer((req, res) => {
      if (mw) void mw(req, res, () => handler(req, res));
      else void handler(req, res);
    });
    return listen(server);
  }
  if (framework === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.set('etag', false);
    app.set('x-powered-by', false);
    if (mode === 'cached') app.use(expressCache(rules));
    app.get('/subscriptions/:org/providers', async (_req, res) => {
      res.type('application/json').send(await answer());
    });
    return listen(createServer(app));
  }
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (mode === 'cached') await app.register(fastifyCache, rules);
  app.get('/subscriptions/:org/providers', async (_req, reply) => {
    reply.type('application/json; charset=utf-8');
    return answer();
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return Number(new URL(address).port);
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

// ------------------------------------------------------------------------------------------------
// Parent: drive each server with autocannon

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types; only this call is used.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Row {
  framework: Framework;
  mode: Mode;
  rps: number;
  /** Server CPU time (user + system) per answered request, µs: steadier than req/s on a busy machine. */
  cpuUs: number;
  p50: number;
  p99: number;
  failures: number;
}

function readArgs(argv: readonly string[]): { duration: number; connections: number; only: Framework[] } {
  const args = { duration: 5, connections: 50, only: [...FRAMEWORKS] };
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2);
    if (flag === '--duration' || flag === '--connections') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`${flag} must be a positive integer, got '${value}'`);
      args[flag.slice(2) as 'duration' | 'connections'] = n;
    } else if (flag === '--only') {
      const names = value.split(',').filter(Boolean);
      for (const n of names) {
        if (!FRAMEWORKS.includes(n as Framework))
          throw new RangeError(`--only takes ${FRAMEWORKS.join(',')}, got '${n}'`);
      }
      args.only = names as Framework[];
    } else
      throw new RangeError(
        `unknown flag '${arg}' (use --duration=5 --connections=50 --only=node,express,fastify)`,
      );
  }
  return args;
}

interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** The server's CPU time so far (user + system), µs. */
  cpu(): Promise<number>;
}

function startServer(framework: Framework, mode: Mode): Promise<ServerProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', framework, mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const cpu = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve(Number(m)));
      child.send('cpu');
    });
  return new Promise((resolve, reject) => {
    child.once('message', (port) => resolve({ child, port: Number(port), cpu }));
    child.once('exit', (code) =>
      reject(new Error(`${framework}/${mode} server exited with ${String(code)}`)),
    );
  });
}

async function measure(
  framework: Framework,
  mode: Mode,
  duration: number,
  connections: number,
): Promise<Row> {
  const server = await startServer(framework, mode);
  try {
    const url = `http://127.0.0.1:${server.port}${PATH}`;
    await autocannon({ url, connections, duration: 1 }); // warm-up: JIT, keep-alive sockets, the cache entry
    const cpu0 = await server.cpu();
    const r = await autocannon({ url, connections, duration });
    const cpuUs = (await server.cpu()) - cpu0;
    return {
      framework,
      mode,
      rps: r.requests.average,
      cpuUs: cpuUs / Math.max(1, r.requests.total),
      p50: r.latency.p50,
      p99: r.latency.p99,
      failures: r.non2xx + r.errors + r.timeouts,
    };
  } finally {
    server.child.kill();
  }
}

async function main(): Promise<void> {
  const { duration, connections, only } = readArgs(process.argv.slice(2));
  console.log(
    `# HTTP response cache: ${connections} connections, ${duration} s per row, handler ${HANDLER_MS} ms, body ${BODY.length} B`,
  );
  console.log(`# node ${process.version}; servers in child processes, autocannon in this one\n`);
  const rows: Row[] = [];
  for (const framework of only) {
    // Cached and ceiling run twice in ABBA order and keep their best, so a burst of load from other
    // processes on the machine does not decide the ratio between them.
    const runs: Row[] = [];
    for (const mode of ['uncached', 'cached', 'ceiling', 'ceiling', 'cached'] as const) {
      const row = await measure(framework, mode, duration, connections);
      runs.push(row);
      console.log(
        `${framework.padEnd(8)} ${mode.padEnd(9)} ${formatOps(row.rps).padStart(6)} req/s  ${row.cpuUs.toFixed(0).padStart(4)} µs CPU/req  p50 ${row.p50} ms  p99 ${row.p99} ms${row.failures ? `  ${row.failures} failures` : ''}`,
      );
    }
    for (const mode of MODES) {
      const same = runs.filter((r) => r.mode === mode);
      const best = same.reduce((a, b) => (b.rps > a.rps ? b : a));
      rows.push({ ...best, cpuUs: Math.min(...same.map((r) => r.cpuUs)) });
    }
  }
  const table = only.map((framework) => {
    const of = (mode: Mode) => rows.find((r) => r.framework === framework && r.mode === mode)!;
    const ratio = of('cached').rps / of('ceiling').rps;
    const cpuRatio = of('ceiling').cpuUs / of('cached').cpuUs;
    return [
      framework === 'node' ? 'node:http' : framework === 'express' ? 'Express 5' : 'Fastify 5',
      formatOps(of('uncached').rps),
      `${formatOps(of('cached').rps)} (${of('cached').cpuUs.toFixed(0)} µs)`,
      `${formatOps(of('ceiling').rps)} (${of('ceiling').cpuUs.toFixed(0)} µs)`,
      `${(ratio * 100).toFixed(0)}%${ratio >= 0.9 ? '' : ' (below 90%)'}`,
      `${(cpuRatio * 100).toFixed(0)}%`,
      `${of('cached').p99} ms`,
    ];
  });
  console.log(
    `\n${markdownTable(
      [
        'framework',
        `uncached (${HANDLER_MS} ms handler)`,
        'Larder cached (CPU/req)',
        'ceiling: no cache, constant body (CPU/req)',
        'cached / ceiling req/s',
        'by CPU/req',
        'cached p99',
      ],
      table,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    )}`,
  );
  console.log('\nreq/s: autocannon average; CPU/req: server process user+system time per answered request.');
}

if (process.argv[2] === '--serve') {
  const port = await serve(process.argv[3] as Framework, process.argv[4] as Mode);
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.(user + system);
  });
  process.send?.(port);
} else {
  await main();
}
