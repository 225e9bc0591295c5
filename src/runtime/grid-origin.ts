/**
 * One grid origin per timer, shared by all its workers on every thread.
 *
 * A BigInt64 word in a SharedArrayBuffer the main thread owns (so it outlives any thread):
 * 0 until the timer's first worker enters its loop, which sets it with compareExchange; every
 * other worker, and every worker sent back to start or restarted after a crash, reads the
 * same value and joins the grid at its next point.
 *
 * The origin is rounded up to a multiple of ORIGIN_QUANTUM_NS: timers that start together
 * then share deadlines, and a thread hosting many of them wakes once for the lot instead of
 * once for each (the first run comes at most that much later than "right after start").
 */
export const ORIGIN_QUANTUM_NS = 100_000;

export function allocateOrigin(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/** The `origin` function of a timer's machines: fixes the origin at the first call, then returns it. */
export function gridOrigin(buffer: SharedArrayBuffer): (now: number) => number {
  const word = new BigInt64Array(buffer);
  return (now) => {
    const set = Atomics.load(word, 0);
    if (set !== 0n) return Number(set);
    const proposed = BigInt(Math.ceil(Math.max(1, now) / ORIGIN_QUANTUM_NS) * ORIGIN_QUANTUM_NS);
    const previous = Atomics.compareExchange(word, 0, 0n, proposed);
    return Number(previous === 0n ? proposed : previous);
  };
}
