// Adaptive TTL: a key's TTL follows how often its upstream value really changes. Every load of a key
// that had a value compares the new value with the old one and keeps, in the entry record itself, a
// small estimate of the key's change interval: the time observed across its recent refreshes over the
// changes seen in them (both decayed by DECAY per refresh, so the estimate follows a rate that moves).
// The state costs nothing per key beyond the entry and leaves with it.
//
// The TTL aims at √(change interval × min). Why a square root: a TTL T costs about 1/T upstream calls
// per unit of time and leaves a changed value unserved for about T/2, so a key changing every C is
// stale a fraction ≈ T/(2C) of the time (for T well under C). Minimising total staleness plus λ × total
// calls over keys with different C gives T ∝ √C (the Lagrange condition 1/(2C) = λ/T²); Cho and
// Garcia-Molina treat the general case for web crawlers ("Effective page refresh policies", ICDE 2003).
// A TTL proportional to C (what plain doubling/halving converges to) lets slow keys go stale too long;
// one fixed TTL over-spends calls on them. `min` is the scale: a key changing every `min` or faster
// gets `min`.
//
// The rules: an unchanged refresh grows the TTL toward the target by `factor` at most (a key with no
// change seen yet simply grows by `factor` up to `max`); a changed one shortens it to the target if
// that is lower. A load answered "not modified" (ctx.notModified) is unchanged. bench/adaptive-ttl.ts
// measures this against fixed TTLs on sources whose rates switch halfway.
//
// Values are compared by a 53-bit hash of their JSON form (Maps, Sets, BigInts and typed arrays
// spelt out, so they do not all look like `{}`), unless the user gives `equals`. A value that cannot
// be serialised (a cycle) counts as changed: the safe side is a shorter TTL.
import { parseDuration } from '../util/duration.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import type { AdaptiveState } from '../util/stored-entry.js';
import type { Envelope } from './envelope.js';
import type { AdaptiveTtlOptions } from './types.js';

const ADAPTIVE_TTL_OPTIONS = optionNames<AdaptiveTtlOptions>({
  min: true,
  max: true,
  factor: true,
  equals: true,
  underLoad: true,
});
const UNDER_LOAD_OPTIONS = optionNames<NonNullable<AdaptiveTtlOptions['underLoad']>>({
  latency: true,
  inFlight: true,
  stretch: true,
});

/** Adaptive TTL options resolved to numbers (ms). */
export interface ResolvedAdaptiveTtl {
  readonly min: number;
  readonly max: number;
  /** Multiplier on an unchanged refresh. */
  readonly grow: number;
  readonly equals: ((previous: unknown, next: unknown) => boolean) | undefined;
  /** Loads slower than this (ms) stretch their TTL; Infinity = never. */
  readonly loadLatency: number;
  /** This many loads in flight at once stretch their TTLs; Infinity = never. */
  readonly loadInFlight: number;
  /** The stretch under load (1 = none). */
  readonly stretch: number;
}

/** Validates the `adaptiveTtl` option (`where` names it in errors); undefined when off. */
export function resolveAdaptiveTtl(
  options: AdaptiveTtlOptions | false | undefined,
  where = 'adaptiveTtl',
): ResolvedAdaptiveTtl | undefined {
  if (options === undefined || options === false) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where} must be an object like { min, max } or false`);
  }
  assertKnownOptions(options, ADAPTIVE_TTL_OPTIONS, where);
  if (options.min === undefined || options.max === undefined) {
    throw new TypeError(`${where} needs both min and max`);
  }
  const min = parseDuration(options.min, `${where}.min`);
  const max = parseDuration(options.max, `${where}.max`);
  if (min <= 0) throw new RangeError(`${where}.min must be a positive duration`);
  if (max < min) throw new RangeError(`${where}.max must be at least ${where}.min`);
  const factor = options.factor ?? 2;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 1) {
    throw new RangeError(`${where}.factor must be a finite number > 1`);
  }
  if (options.equals !== undefined && typeof options.equals !== 'function') {
    throw new TypeError(`${where}.equals must be a function`);
  }
  const load = options.underLoad;
  if (load !== undefined && (typeof load !== 'object' || load === null)) {
    throw new TypeError(`${where}.underLoad must be an object like { latency, inFlight, stretch }`);
  }
  if (load !== undefined) assertKnownOptions(load, UNDER_LOAD_OPTIONS, `${where}.underLoad`);
  let loadLatency = Infinity;
  let loadInFlight = Infinity;
  let stretch = 1;
  if (load !== undefined) {
    if (load.latency !== undefined) loadLatency = parseDuration(load.latency, `${where}.underLoad.latency`);
    if (load.inFlight !== undefined) {
      if (!Number.isInteger(load.inFlight) || load.inFlight < 1) {
        throw new RangeError(`${where}.underLoad.inFlight must be a positive integer`);
      }
      loadInFlight = load.inFlight;
    }
    stretch = load.stretch ?? 2;
    if (typeof stretch !== 'number' || !Number.isFinite(stretch) || stretch < 1) {
      throw new RangeError(`${where}.underLoad.stretch must be a finite number >= 1`);
    }
  }
  return {
    min,
    max,
    grow: factor,
    equals: options.equals,
    loadLatency,
    loadInFlight,
    stretch,
  };
}

/** How the load went, as the adaptive TTL needs it. */
export interface LoadSignal {
  /** The value the load answered. */
  value: unknown;
  /** What the cache held before (any state), or undefined. */
  previous: Envelope | undefined;
  /** The loader answered ctx.notModified(). */
  notModified: boolean;
  /** The call's TTL (ms; 0 = none): a key's first TTL, clamped into [min, max]. */
  ttl: number;
  /** How long the load took (ms, cache clock). */
  durationMs: number;
  /** Loads running in the cache view, this one included. */
  inFlight: number;
  /** The cache's clock now (ms). */
  now: number;
}

/** The TTL to write now and the state to keep with the entry. */
export interface AdaptiveDecision {
  /** TTL to write, ms (the adapted TTL, stretched when under load). */
  ttl: number;
  state: AdaptiveState;
  /** Whether the value differs from the previous one (undefined on a first load). */
  changed: boolean | undefined;
}

/** Decides a load's TTL from the previous entry and the new value (see the essay above). */
export function adaptTtl(config: ResolvedAdaptiveTtl, load: LoadSignal): AdaptiveDecision {
  const { previous } = load;
  const initial = clamp(load.ttl > 0 ? load.ttl : config.min, config);
  let base = initial;
  let changed: boolean | undefined;
  let hash: number | undefined;
  if (load.notModified && previous !== undefined) {
    changed = false;
    hash = previous.adaptive?.hash;
  } else {
    if (config.equals === undefined) hash = valueHash(load.value);
    if (previous !== undefined) changed = differs(config, previous, load.value, hash);
  }
  const state: AdaptiveState = { ttl: base };
  if (previous !== undefined) {
    const held = previous.adaptive;
    const before = held?.ttl ?? initial;
    // The change-rate estimate: time observed and changes seen, each decayed per refresh.
    const seen = (held?.seen ?? 0) * DECAY + Math.max(0, load.now - previous.createdAt);
    const changes = (held?.changes ?? 0) * DECAY + (changed === true ? 1 : 0);
    state.seen = Math.round(seen);
    state.changes = Math.round(changes * 1000) / 1000;
    const target = changes > 0 ? Math.sqrt((seen / changes) * config.min) : Infinity;
    // A change never lengthens the TTL; no change never shortens it, and grows it by `factor` at most.
    base =
      changed === true ? Math.min(before, target) : Math.min(before * config.grow, Math.max(before, target));
    base = clamp(base, config);
  }
  state.ttl = base;
  if (hash !== undefined) state.hash = hash;
  const loaded = load.durationMs > config.loadLatency || load.inFlight >= config.loadInFlight;
  const ttl = loaded ? Math.min(config.max, Math.round(base * config.stretch)) : base;
  return { ttl, state, changed };
}

/** Weight of the past per refresh in the change-rate estimate: about the last ten refreshes count. */
const DECAY = 0.9;

function clamp(ttl: number, config: ResolvedAdaptiveTtl): number {
  return Math.round(Math.min(config.max, Math.max(config.min, ttl)));
}

function differs(
  config: ResolvedAdaptiveTtl,
  previous: Envelope,
  value: unknown,
  hash: number | undefined,
): boolean {
  if (config.equals !== undefined) {
    try {
      return config.equals(previous.value, value) !== true;
    } catch {
      return true; // a comparison that fails cannot vouch for the value: treat it as changed
    }
  }
  if (hash === undefined) return true;
  const before = previous.adaptive?.hash ?? valueHash(previous.value);
  return before !== hash;
}

/**
 * A 53-bit fingerprint of a value's JSON form (undefined when it cannot be serialised). Two 32-bit
 * FNV-1a style lanes with different primes, each finished by an avalanche step, joined into one safe
 * integer: stable across processes (L2 carries it), and a collision between two successive values of
 * one key is about 1 in 2^53.
 */
export function valueHash(value: unknown): number | undefined {
  let text: string | undefined;
  try {
    text = value === undefined ? '\u0000undefined' : JSON.stringify(value, spellOut);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined; // a function or symbol: nothing to compare
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a = avalanche(a) >>> 0;
  b = avalanche(b ^ a) >>> 0;
  return (b & 0x1fffff) * 0x100000000 + a;
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// JSON.stringify writes a Map or Set as `{}`; spelt out here so their contents count.
function spellOut(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return { '\u0000map': [...value] };
  if (value instanceof Set) return { '\u0000set': [...value] };
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { '\u0000bytes': Buffer.from(bytes).toString('base64') };
  }
  return value;
}
