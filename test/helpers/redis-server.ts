// Starts throwaway redis-server processes for tests: a free port, a temp dir, no persistence. Tests
// never touch the shared Redis on 6379. stop() ends a server, kill() SIGKILLs it (an outage),
// restart() brings it back on the same port, restartEmpty() with no data, pause()/resume() SIGSTOP and
// SIGCONT it (a hang: connected, not answering). No vitest import here, so benchmarks can use it too;
// test files use describeWithRedis (test/tiers/describe-with-redis.ts).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findBinary(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** Path of redis-server, or undefined when it is not installed. */
export const REDIS_SERVER = findBinary('redis-server');
/** Path of redis-cli, or undefined. */
export const REDIS_CLI = findBinary('redis-cli');

/** A free TCP port on 127.0.0.1 (never 6379, the shared Redis). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    // Cluster nodes also listen on port + 10000, which must stay below 65536.
    if (port !== 6379 && port > 0 && port < 55_000) return port;
  }
}

/** Sends PING; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // A server started with --requirepass answers NOAUTH: it is up all the same.
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set<RedisServer>();
process.once('exit', () => {
  for (const server of running) server.process?.kill('SIGKILL');
});

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[];
  port?: number;
  /** A config file's text, written to the server's dir and passed first (Sentinel needs a writable one). */
  config?: string;
}

/** One redis-server child process. */
export class RedisServer {
  /** The port it listens on (kept across restarts). */
  readonly port: number;
  /** Its working directory. */
  readonly dir: string;
  /** The child process while it runs. */
  process: ChildProcess | undefined;
  readonly #args: string[];
  readonly #config: string[];

  private constructor(port: number, dir: string, args: string[], config: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
    this.#config = config;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (REDIS_SERVER === undefined) throw new Error('redis-server is not installed');
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'larder-redis-'));
    const config: string[] = [];
    if (options.config !== undefined) {
      const file = join(dir, 'redis.conf');
      writeFileSync(file, options.config);
      config.push(file);
    }
    const server = new RedisServer(port, dir, options.args ?? [], config);
    await server.#spawn();
    return server;
  }

  /** Starts it again on the same port (after stop or kill). */
  async restart(): Promise<void> {
    if (this.process !== undefined) await this.stop();
    await this.#spawn();
  }

  /** SIGKILL, then starts again on the same port with its data files removed (a replacement with no data). */
  async restartEmpty(): Promise<void> {
    await this.kill();
    for (const name of readdirSync(this.dir)) {
      if (name !== 'redis.conf') rmSync(join(this.dir, name), { recursive: true, force: true });
    }
    await this.#spawn();
  }

  /** SIGSTOP: connections stay open but nothing is answered (a hung server). */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT: a paused server answers again. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** SIGKILL: the server vanishes without closing connections cleanly, as in a crash. */
  async kill(): Promise<void> {
    await this.#end('SIGKILL');
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    await this.#end('SIGTERM');
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async #spawn(): Promise<void> {
    const args = [
      ...this.#config,
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    args.push('--dir', this.dir, ...this.#args);
    const child = spawn(REDIS_SERVER!, args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.process = child;
    running.add(this);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
      if (await ping(this.port)) return;
      await sleep(20);
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s: ${stderr}`);
  }
}

/** Runs redis-cli with arguments; resolves with stdout, rejects on a non-zero exit. */
export function redisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(REDIS_CLI!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`redis-cli ${args.join(' ')} failed: ${err || out}`)),
    );
  });
}
