/**
 * A queue as one timer's routes see it: the shared queue itself, except that take() goes
 * through the timer's WindowLimiter (`limit=N/W`), so everything its workers take stays within
 * N per sliding window W.
 *
 * Exact at the receiver, on the grid: `take(n, { send })` in a loop run. The window counts each
 * grant from where its send returned, so a receiver (whose clock sees a datagram during its
 * send) counts no more than N in any W either. What is left to arrange is the grid: such a take
 * is held to the run's deadline plus a guard band (GridGuard: the timer's recent p99 lateness
 * plus a margin), so every slot's sends begin on the grid shifted by G, whatever the lateness of
 * the thread's wake-up:
 *
 *   slot k      deadline d ── run, late by L ≤ G ── hold ── d + G: send [==] returned d + G + s
 *   slot k + 10 deadline d + W ── hold ── d + W + G: slot k's grants are s too young:
 *               wait for them (at most two guards past the pin), send; past that bound, take
 *               what the window allows now and start over on the grid
 *
 * A chain of full windows drifts later by a send's length per window (window-limiter.ts: why
 * exactness, full rate and a flat lateness cannot all hold); the bound keeps the lateness flat
 * (G, and up to two guards more) however long a backlog lasts, and costs a few items in a
 * hundred, each released a slot later. A run later than d + G takes at once.
 *
 * Without `send`, or outside a loop run (no deadline), take() takes at once and counts its
 * grants at the take. `waitNs` (per call, `take(n, { waitNs })`, or for the view; default 0:
 * never wait) then lets it wait a little for the window instead of coming back short: if the
 * room the run needs opens within `waitNs`, take() waits for it (sleeping, then spinning the
 * last 200 us) and takes the rest.
 */
import type { Queue, QueueItem, QueueValue, TakeOptions } from './api-types.js';
import { describe } from './bytes.js';
import type { SharedQueue } from './shared-queue.js';
import { hrtimeNs, type NsClock } from './shared-table.js';
import { limitedTake, type Booking, type WindowLimiter } from './window-limiter.js';
import { GridGuard } from './grid-guard.js';

/** Waits until the clock reaches `ns`. */
export type SleepUntil = (ns: number, clock: NsClock) => void;

/**
 * The loop run this thread is in: its deadline (ns, process.hrtime's scale), NaN outside a loop
 * run. The route context sets it before every route (runtime/route-context.ts); one route runs at
 * a time on a thread, so one cell per thread is exact.
 */
export const currentRun = { deadline: NaN };
const runDeadline = (): number => currentRun.deadline;

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
    /** The deadline of the loop run calling take(), NaN outside one. */
    private readonly deadlineOfRun: () => number = runDeadline,
    readonly guard: GridGuard = new GridGuard(),
  ) {
    if (!(waitNs >= 0 && waitNs <= 1e9))
      throw new RangeError(
        `timer ${JSON.stringify(limiter.timer)}: waitNs ${waitNs} is not valid; expected 0 to 1e9 ns`,
      );
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
      throw new RangeError(
        `queue ${JSON.stringify(this.queue.name)}.take: waitNs ${describe(waitNs)} is not valid; expected 0 to 1e9 ns (1 s)`,
      );
    const send = options?.send;
    const runDeadline = send ? this.deadlineOfRun() : NaN;
    if (Number.isFinite(runDeadline)) return this.takeOnGrid(n, send!, runDeadline);
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

  /** A loop run's take with send: held to deadline + guard and booked there (see the head comment). */
  private takeOnGrid(n: number, send: (items: QueueItem[]) => void, deadline: number): QueueItem[] {
    if (!Number.isInteger(n) || n < 0) return limitedTake(this.queue, this.limiter, n, this.clock); // throws the limiter's error
    if (n === 0 || this.queue.size === 0) return [];
    const now = this.clock();
    if (deadline !== this.observedDeadline) {
      // A run's first take measures its lateness; on a thread that hosts two of the timer's
      // workers, the second's run waited for the first's take, which is not its lateness.
      this.observedDeadline = deadline;
      this.guard.observe(now - Math.max(deadline, this.lastTakeEnded));
    }
    const guard = this.guard.ns;
    const pin = deadline + guard;
    // The window is judged at the pin when the run slept to it, else where the run is.
    const held = now < pin;
    if (held) this.sleep(pin, this.clock);
    const items = limitedTake(this.queue, this.limiter, n, this.clock, send, this.booking(held ? pin : undefined));
    // Room still missing (a run before it came later than its guard): wait for the instant the
    // window opens, up to two guards more, and book there; past that, take what there is.
    const bound = pin + 2 * guard;
    while (items.length < n && this.queue.size > 0) {
      const missing = Math.min(n - items.length, this.queue.size, this.limiter.count);
      const at = this.limiter.availableAt(missing);
      if (at > bound) break;
      const waited = this.clock() < at;
      if (waited) this.sleep(at, this.clock);
      const more = limitedTake(
        this.queue,
        this.limiter,
        n - items.length,
        this.clock,
        send,
        this.booking(waited ? at : undefined),
      );
      for (const item of more) items.push(item);
      if (more.length === 0 && this.limiter.availableAt(missing) <= at) break;
    }
    this.lastTakeEnded = this.clock();
    return items;
  }

  /** The window is judged at the instant slept to (its grants are recorded where the send returns). */
  private booking(at: number | undefined): Booking {
    return { at };
  }

  private observedDeadline = NaN;
  private lastTakeEnded = -Infinity;

  remove(key: string): number {
    return this.queue.remove(key);
  }

  clear(): number {
    return this.queue.clear();
  }
}
