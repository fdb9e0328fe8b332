// The result sink: every benchmark kernel returns a number derived from what the cache answered, and
// it is added here, so the optimiser cannot drop the work as dead code.

/** Global accumulator; read once at the end of a run so its value is observably used. */
export const sink = { value: 0 };

/** Adds a kernel's result to the sink and returns it unchanged. */
export function consume(result: number): number {
  sink.value += result;
  return result;
}
