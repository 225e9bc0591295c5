/**
 * Sleeping to a deadline as precisely as a normal thread can, and waking at once for a command.
 *
 * A sleep has three stretches:
 * 1. Far from the deadline (over 20 ms): Atomics.waitAsync on the command word. The thread's
 *    event loop keeps running (async routes, sockets, timers), and a command resolves the wait.
 * 2. If there is room and the event loop has not had a turn for about 2 ms, one turn
 *    (setImmediate), so that even at 1 ms intervals I/O callbacks get their turn between runs.
 * 3. Near the deadline: Atomics.wait (blocking, also cut short by a command) until `spin`
 *    before the deadline, then a busy-wait on the clock for the rest. The kernel wakes a
 *    sleeping thread tens of microseconds late; the spin absorbs that.
 *
 * With spin 'auto' the spin follows the p60 of the measured wake-up lateness (plus a small
 * margin, capped), so its CPU cost stays about (spin - typical lateness) / interval. Why p60:
 * about two runs in three then begin on their deadline, which keeps the median at the
 * deadline, and every point above costs spin. From the wake-ups of a thread sleeping to a 1 ms
 * grid on a 2-core VM (timer slack 1 ns; three runs of 5000, wake-up lateness p50 47-50 us),
 * the mean spin per run would be 10-11 us at p60 + 3 us, 14-18 us at p75 + 3 us (the quantile
 * used before), 7-8 us at p50 + 3 us (too close: half the runs late).
 *
 * The spin must not feed on contention: when the CPU is oversubscribed the kernel wakes
 * threads late because they wait for a core, not because of timer slack, and spinning longer
 * only takes more of the core the others wait for. So when the typical lateness (the p60)
 * is beyond what the cap can absorb, the spin backs off to its floor instead of sitting at
 * the cap; it climbs again as soon as wake-ups are quick.
 *
 * One sleeper serves a whole scheduler thread: it sleeps on the thread's doorbell word (which
 * a command, or an async route's completion, rings) and spins with the spin setting of the
 * worker whose deadline is next.
 */
// The module binding, not the global: Node defines globalThis.performance as a lazy getter with a
// brand check, which every clock read (and every turn of the spin) would go through: 53-60 ns a
// call against 43-47 ns in a worker thread (5e6 calls, three rounds).
import { performance } from 'node:perf_hooks';
import { QuantileTracker } from '../core/quantile-tracker.js';
import type { ResolvedSpin } from '../config/types.js';

/**
 * Sleeps longer than ASYNC_ABOVE_NS go through the event loop (stretch 1), up to
 * ASYNC_HEADROOM_NS before the deadline, since waitAsync's timer is coarse. Shorter ones block:
 * measured on a 2-core VM at 10 ms, an asynchronous wait followed by a blocking one cost the
 * thread 80 us of CPU per period, a blocking wait alone 47 us.
 */
const ASYNC_ABOVE_NS = 20_000_000;
const ASYNC_HEADROOM_NS = 3_000_000;
/** Room needed before the last stretch to give the event loop a turn (stretch 2). */
const TURN_ROOM_NS = 50_000;
/** Turns closer together than this are skipped: each costs a few microseconds of CPU. */
const MIN_TURN_GAP_NS = 1_900_000;
/** However busy the schedule, the event loop gets a turn at least this often. */
const MAX_TURN_GAP_NS = 10_000_000;
const SPIN_MARGIN_NS = 3_000;
/** The quantile of wake-up lateness the auto spin follows (see above). */
const SPIN_QUANTILE = 0.6;

function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class PreciseSleeper {
  private readonly wakeLateness = new QuantileTracker(SPIN_QUANTILE, 1_000, 50_000);
  /** The deadline for which the event loop already had its turn. */
  private turnTakenFor = -1;
  private lastTurnAt: number;
  /** The spin of the last sleep, for list(). */
  lastSpinNs = 0;

  /** The engine clock: performance.now() in ns, plus `offsetNs` (measured in thread-main.ts). */
  readonly now: () => number;

  constructor(
    private readonly commandWords: Int32Array,
    private readonly commandIndex: number,
    private readonly offsetNs: number,
  ) {
    this.now = () => performance.now() * 1e6 + offsetNs;
    this.lastTurnAt = this.now();
  }

  /** The spin in ns for a deadline of a worker with this spin setting. */
  spinNs(spin: ResolvedSpin): number {
    if (spin.mode === 'fixed') return spin.ns;
    const wanted = this.wakeLateness.value + SPIN_MARGIN_NS;
    return wanted > spin.capNs ? SPIN_MARGIN_NS : wanted; // contention: back off, do not chase it
  }

  /**
   * Sleep towards `until` unless the doorbell moves away from `seen`. Returns true once
   * `until` has come, false when the doorbell rang first, a promise after an asynchronous
   * stretch (call again).
   */
  sleep(until: number, spinSetting: ResolvedSpin, seen: number, now = this.now()): boolean | Promise<void> {
    const spin = (this.lastSpinNs = this.spinNs(spinSetting));
    const remaining = until - now;
    if (remaining - spin > ASYNC_ABOVE_NS) {
      this.turnTakenFor = until; // waitAsync lets the event loop run: that is its turn
      return this.waitAsync(seen, (remaining - spin - ASYNC_HEADROOM_NS) / 1e6);
    }
    if (this.turnTakenFor !== until && remaining - spin > TURN_ROOM_NS && now - this.lastTurnAt > MIN_TURN_GAP_NS) {
      this.turnTakenFor = until;
      return this.turn();
    }
    return this.finish(until, spin, seen, now);
  }

  /** A turn of the event loop if it has not had one for MAX_TURN_GAP_NS. */
  breathe(): void | Promise<void> {
    if (this.now() - this.lastTurnAt > MAX_TURN_GAP_NS) return this.turn();
  }

  /** Paused: resolves when the command word moves away from `seen`. */
  async waitForCommand(seen: number): Promise<void> {
    const waiting = Atomics.waitAsync(this.commandWords, this.commandIndex, seen);
    if (waiting.async) await waiting.value;
    this.lastTurnAt = this.now();
  }

  private async waitAsync(seen: number, timeoutMs: number): Promise<void> {
    const waiting = Atomics.waitAsync(this.commandWords, this.commandIndex, seen, timeoutMs);
    if (waiting.async) await waiting.value;
    this.lastTurnAt = this.now();
  }

  private async turn(): Promise<void> {
    await eventLoopTurn();
    this.lastTurnAt = this.now();
  }

  /** The last stretch, synchronous: a blocking wait, then the spin. */
  private finish(until: number, spin: number, seen: number, now: number): boolean {
    const words = this.commandWords;
    const index = this.commandIndex;
    const wakeAt = until - spin;
    let t = now;
    if (wakeAt > t) {
      if (Atomics.wait(words, index, seen, (wakeAt - t) / 1e6) !== 'timed-out') return false;
      t = this.now();
      this.wakeLateness.add(t - wakeAt);
    }
    // The spin reads performance.now() directly, in ms: a call through the injected clock
    // made each turn of this loop several times slower right after a long sleep.
    const untilMs = (until - this.offsetNs) / 1e6;
    while (performance.now() < untilMs) {
      if (Atomics.load(words, index) !== seen) return false;
    }
    return true;
  }
}
