/**
 * One grid origin per timer, shared by all its workers on every thread.
 *
 * A BigInt64 word in a SharedArrayBuffer the main thread owns (so it outlives any thread):
 * 0 until the timer's first worker enters its loop, which sets it with compareExchange; every
 * other worker, and every worker sent back to start or restarted after a crash, reads the
 * same value and joins the grid at its next point.
 *
 * Where the origin goes: on a multiple of ORIGIN_QUANTUM_NS, at the first such point not yet
 * past that this thread has not already given to SLOT_CAPACITY timers of the same interval.
 * Timers that start together would otherwise share every deadline, and a thread hosting
 * hundreds of them would run them all back to back at one instant (the last one as late as
 * all the others' runs together). Spread over slots, a thread wakes for a few at a time and
 * each run starts close to its deadline. The price: when many timers start at once, a
 * timer's first run may come a few milliseconds after its start route instead of at once
 * (500 timers of one interval on one thread: within 32 ms). Measured on 2 cores (bench/scale.ts):
 * 1 ms steps of 16 took 64 timers at 10 ms from 8.8-11.4 % of a core (100 us steps of 8, where a
 * thread spun from one step to the next) to 6.0 %, with a lower p99.
 */
export const ORIGIN_QUANTUM_NS = 1_000_000;
/** Timers of one interval whose origins one thread puts in the same quantum. */
export const SLOT_CAPACITY = 16;

export function allocateOrigin(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/** A thread's record of the origin slots it has handed out, per interval. */
export class OriginSlots {
  private readonly used = new Map<number, Map<number, number>>();

  /** The first quantum point at or after `now` with room, for a timer of this interval. */
  place(now: number, intervalNs: number): number {
    const slots = Math.max(1, Math.floor(intervalNs / ORIGIN_QUANTUM_NS));
    let counts = this.used.get(intervalNs);
    if (!counts) this.used.set(intervalNs, (counts = new Map<number, number>()));
    const first = Math.ceil(Math.max(1, now) / ORIGIN_QUANTUM_NS);
    let best = first;
    let bestCount = Infinity;
    for (let k = first; k < first + slots; k++) {
      const count = counts.get(k % slots) ?? 0;
      if (count < SLOT_CAPACITY) {
        best = k;
        break;
      }
      if (count < bestCount) [best, bestCount] = [k, count];
    }
    counts.set(best % slots, (counts.get(best % slots) ?? 0) + 1);
    return best * ORIGIN_QUANTUM_NS;
  }

  /** Gives back a slot `place` handed out for an origin that lost the race (another thread set the timer's first). */
  release(origin: number, intervalNs: number): void {
    const slots = Math.max(1, Math.floor(intervalNs / ORIGIN_QUANTUM_NS));
    const counts = this.used.get(intervalNs);
    const k = (origin / ORIGIN_QUANTUM_NS) % slots;
    const count = counts?.get(k) ?? 0;
    if (count > 1) counts!.set(k, count - 1);
    else counts?.delete(k);
  }
}

/** The `origin` function of a timer's machines: fixes the origin at the first call, then returns it. */
export function gridOrigin(buffer: SharedArrayBuffer, intervalNs: number, slots: OriginSlots): (now: number) => number {
  const word = new BigInt64Array(buffer);
  return (now) => {
    const set = Atomics.load(word, 0);
    if (set !== 0n) return Number(set);
    const proposed = BigInt(slots.place(now, intervalNs));
    const previous = Atomics.compareExchange(word, 0, 0n, proposed);
    if (previous === 0n) return Number(proposed);
    slots.release(Number(proposed), intervalNs); // counted only for the winner
    return Number(previous);
  };
}
