// EventHub: a tiny typed emitter for cache events. Emitting must cost ~nothing when nobody listens, so
// callers test `any` (one boolean) before building a payload; listener lists are copy-on-write so a
// listener may add or remove listeners while an event is being delivered.

/** A typed event emitter whose idle cost is one boolean test. */
export class EventHub<Events extends object> {
  /** True when at least one listener is registered for any event. */
  any = false;
  readonly #listeners = new Map<keyof Events, ReadonlyArray<(payload: never) => void>>();

  /** Adds a listener. */
  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    if (typeof listener !== 'function')
      throw new TypeError(`listener for ${String(event)} must be a function`);
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...list, listener as (payload: never) => void]);
    this.any = true;
  }

  /** Removes a listener (the first registration of it). */
  off<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    const index = list.indexOf(listener as (payload: never) => void);
    if (index < 0) return;
    const next = list.filter((_, i) => i !== index);
    if (next.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, next);
    this.any = this.#listeners.size > 0;
  }

  /** Whether anyone listens to `event`. */
  has(event: keyof Events): boolean {
    return this.any && this.#listeners.has(event);
  }

  /** Delivers a payload to every listener of `event`; a throwing listener does not stop the others. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      try {
        (listener as (payload: Events[E]) => void)(payload);
      } catch {
        // A listener's bug must not break the cache operation that emitted the event.
      }
    }
  }

  /** Drops every listener. */
  clear(): void {
    this.#listeners.clear();
    this.any = false;
  }
}
