// The URL shortener's database (seed 004): short links owned by users, redirect lookups, click
// counts, user profiles and per-user analytics. Queries take 20-80 ms (analytics 100-300 ms), as a
// loaded database would; the named caches and the response-caching middleware sit in front of it.
import { CallCounter, simulateLatency, type Simulation } from './simulate.js';

/** A short link. */
export interface ShortUrl {
  id: string;
  code: string;
  url: string;
  owner: string;
  clicks: number;
  created_at: string;
}

/** A user's profile. */
export interface UserProfile {
  id: string;
  name: string;
  plan: 'free' | 'pro';
}

/** Per-user analytics, the expensive answer of `/api/urls/stats/`. */
export interface UrlStats {
  owner: string;
  total_urls: number;
  total_clicks: number;
  top: Array<{ code: string; url: string; clicks: number }>;
}

const CODE_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The simulated URL database. */
export class UrlUpstream {
  readonly #sim: Simulation;
  readonly #byId = new Map<string, ShortUrl>();
  readonly #byCode = new Map<string, ShortUrl>();
  #nextId = 1;
  /** Queries run, per query name. */
  readonly calls = new CallCounter();

  /** Seeds `preload` links spread over users `user-1` … `user-5`. */
  constructor(sim: Simulation, preload = 200) {
    this.#sim = sim;
    for (let i = 0; i < preload; i++) {
      this.#insert(`user-${(i % 5) + 1}`, `https://example.com/articles/${i + 1}`);
    }
  }

  /** Every short code, in creation order (the load generator draws from them). */
  codes(): string[] {
    return [...this.#byCode.keys()];
  }

  /** A user's links, newest first. */
  async list(owner: string): Promise<ShortUrl[]> {
    await this.#query('urls.list', 20, 80);
    return [...this.#byId.values()]
      .filter((u) => u.owner === owner)
      .reverse()
      .map((u) => ({ ...u }));
  }

  /** One link by id. */
  async get(id: string): Promise<ShortUrl | undefined> {
    await this.#query('urls.get', 20, 80);
    const url = this.#byId.get(id);
    return url && { ...url };
  }

  /** The target of a short code (the lookup a redirect caches); undefined when unknown. */
  async resolve(code: string): Promise<string | undefined> {
    await this.#query('urls.resolve', 20, 80);
    return this.#byCode.get(code)?.url;
  }

  /** Counts a click; cheap, as click counters are buffered writes in a real shortener. */
  recordClick(code: string): void {
    const url = this.#byCode.get(code);
    if (url) url.clicks++;
  }

  /** A user's profile (what the `user` cache holds). */
  async profile(owner: string): Promise<UserProfile> {
    await this.#query('users.get', 20, 80);
    const n = Number(/(\d+)$/.exec(owner)?.[1] ?? 0);
    return { id: owner, name: `Demo user ${owner}`, plan: n % 3 === 0 ? 'pro' : 'free' };
  }

  /** A user's analytics: totals and the most clicked links. */
  async stats(owner: string): Promise<UrlStats> {
    await this.#query('urls.stats', 100, 300);
    const mine = [...this.#byId.values()].filter((u) => u.owner === owner);
    return {
      owner,
      total_urls: mine.length,
      total_clicks: mine.reduce((sum, u) => sum + u.clicks, 0),
      top: mine
        .sort((a, b) => b.clicks - a.clicks)
        .slice(0, 5)
        .map(({ code, url, clicks }) => ({ code, url, clicks })),
    };
  }

  /** Shortens a URL for a user. */
  async create(owner: string, target: string): Promise<ShortUrl> {
    await this.#query('urls.insert', 10, 40);
    return { ...this.#insert(owner, target) };
  }

  /** Changes a link's target; undefined when absent or owned by someone else. */
  async update(id: string, owner: string, target: string): Promise<ShortUrl | undefined> {
    await this.#query('urls.update', 10, 40);
    const url = this.#byId.get(id);
    if (!url || url.owner !== owner) return undefined;
    url.url = target;
    return { ...url };
  }

  /** Deletes a link and answers it; undefined when absent or owned by someone else. */
  async delete(id: string, owner: string): Promise<ShortUrl | undefined> {
    await this.#query('urls.delete', 10, 40);
    const url = this.#byId.get(id);
    if (!url || url.owner !== owner) return undefined;
    this.#byId.delete(id);
    this.#byCode.delete(url.code);
    return url;
  }

  #insert(owner: string, target: string): ShortUrl {
    const id = String(this.#nextId++);
    const url: ShortUrl = {
      id,
      code: this.#newCode(),
      url: target,
      owner,
      clicks: 0,
      created_at: new Date(this.#sim.clock()).toISOString(),
    };
    this.#byId.set(id, url);
    this.#byCode.set(url.code, url);
    return url;
  }

  #newCode(): string {
    for (;;) {
      let code = '';
      for (let i = 0; i < 6; i++)
        code += CODE_ALPHABET[Math.floor(this.#sim.random() * CODE_ALPHABET.length)];
      if (!this.#byCode.has(code)) return code;
    }
  }

  #query(name: string, minMs: number, maxMs: number): Promise<void> {
    this.calls.count(name);
    return simulateLatency(this.#sim, minMs, maxMs);
  }
}
