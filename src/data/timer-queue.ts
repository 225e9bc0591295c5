/**
 * A queue as one timer's routes see it: the shared queue itself, except that take() goes
 * through the timer's WindowLimiter (`limit=N/W`), so everything its workers take stays within
 * N per sliding window W.
 *
 * Full rate, exact at the receiver: `take(n, { send })` in a loop run. The window counts each
 * grant from the instant its send began, so a receiver (whose clock sees a datagram during its
 * send) counts no more than N in any W either; what is left to arrange is that slot k + W/I,
 * due exactly W after slot k, finds slot k's grants gone. Had they been counted from when the
 * send returned, it would find them a send's length too young: each slot would wait that long
 * for the one a window before, and a backlog would drift later by a send per window, without end.
 * So such a take is held to the run's deadline plus a guard band (GridGuard: the timer's recent
 * p99 lateness plus a margin), and its grants are booked at that instant, not at the wake-up:
 *
 *   slot k      deadline d ── run, late by L ≤ G ── hold ── d + G: book, send ──┐
 *   slot k + 10 deadline d + W ─ run, late by L' ─ hold ── d + W + G: slot k's grants are
 *               exactly W old: book, send                                       ┘
 *
 * Every slot's grants sit on the grid shifted by G, so a backlog keeps its lateness (G and the
 * send) however long it lasts, and each slot carries its full share. The price: every release
 * is G late (a millisecond or two, as late as the timer's slowest runs already were), and a
 * run later than d + G books where it is; the slot a window after it may then wait for that
 * instant, up to 2G more, else it takes what the window allows then and the chain starts over
 * on the grid (a few items short, about as often as a run misses its guard). A send that
 * stalls between its datagrams (a preemption) is not covered: the later of its datagrams reach
 * the receiver up to that stall after the grant's instant.
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
import { GridGuard, SEND_LENGTH } from './grid-guard.js';

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
    // Booked at the pin only when the run slept to it: a run past its pin books where it is, as
    // its sends begin there (booking a send earlier than it began would let the window's next
    // run send before this one's W had passed at the receiver).
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
      const more = limitedTake(this.queue, this.limiter, n - items.length, this.clock, send, this.booking(waited ? at : undefined));
      for (const item of more) items.push(item);
      if (more.length === 0 && this.limiter.availableAt(missing) <= at) break;
    }
    this.lastTakeEnded = this.clock();
    return items;
  }

  /** Where a take's grants go: at the instant slept to, later by a send's excess over its usual length. */
  private booking(at: number | undefined): Booking {
    return { at, sendLengthNs: this.sendLength.ns, sent: this.observeSend };
  }

  /** The sends' usual length (their p99): a longer send books its grants later by the excess. */
  readonly sendLength = new GridGuard(SEND_LENGTH);
  private readonly observeSend = (ns: number) => this.sendLength.observe(ns);
  private observedDeadline = NaN;
  private lastTakeEnded = -Infinity;

  remove(key: string): number {
    return this.queue.remove(key);
  }

  clear(): number {
    return this.queue.clear();
  }
}
