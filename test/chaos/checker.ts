// The coherence checker of the chaos test: a history of acknowledged writes, value producers (sets and
// loader calls), reads and outages, and the rule that decides which reads served a value a write had
// already removed or replaced. Pure (no processes, no clock), so its rule is unit-tested on its own.
//
// Model. Every value is `{ key, version }`; versions come from one counter in the controller, handed out
// when a set is issued or when a loader call reaches the controller, so each version has one producer.
// Each key has fixed tags and belongs to one pattern group, so which keys a tag or pattern invalidation
// reaches is exact. All times are the controller's `performance.now()`, taken so that they err on the
// safe side: `issuedAt` before the request is sent (≤ the true start), `ackedAt` when the reply arrives
// (≥ the true completion), a loader's `observedAt` when its request arrives (≥ the loader's true start).
//
// Definition (a violation). A read R of key k, on logical instance I (an instance killed and started
// again on its snapshot dir stays the same logical instance), that returned version v made by producer P,
// is a violation when there is a write W reaching k with `W.ackedAt < R.startedAt` such that W
// *definitely* supersedes P:
//   - P is a set whose promise resolved before W was issued (`P.ackedAt < W.issuedAt`), or
//   - P is a loader call that had started before W was issued (`P.observedAt < W.issuedAt`): the contract
//     says a write detaches loads in flight, so such a load's value may reach callers already waiting
//     but is never stored nor handed to a caller that started after the write resolved;
// and R is not within the bound:
//   - W was made on I: no allowance at all (read-your-writes, across restarts of I too);
//   - W was made on another instance: allowed while `R.startedAt < deadline(W)`, where deadline(W) starts
//     at `W.ackedAt + OTHER_INSTANCE_LAG_MS` and is pushed to `end + OTHER_INSTANCE_LAG_MS` by every
//     interval during which W may not be deliverable (Redis down or paused, or W's own instance down,
//     whose outbox is replayed at its next start) that begins before the current deadline and ends
//     after W.ackedAt.
// Reads returning `undefined` are never violations (a cache may always miss). A read concurrent with a
// write (R started before W's reply arrived) may return either value. Writes that were never acknowledged
// (the instance was killed, the call failed) constrain nothing; a value they stored is like a concurrent
// write. A value whose `key` is not the key read is always a violation (`wrong-key`).
//
// Kinds. `same-instance` and `other-instance` name where R ran relative to W. `racing-load` is split out:
// P was a load on an instance other than W's whose getOrSet was still unanswered when W was issued, so
// it stored a pre-write value after W had run (the classic "stale set" race, only preventable with a
// write stamp the store checks). RACING_LOADS_FAIL says whether the CI test fails on them.

/** How long a read on an instance other than the writer's may still return the old value, ms. */
export const OTHER_INSTANCE_LAG_MS = 1_000;
/** Whether `racing-load` violations fail the CI test (they are always counted and reported). */
export const RACING_LOADS_FAIL = true;

/** What made a version. */
export interface Producer {
  version: number;
  key: string;
  kind: 'set' | 'load';
  /** Logical instance that made it. */
  instance: string;
  /** The operation (set, or the getOrSet whose loader ran). */
  opId: number;
  /** Set: when issued. Load: when the loader's request reached the controller. */
  issuedAt: number;
  /** Set: when its promise resolved; undefined when it never did. */
  ackedAt?: number;
  /** Load: when the getOrSet that ran it was answered; undefined when it never was. */
  settledAt?: number;
}

/** A write that reaches keys: set/delete of one key, tag or pattern invalidation. */
export interface WriteRecord {
  opId: number;
  kind: 'set' | 'delete' | 'tags' | 'pattern';
  instance: string;
  /** The keys it reaches (exact in this model). */
  keys: readonly string[];
  /** The tag or pattern, for reports. */
  target: string;
  /** Version of the value a set wrote. */
  version?: number;
  issuedAt: number;
  ackedAt: number;
}

/** A completed read (get or getOrSet). */
export interface ReadRecord {
  opId: number;
  kind: 'get' | 'getOrSet';
  instance: string;
  key: string;
  startedAt: number;
  endedAt: number;
  /** The value returned, undefined for a miss. */
  value: { key: string; version: number } | undefined;
}

/** A period during which writes may not propagate. */
export interface Outage {
  kind: string;
  /** 'redis', or the instance that was down. */
  subject: string;
  start: number;
  /** When it was reachable again (Infinity when it never came back). */
  end: number;
}

/** Everything the checker reads. */
export interface History {
  producers: Map<number, Producer>;
  writes: WriteRecord[];
  reads: ReadRecord[];
  outages: Outage[];
}

/** One stale (or foreign) read, with what made it one. */
export interface Violation {
  kind: 'same-instance' | 'other-instance' | 'racing-load' | 'wrong-key' | 'unknown-version';
  read: ReadRecord;
  producer?: Producer;
  write?: WriteRecord;
  /** For other-instance violations: until when the read would have been allowed. */
  deadline?: number;
  /** How late the read started after the write's bound (ms). */
  lateBy?: number;
  /** Restarts of the reading instance between the write's ack and the read. */
  readerRestarted: boolean;
  /** Outages between the write's issue and the read's start. */
  outagesBetween: Outage[];
}

/** An empty history. */
export function emptyHistory(): History {
  return { producers: new Map(), writes: [], reads: [], outages: [] };
}

/** True when `write` definitely replaced or removed the value `producer` made. */
export function supersedes(write: WriteRecord, producer: Producer): boolean {
  if (producer.kind === 'set') return producer.ackedAt !== undefined && producer.ackedAt < write.issuedAt;
  return producer.issuedAt < write.issuedAt;
}

/** The latest read start at which another instance may still return what `write` replaced. */
export function deadlineOf(
  write: WriteRecord,
  outages: readonly Outage[],
  lag = OTHER_INSTANCE_LAG_MS,
): number {
  const relevant = outages
    .filter((o) => o.subject === 'redis' || o.subject === write.instance)
    .sort((a, b) => a.start - b.start);
  let deadline = write.ackedAt + lag;
  // Intervals are sorted by start, so one pass pushes the deadline through chained outages.
  for (const outage of relevant) {
    if (outage.start < deadline && outage.end > write.ackedAt)
      deadline = Math.max(deadline, outage.end + lag);
  }
  return deadline;
}

/** Checks every read of the history; violations in the order of the reads' start. */
export function check(history: History, lag = OTHER_INSTANCE_LAG_MS): Violation[] {
  const byKey = new Map<string, WriteRecord[]>();
  for (const write of history.writes) {
    for (const key of write.keys) {
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      list.push(write);
    }
  }
  const deadlines = new Map<WriteRecord, number>();
  const deadline = (write: WriteRecord): number => {
    let d = deadlines.get(write);
    if (d === undefined) deadlines.set(write, (d = deadlineOf(write, history.outages, lag)));
    return d;
  };
  const context = (read: ReadRecord, from: number) => ({
    readerRestarted: history.outages.some(
      (o) => o.subject === read.instance && o.start >= from && o.start < read.startedAt,
    ),
    outagesBetween: history.outages.filter((o) => o.end > from && o.start < read.startedAt),
  });
  const violations: Violation[] = [];
  const reads = [...history.reads].sort((a, b) => a.startedAt - b.startedAt);
  for (const read of reads) {
    const value = read.value;
    if (value === undefined) continue;
    const producer = history.producers.get(value.version);
    if (value.key !== read.key) {
      violations.push({ kind: 'wrong-key', read, producer, ...context(read, read.startedAt) });
      continue;
    }
    if (producer === undefined || producer.key !== read.key) {
      violations.push({ kind: 'unknown-version', read, ...context(read, read.startedAt) });
      continue;
    }
    for (const write of byKey.get(read.key) ?? []) {
      if (!(write.ackedAt < read.startedAt) || !supersedes(write, producer)) continue;
      const racing =
        producer.kind === 'load' &&
        producer.instance !== write.instance &&
        !(producer.settledAt !== undefined && producer.settledAt < write.issuedAt);
      if (write.instance === read.instance) {
        violations.push({
          kind: racing ? 'racing-load' : 'same-instance',
          read,
          producer,
          write,
          lateBy: read.startedAt - write.ackedAt,
          ...context(read, write.ackedAt),
        });
        break;
      }
      const until = deadline(write);
      if (read.startedAt >= until) {
        violations.push({
          kind: racing ? 'racing-load' : 'other-instance',
          read,
          producer,
          write,
          deadline: until,
          lateBy: read.startedAt - until,
          ...context(read, write.issuedAt),
        });
        break;
      }
    }
  }
  return violations;
}

/** A short guess at why a violation happened, to group them in reports (the details are authoritative). */
export function causeOf(v: Violation): string {
  if (v.kind === 'wrong-key' || v.kind === 'unknown-version') return v.kind;
  const kinds = new Set(v.outagesBetween.filter((o) => o.subject === 'redis').map((o) => o.kind));
  if (v.kind === 'racing-load') {
    const where = v.read.instance === v.write?.instance ? 'read on the writer' : 'read elsewhere';
    return `racing load: a load on another instance, in flight during the write, stored its value (${where})`;
  }
  const side = v.kind === 'same-instance' ? 'same instance' : 'other instance';
  if (v.readerRestarted) return `${side}: served from the restored snapshot after a restart`;
  if (v.write !== undefined && v.outagesBetween.some((o) => o.subject === v.write!.instance)) {
    return `${side}: write lost with its instance (killed or closed before it propagated)`;
  }
  const p = v.producer;
  if (
    p?.kind === 'load' &&
    p.instance === v.read.instance &&
    !(p.settledAt !== undefined && p.settledAt <= v.write!.ackedAt)
  ) {
    return `${side}: joined a load that was in flight when the write resolved`;
  }
  if (kinds.has('redis-pause')) return `${side}: after a Redis hang (SIGSTOP)`;
  if (kinds.size > 0) return `${side}: after a Redis outage (${[...kinds].join(', ')})`;
  if (v.producer?.kind === 'load') return `${side}: a load started before the write was served after it`;
  return `${side}: an older set served after the write`;
}

const ms = (t: number | undefined): string => (t === undefined ? '-' : `${(t / 1000).toFixed(3)}s`);

/** One violation as a few readable lines (times in seconds since the run started). */
export function describeViolation(v: Violation): string {
  const r = v.read;
  const lines = [
    `${v.kind}: ${r.kind}(${r.key}) #${r.opId} on ${r.instance} [${ms(r.startedAt)}..${ms(r.endedAt)}] returned version ${r.value?.version}${r.value?.key !== r.key ? ` of key ${r.value?.key}` : ''}`,
  ];
  const p = v.producer;
  if (p !== undefined) {
    lines.push(
      `  made by ${p.kind} #${p.opId} on ${p.instance} (${p.kind === 'load' ? `loader called ${ms(p.issuedAt)}, getOrSet answered ${ms(p.settledAt)}` : `issued ${ms(p.issuedAt)}, acked ${ms(p.ackedAt)}`})`,
    );
  }
  const w = v.write;
  if (w !== undefined) {
    lines.push(
      `  superseded by ${w.kind}(${w.target}) #${w.opId} on ${w.instance} (issued ${ms(w.issuedAt)}, acked ${ms(w.ackedAt)})` +
        (v.deadline !== undefined ? `; bound for other instances ${ms(v.deadline)}` : '') +
        `; read started ${Math.round(v.lateBy ?? 0)} ms past the bound`,
    );
  }
  if (v.readerRestarted)
    lines.push(`  ${r.instance} was restarted in between (value restored from its snapshot?)`);
  if (v.outagesBetween.length > 0) {
    lines.push(
      `  faults in between: ${v.outagesBetween.map((o) => `${o.kind}(${o.subject}) ${ms(o.start)}..${ms(o.end)}`).join(', ')}`,
    );
  }
  return lines.join('\n');
}
