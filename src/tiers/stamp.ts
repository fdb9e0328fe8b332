// Write stamps: every value the shared tier stores in L2 starts with a fixed-width header carrying its
// stamp, so the store can order writes of one key by itself (TierDriver.setIfNewer) in one atomic step.
//
// A stamp is the time the write began, in ms × 1000 plus a per-tier sequence number, so two writes of
// one instance in the same millisecond are still ordered (16 decimal digits hold ms times until the
// year 2286). "Began" matters for getOrSet: its stamp is taken when the load starts, before the L2 read
// that missed, so a load that started before a write can never store its result on top of that write.
// Stamps of different hosts compare by their wall clocks: clock skew between hosts is the bound on how
// far a write can be overtaken (a host whose clock is S ms ahead can overwrite writes up to S ms newer).
import { STAMP_TOMBSTONE, STAMP_VALUE, STAMP_WIDTH, stampKindOf, stampOf } from './driver.js';
import type { DriverValue } from './driver.js';

/** Stamp units per millisecond (the sub-millisecond part is a sequence number). */
export const STAMP_PER_MS = 1000;

/** The millisecond a stamp falls in (what it is compared with tag and fence times in). */
export function stampMs(stamp: number): number {
  return Math.floor(stamp / STAMP_PER_MS);
}

/** Strictly increasing stamps from a millisecond clock. */
export class StampClock {
  readonly #clock: () => number;
  #last = 0;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** A stamp later than every one this clock gave before, in the current millisecond when it can. */
  next(): number {
    const now = Math.floor(this.#clock()) * STAMP_PER_MS;
    this.#last = now > this.#last ? now : this.#last + 1;
    return this.#last;
  }
}

const VALUE_BYTE = STAMP_VALUE.charCodeAt(0);

/** Stamps below this fit the header (STAMP_WIDTH digits). */
const STAMP_LIMIT = 10 ** STAMP_WIDTH;

/** `body` behind the header of `stamp` (a tombstone when `body` is undefined). */
export function frame(stamp: number, body?: DriverValue): DriverValue {
  if (body !== undefined && typeof body !== 'string' && Number.isSafeInteger(stamp) && stamp >= 0) {
    if (stamp >= STAMP_LIMIT) throw new RangeError(`stamp ${stamp} does not fit ${STAMP_WIDTH} digits`);
    // One allocation (from the pool for small values), digits written in place: every binary L2
    // write passes here.
    const framed = Buffer.allocUnsafe(STAMP_WIDTH + 1 + body.length);
    let rest = stamp;
    for (let i = STAMP_WIDTH - 1; i >= 0; i--) {
      const next = Math.floor(rest / 10);
      framed[i] = 48 + (rest - next * 10);
      rest = next;
    }
    framed[STAMP_WIDTH] = VALUE_BYTE;
    framed.set(body, STAMP_WIDTH + 1);
    return framed;
  }
  const header = String(stamp).padStart(STAMP_WIDTH, '0');
  if (header.length !== STAMP_WIDTH)
    throw new RangeError(`stamp ${stamp} does not fit ${STAMP_WIDTH} digits`);
  if (body === undefined) return header + STAMP_TOMBSTONE;
  if (typeof body === 'string') return header + STAMP_VALUE + body;
  return Buffer.concat([Buffer.from(header + STAMP_VALUE, 'latin1'), body]);
}

/** A stored value split: its stamp (undefined for data written without one), and its body or tombstone. */
export type Unframed =
  { stamp: number | undefined; tombstone: false; body: DriverValue } | { stamp: number; tombstone: true };

/** Splits what L2 holds; data without a header (an older Larder's) is a body without a stamp. */
export function unframe(raw: DriverValue): Unframed {
  const head = stampOf(raw);
  const kind = head === undefined ? undefined : stampKindOf(raw);
  if (head === undefined || (kind !== STAMP_VALUE && kind !== STAMP_TOMBSTONE))
    return { stamp: undefined, tombstone: false, body: raw };
  const stamp = Number(head);
  if (kind === STAMP_TOMBSTONE) return { stamp, tombstone: true };
  const body = typeof raw === 'string' ? raw.slice(STAMP_WIDTH + 1) : raw.subarray(STAMP_WIDTH + 1);
  return { stamp, tombstone: false, body };
}

/** The stamp of a fence at `at` ms: the end of that millisecond, so values stamped within it are older. */
export function fenceStamp(at: number): number {
  return (Math.floor(at) + 1) * STAMP_PER_MS - 1;
}
