/**
 * A queue as one timer's routes see it: the shared queue itself, except that take() goes
 * through the timer's WindowLimiter (`limit=N/W`), so everything its workers take stays within
 * N per sliding window W. The clock is read under the limiter's lock, right before the take.
 *
 * `waitNs` (per call, `take(n, { waitNs })`, or for the view; default 0: never wait) lets take()
 * wait a little for the window instead of coming back short. On an exact grid, slot k + 10 of a 100 ms timer is due exactly 1 s after slot k,
 * but it runs a few microseconds "earlier" whenever its lateness is smaller than slot k's; the
 * grants of slot k are then not yet 1 s old and the window refuses them. If the room the run
 * needs opens within `waitNs`, take() waits for it (sleeping, then spinning the last 200 us) and
 * takes the rest, so each run still carries its share and the throughput stays at N per W.
 */
import type { Queue, QueueItem, QueueValue, TakeOptions } from './api-types.js';
import { describe } from './bytes.js';
import type { SharedQueue } from './shared-queue.js';
import { hrtimeNs, type NsClock } from './shared-table.js';
import { limitedTake, type WindowLimiter } from './window-limiter.js';

/** Waits until the clock reaches `ns`. */
export type SleepUntil = (ns: number, clock: NsClock) => void;

const nap = new Int32Array(new SharedArrayBuffer(4));

export const sleepUntil: SleepUntil = (ns, clock) => {
  for (let left = ns - clock(); left > 0; left = ns - clock()) {
    if (left > 300_000) Atomics.wait(nap, 0, 0, (left - 200_000) / 1e6);
  }
};

export class TimerQueue implements Queue {
  constructor(
    private readonly queue: SharedQueue,
    readonly limiter: WindowLimiter,
    private readonly clock: NsClock = hrtimeNs,
    /** How long take() may wait for room in the window (ns); 0: never. */
    readonly waitNs = 0,
    private readonly sleep: SleepUntil = sleepUntil,
  ) {
    if (!(waitNs >= 0 && waitNs <= 1e9)) throw new RangeError(`timer ${JSON.stringify(limiter.timer)}: waitNs ${waitNs} is not valid; expected 0 to 1e9 ns`);
  }

  get name(): string {
    return this.queue.name;
  }

  get size(): number {
    return this.queue.size;
  }

  push(value: QueueValue, key?: string): boolean {
    return this.queue.push(value, key);
  }

  take(n = 1, options?: TakeOptions): QueueItem[] {
    const waitNs = options?.waitNs ?? this.waitNs;
    if (typeof waitNs !== 'number' || !(waitNs >= 0 && waitNs <= 1e9))
      throw new RangeError(`queue ${JSON.stringify(this.queue.name)}.take: waitNs ${describe(waitNs)} is not valid; expected 0 to 1e9 ns (1 s)`);
    const send = options?.send;
    const items = limitedTake(this.queue, this.limiter, n, this.clock, send);
    if (waitNs === 0) return items;
    // Wait for the room still missing, again if another worker took it first, within waitNs in all.
    const deadline = this.clock() + waitNs;
    while (items.length < n && this.queue.size > 0) {
      const missing = Math.min(n - items.length, this.queue.size, this.limiter.count);
      const at = this.limiter.availableAt(missing);
      if (at > deadline) break;
      this.sleep(at, this.clock);
      const more = limitedTake(this.queue, this.limiter, n - items.length, this.clock, send);
      for (const item of more) items.push(item);
      if (more.length === 0 && this.limiter.availableAt(missing) <= at) break; // nothing came free: do not spin
    }
    return items;
  }

  remove(key: string): number {
    return this.queue.remove(key);
  }

  clear(): number {
    return this.queue.clear();
  }
}
