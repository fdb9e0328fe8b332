// Servers for the driver tests: a fresh PostgreSQL database per test file (dropped after), a
// throwaway memcached on a free loopback port, and describeWith(), the describe() that skips loudly
// when what a suite needs is missing — or fails when CI or LARDER_REQUIRE_REDIS is set, as
// describeWithRedis does for redis-server.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import pg from 'pg';
import { describe, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';

const required = Boolean(process.env.CI) || Boolean(process.env.LARDER_REQUIRE_REDIS);

/** `describe` for suites that need `what`: runs when `missing` is undefined, else skips loudly (fails in CI). */
export function describeWith(name: string, missing: string | undefined, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (required) {
    describe(name, () => {
      it(`needs ${missing}`, () => {
        throw new Error(`${missing} is not available, and CI or LARDER_REQUIRE_REDIS is set`);
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPING "${name}": ${missing} is not available (set LARDER_REQUIRE_REDIS=1 to fail instead) ***\n`,
  );
  describe.skip(name, body);
}

function findBinary(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** Where the test PostgreSQL listens (LARDER_TEST_PG overrides; trust auth as user postgres). */
export const PG_ADMIN_URL = process.env.LARDER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Undefined when PostgreSQL answers at {@link PG_ADMIN_URL}, else what is missing (checked once, at import). */
export const PG_MISSING: string | undefined = await (async () => {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${PG_ADMIN_URL} (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
})();

/** A fresh database, `larder_test_<random>`, and how to drop it. */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh database on the test PostgreSQL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `larder_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        // Sessions still closing (a pool's end() resolves before the server has noticed) are waited
        // for; FORCE, which kills them and makes their clients throw, is the last resort.
        for (let attempt = 0; ; attempt++) {
          try {
            await client.query(`DROP DATABASE IF EXISTS ${name}${attempt === 50 ? ' WITH (FORCE)' : ''}`);
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== '55006' || attempt === 50) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}

/** Path of memcached, or undefined. */
export const MEMCACHED = findBinary('memcached');

/** One memcached child process on a free loopback port. */
export class MemcachedServer {
  readonly port: number;
  process: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Starts memcached (`-U 0`: no UDP) on `port` (default: a free one; give the port of one stopped to
   * restart it there, empty) and waits until it accepts connections.
   */
  static async start(port?: number): Promise<MemcachedServer> {
    if (MEMCACHED === undefined) throw new Error('memcached is not installed');
    const server = new MemcachedServer(port ?? (await freePort()));
    const args = ['-p', String(server.port), '-l', '127.0.0.1', '-U', '0', '-m', '64'];
    // memcached refuses to run as root unless told which user to be.
    if (process.getuid?.() === 0) args.push('-u', 'root');
    server.process = spawn(MEMCACHED, args, {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (await accepts(server.port)) return server;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await server.stop();
    throw new Error(`memcached did not start on port ${server.port}`);
  }

  /** Kills it and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
