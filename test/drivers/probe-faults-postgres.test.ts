// The PostgreSQL tier under faults, against a private PostgreSQL cluster this file creates (initdb
// in a temporary directory, its own free loopback port), so it can be paused (SIGSTOP on its whole
// process group), killed and restarted empty without touching the machine's shared server.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { postgresDriver, postgresTier } from '../../src/entries/postgres.js';
import { freePort } from '../helpers/redis-server.js';
import { describeWith } from './servers.js';

const BIN = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin']
  .concat(spawnSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' }).stdout.trim())
  .find(
    (dir) =>
      dir !== '' && dir !== '.' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')),
  );
const asRoot = process.getuid?.() === 0;
const postgresUser = asRoot ? spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }) : undefined;
const MISSING =
  BIN === undefined
    ? 'initdb and postgres'
    : asRoot && postgresUser?.status !== 0
      ? 'a postgres user to run initdb as (running as root)'
      : undefined;

/** argv that runs `command` as the postgres user when this process is root (initdb refuses root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (!asRoot) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]];
}

/** A private PostgreSQL cluster: initdb once, then start, pause, kill, and restart (empty or not). */
class PrivateCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'larder-pg-'));
  readonly data = join(this.root, 'data');
  readonly pristine = join(this.root, 'pristine');
  port = 0;
  process: ChildProcess | undefined;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  init(): void {
    if (asRoot)
      chownSync(this.root, Number(postgresUser!.stdout.trim()), Number(postgresUser!.stdout.trim()));
    const [command, args] = asPostgres(join(BIN!, 'initdb'), [
      '-D',
      this.pristine,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    const done = spawnSync(command, args, { encoding: 'utf8' });
    if (done.status !== 0) throw new Error(`initdb failed: ${done.stderr}`);
    this.#copyPristine();
  }

  /** The data directory as initdb left it (copied as the postgres user: owner and 0700 kept). */
  #copyPristine(): void {
    rmSync(this.data, { recursive: true, force: true });
    const [command, args] = asPostgres('cp', ['-a', this.pristine, this.data]);
    const done = spawnSync(command, args, { encoding: 'utf8' });
    if (done.status !== 0) throw new Error(`cp failed: ${done.stderr}`);
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    const [command, args] = asPostgres(join(BIN!, 'postgres'), [
      '-D',
      this.data,
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.root}`,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=40',
    ]);
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    this.process = child;
    for (let i = 0; i < 200; i++) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 500 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await client.end().catch(() => {});
      }
    }
    throw new Error(`postgres did not start on port ${this.port}`);
  }

  /** Signals the postmaster and every backend (each backend is a session leader of its own). */
  signal(signal: NodeJS.Signals, pid = this.process?.pid): void {
    if (pid === undefined) return;
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    const pids = [
      pid,
      ...children.stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map(Number),
    ];
    for (const each of signal === 'SIGCONT' ? pids.reverse() : pids) {
      try {
        process.kill(each, signal);
      } catch {
        // gone already
      }
    }
  }

  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.signal('SIGKILL', child.pid);
    await exited;
    // The backends go with the postmaster; wait until the port is free of them.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Killed, then started again on the same port with an empty cluster. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    this.#copyPristine();
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.kill().catch(() => {});
    rmSync(this.root, { recursive: true, force: true });
  }
}

describeWith('postgres tier under faults (private PostgreSQL cluster)', MISSING, () => {
  const cluster = new PrivateCluster();
  process.once('exit', () => cluster.signal('SIGKILL'));
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    cluster.init();
    await cluster.start();
  });
  afterAll(async () => {
    cluster.signal('SIGCONT');
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
    await cluster.destroy();
  });

  const busUp = (cache: Cache): Promise<void> =>
    vi.waitFor(() => expect(cache.health().bus?.status).toBe('ok'), { timeout: 5000, interval: 20 });
  /** A cache over the tier, with its own NOTIFY channel (`name`). */
  const open = (name: string, id: string): Cache => {
    const cache = createCache({
      name,
      ttl: '1h',
      retry: false,
      l2: postgresTier({
        connectionString: `${cluster.url}?application_name=${id}`,
        instanceId: id,
        channel: name,
        timeout: '50ms',
        breaker: { threshold: 2, resetAfter: '150ms' },
      }),
    });
    cleanups.push(() => cache.close());
    return cache;
  };
  const openHere = (): number => {
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    return handles.filter((h) => (h as { remotePort?: number }).remotePort === cluster.port).length;
  };

  it('paused: calls time out within the tier timeout, a delete made then holds on both instances, and close does not wait for the server', async () => {
    const a = open('pause', 'A');
    const b = open('pause', 'B');
    await busUp(a);
    await busUp(b);
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old'); // in B's L1 now
    cluster.signal('SIGSTOP');
    try {
      const took: number[] = [];
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        expect(await a.getOrSet(`miss${i}`, () => 'loaded')).toBe('loaded');
        took.push(performance.now() - started);
      }
      expect(Math.max(...took)).toBeLessThan(400);
      await a.delete('k');
      expect(a.health().l2?.pending).toBeGreaterThan(0);
      expect(await a.get('k')).toBeUndefined();
    } finally {
      cluster.signal('SIGCONT');
    }
    await vi.waitFor(() => expect(a.health().l2?.pending).toBe(0), { timeout: 5000, interval: 20 });
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined(), { timeout: 5000, interval: 20 });
    // Closing while the server hangs again: bounded, and nothing is left open afterwards.
    cluster.signal('SIGSTOP');
    try {
      const closed = Promise.all([a.close(), b.close()]).then(() => 'closed');
      const late = new Promise((resolve) => setTimeout(() => resolve('still closing'), 3000));
      // Before: close() never returned while the server hung (pool.end() and the LISTEN session's
      // end() wait for it), and their sockets kept the process alive.
      expect(await Promise.race([closed, late])).toBe('closed');
      await vi.waitFor(() => expect(openHere()).toBe(0), { timeout: 1000, interval: 20 });
    } finally {
      cluster.signal('SIGCONT');
    }
  });

  it('a missed NOTIFY (listening session killed while another instance deletes) never leaves the old value in L1', async () => {
    const a = open('deaf', 'A');
    const b = open('deaf', 'B');
    await busUp(a);
    await busUp(b);
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old');
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      // B's listening session goes, and the delete's NOTIFY is sent while it is deaf.
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'B' AND query LIKE 'LISTEN "deaf"%'`,
      );
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await a.delete('k');
    await vi.waitFor(() => expect(b.health().bus).toMatchObject({ status: 'ok', resyncs: 1 }), {
      timeout: 5000,
      interval: 20,
    });
    expect(await b.get('k')).toBeUndefined();
  });

  it('a pool session killed in the middle of a statement fails that call only; the next ones use a new session', async () => {
    const driver = postgresDriver({ connectionString: cluster.url, prefix: 'kill:' });
    cleanups.push(() => driver.disconnect());
    await driver.set('row', 'v1');
    const locker = new pg.Client({ connectionString: cluster.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM larder_cache WHERE key = 'kill:row' FOR UPDATE`);
      const blocked = driver.set('row', 'v2').then(
        () => 'stored',
        (error: unknown) => error,
      );
      let pid: number | undefined;
      await vi.waitFor(async () => {
        const waiting = await locker.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%'`,
        );
        pid = waiting.rows[0]?.pid;
        expect(pid).toBeDefined();
      });
      await locker.query('SELECT pg_terminate_backend($1)', [pid]);
      expect(await blocked).toMatchObject({ code: '57P01' });
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    expect(String(await driver.get('row'))).toBe('v1');
    await driver.set('row', 'v3');
    expect(String(await driver.get('row'))).toBe('v3');
  });

  it('killed (SIGKILL) and restarted with its data: a delete made meanwhile is replayed, and the other instance drops what it held', async () => {
    const a = open('killed', 'A');
    const b = open('killed', 'B');
    await busUp(a);
    await busUp(b);
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old'); // in B's L1
    await cluster.kill();
    await a.delete('k'); // the store is gone: kept for replay
    expect(a.health().l2?.pending).toBeGreaterThan(0);
    await cluster.start();
    await vi.waitFor(() => expect(a.health().l2?.pending).toBe(0), { timeout: 8000, interval: 20 });
    await vi.waitFor(() => expect(b.health().bus).toMatchObject({ status: 'ok', resyncs: 1 }), {
      timeout: 8000,
      interval: 20,
    });
    expect(await b.get('k')).toBeUndefined();
    await a.set('k', 'new');
    await vi.waitFor(async () => expect(await b.get('k')).toBe('new'), { timeout: 3000, interval: 20 });
  });

  it('a tier made while the server hangs answers from loaders: its first calls wait a bounded time, and it works once the server does', async () => {
    cluster.signal('SIGSTOP');
    let cache: Cache;
    try {
      cache = open('startup', 'S');
      const started = performance.now();
      // Before: this waited for the table to be made, outside the call's timeout, for as long as
      // the server hung; the loader never ran.
      const first = await Promise.race([
        cache.getOrSet('x', () => 'loaded'),
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
      ]);
      expect(first).toBe('loaded');
      expect(performance.now() - started).toBeLessThan(3500);
      const later = performance.now();
      expect(await cache.getOrSet('y', () => 'loaded')).toBe('loaded');
      expect(performance.now() - later).toBeLessThan(500);
    } finally {
      cluster.signal('SIGCONT');
    }
    const other = open('startup', 'T');
    await busUp(other);
    await vi.waitFor(
      async () => {
        await cache.set('z', 'stored');
        expect(await other.get('z')).toBe('stored');
      },
      { timeout: 8000, interval: 200 },
    );
  });

  it('restarted empty: the driver makes its table again, and writes reach the other instance', async () => {
    const a = open('empty', 'A');
    const b = open('empty', 'B');
    await busUp(a);
    await busUp(b);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await cluster.restartEmpty();
    // Both buses listen again, and B's L1 was dropped (NOTIFY replays nothing).
    for (const cache of [a, b]) {
      await vi.waitFor(() => expect(cache.health().bus).toMatchObject({ status: 'ok', resyncs: 1 }), {
        timeout: 8000,
        interval: 20,
      });
    }
    // Before: every statement failed (relation "larder_cache" does not exist) until the process
    // restarted, so the tier stayed down: this write never reached the store.
    await vi.waitFor(
      async () => {
        await a.set('k', 'v2');
        expect(a.health().l2?.status).toBe('ok');
      },
      { timeout: 3000, interval: 200 },
    );
    await vi.waitFor(async () => expect(await b.get('k')).toBe('v2'), { timeout: 3000, interval: 50 });
  });
});
