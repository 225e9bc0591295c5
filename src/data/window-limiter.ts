/**
 * WindowLimiter: the guarantee behind a timer's `limit=N/W`. Items taken through it never
 * exceed N in any sliding window of length W, across every thread that shares it.
 *
 * How: shared memory holds the recent grants as a ring of (time, count) entries, oldest first,
 * and the sum of their counts. A batch of k grants at time T is allowed when the grants still in
 * the window (T - W, T] plus k are at most N; entries W old or older are dropped from the front
 * first, as no later window can hold them. Then any half-open window [t, t + W) holds at most N
 * grants. Grants at one time share one entry, so an acquire or a take is O(1) however many items
 * it grants, and the memory does not grow with N: the ring has min(N, 8192) entries, and when it
 * is full the newest entry is moved to T and takes the new grants (recording grants later than
 * they were only ever makes later checks stricter, never lets more through). Time never goes
 * backwards: a thread whose T is earlier than the latest time any thread has used (it read its
 * clock before another thread took the lock) is checked and granted at that latest time instead.
 *
 * One mutex guards the ring; every worker of one timer shares it, so contention is between
 * those workers only. `limitedTake` takes from a queue under the limiter's lock, so it records
 * exactly as many grants as items it actually took: a grant never outlives an empty queue, and
 * nothing needs releasing afterwards. The clock can be read inside the lock (pass a function),
 * which keeps the recorded times as close to the take as possible.
 *
 * Where a take with `send` books its grants, and what that costs. A receiver sees a datagram
 * during its send, somewhere between the send's beginning and its return, so "no window of W
 * holds more than N at the receiver" needs each item to begin no earlier than W after the item
 * N before it returned. So the grants of a take with `send` are recorded where the send
 * returned: then no window holds more than N where the items land either, however the thread
 * was preempted in the middle of a send (loopback, or any path whose delay does not vary).
 *
 * The cost, and why it cannot be avoided: with every slot full, item j's N-th successor is due
 * on the grid exactly W after item j *began*, but may begin only W after it *returned*:
 *
 *   slot k      d ── hold ── pin: send [===]  (returned: pin + s)
 *   slot k + 10 d + W ── hold ── pin + W: slot k's grants are s too young: wait s, send [===]
 *   slot k + 20 ...................................... 2s too young: wait 2s ...
 *
 * A chain of full windows drifts later by a send's length s per window, so an exact window at
 * the receiver, the full rate N/W and a lateness that does not grow cannot all hold. This takes
 * exactness and a flat lateness: a run waits for the window at most two guards past its pin
 * (timer-queue.ts), then takes what the window allows and the chain starts over on the grid;
 * a few items in a hundred are released a slot later (measured: timer-queue's unit test and the
 * rate-shaping example).
 *
 * Why not a token bucket: a bucket bounds the average and the burst, not every window; slot k
 * and slot k + 10 of a 100 ms timer fall into one 1 s window whenever the later one runs a
 * microsecond early, which is exactly the overshoot this must prevent.
 */
import { describe } from './bytes.js';
import { SharedMutex } from './shared-mutex.js';
import type { ResolvedLimit } from '../config/types.js';
import { MAX_LIMIT_COUNT } from '../config/limits.js';

/** Largest N of `limit=N/W`: the config's bound (config/limits.ts). */
export { MAX_LIMIT_COUNT } from '../config/limits.js';
/**
 * How far past the instant it slept to a take may wake and still book at that instant: a spin's
 * overshoot. The window's grants may then precede their sends by this much at most.
 */
export const BOOK_AT_TOLERANCE_NS = 20_000;
/** Most (time, count) entries a limiter keeps (fewer when N is smaller). */
export const MAX_LIMIT_ENTRIES = 8192;

/** How a take with send books its grants (timer-queue.ts). */
export interface Booking {
  /** The instant the caller slept to: the check's time if the wake-up was within BOOK_AT_TOLERANCE_NS of it. */
  at?: number;
}

export interface WindowLimiterHandle {
  kind: 'ptimer.limiter';
  /** The timer it belongs to (for errors). */
  timer: string;
  count: number;
  windowNs: number;
  text: string;
  /** Ring entries. */
  entries: number;
  buffer: SharedArrayBuffer;
}

/** Anything with `take(n)` and `size`: a SharedQueue. */
export interface Takeable<T> {
  readonly size: number;
  take(n: number): T[];
}

const MAGIC = 0x704c494d; // 'pLIM'
const LOCK = 0; // 2 words
const HEAD = 2; // ring index of the oldest entry
const LEN = 3; // entries in the ring
const MAGIC_AT = 4;
const HEADER_WORDS = 8;
// Float64 indexes.
const TOTAL_F64 = 4; // grants recorded since creation (bytes 32-39)
const SUM_F64 = 5; // grants in the ring (bytes 40-47)
const FLOOR_F64 = 6; // the latest time any check used: times never go back below it (bytes 48-55)
const RING_F64 = 8; // then `entries` times, then `entries` counts

function bufferBytes(entries: number): number {
  return RING_F64 * 8 + entries * 16;
}

export class WindowLimiter {
  readonly timer: string;
  readonly count: number;
  readonly windowNs: number;
  readonly text: string;
  readonly handle: WindowLimiterHandle;
  /** In this thread: the time (ns) the last acquire or limitedTake recorded its grants at. */
  lastGrantAt = NaN;

  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly mutex: SharedMutex;
  private readonly what: string;
  private readonly entries: number;

  /** `entriesForTests` shrinks the ring, to test what happens when it is full. */
  static create(timer: string, limit: ResolvedLimit, entriesForTests?: number): WindowLimiter {
    const what = `timer ${JSON.stringify(timer)}: limit ${JSON.stringify(limit?.text)}`;
    if (!Number.isInteger(limit?.count) || limit.count < 1 || limit.count > MAX_LIMIT_COUNT)
      throw new RangeError(
        `${what}: the count ${describe(limit?.count)} is not valid; expected an integer from 1 to ${MAX_LIMIT_COUNT}`,
      );
    if (!Number.isInteger(limit.windowNs) || limit.windowNs < 1)
      throw new RangeError(
        `${what}: the window ${describe(limit.windowNs)} ns is not valid; expected a positive integer of nanoseconds`,
      );
    const entries = Math.min(limit.count, entriesForTests ?? MAX_LIMIT_ENTRIES);
    const buffer = new SharedArrayBuffer(bufferBytes(entries));
    new Float64Array(buffer, FLOOR_F64 * 8, 1)[0] = -Infinity;
    Atomics.store(new Int32Array(buffer, 0, HEADER_WORDS), MAGIC_AT, MAGIC);
    return new WindowLimiter({
      kind: 'ptimer.limiter',
      timer,
      count: limit.count,
      windowNs: limit.windowNs,
      text: limit.text,
      entries,
      buffer,
    });
  }

  static attach(handle: WindowLimiterHandle): WindowLimiter {
    if (handle?.kind !== 'ptimer.limiter' || !(handle.buffer instanceof SharedArrayBuffer))
      throw new TypeError(
        `WindowLimiter.attach: expected a limiter handle ({ kind: 'ptimer.limiter', buffer: SharedArrayBuffer, ... }); got ${describe(handle)}`,
      );
    if (
      Atomics.load(new Int32Array(handle.buffer, 0, HEADER_WORDS), MAGIC_AT) !== MAGIC ||
      handle.buffer.byteLength !== bufferBytes(handle.entries)
    )
      throw new TypeError(
        `WindowLimiter.attach: timer ${JSON.stringify(handle.timer)}: the buffer does not match the handle's settings`,
      );
    return new WindowLimiter(handle);
  }

  private constructor(handle: WindowLimiterHandle) {
    this.handle = handle;
    this.timer = handle.timer;
    this.count = handle.count;
    this.windowNs = handle.windowNs;
    this.text = handle.text;
    this.what = `timer ${JSON.stringify(handle.timer)}: limit ${handle.text}`;
    this.entries = handle.entries;
    this.words = new Int32Array(handle.buffer, 0, HEADER_WORDS);
    this.f64 = new Float64Array(handle.buffer);
    this.mutex = new SharedMutex(this.words, LOCK, this.what);
  }

  /**
   * Grants up to `want` items at `now` (ns, or a clock read under the lock) and records them;
   * returns how many were granted.
   */
  acquire(want: number, now: number | (() => number)): number {
    this.checkWant(want, 'acquire');
    if (want === 0) return 0;
    this.mutex.lock();
    try {
      const t = this.timeLocked(now);
      const k = this.allowedLocked(want, t);
      this.recordLocked(k, t);
      return k;
    } finally {
      this.mutex.unlock();
    }
  }

  /** How many could be granted at `now` (ns), recording no grant (time still moves on to `now`). */
  available(now: number, max = this.count): number {
    this.checkWant(max, 'available');
    return this.mutex.with(() => this.allowedLocked(max, this.timeLocked(now)));
  }

  /**
   * The earliest time (ns) at which `k` grants (1..count) could be made if no one else takes
   * any first: when enough of the recorded grants have turned W old. -Infinity: at once. A route
   * denied part of its slice can wait until then (typically microseconds: the spread of
   * lateness between runs).
   */
  availableAt(k = 1): number {
    if (!Number.isInteger(k) || k < 1 || k > this.count)
      throw new RangeError(
        `${this.what}: availableAt: k must be an integer from 1 to ${this.count}; got ${describe(k)}`,
      );
    return this.mutex.with(() => {
      let excess = this.f64[SUM_F64]! + k - this.count;
      if (excess <= 0) return -Infinity;
      const head = this.words[HEAD]!;
      const len = this.words[LEN]!;
      for (let i = 0; i < len; i++) {
        const e = (head + i) % this.entries;
        excess -= this.f64[RING_F64 + this.entries + e]!;
        if (excess <= 0) return this.f64[RING_F64 + e]! + this.windowNs;
      }
      return Infinity; // not reached: the ring's sum is its counts'
    });
  }

  /** Grants recorded since the limiter was made, by every thread. */
  get total(): number {
    return this.mutex.with(() => this.f64[TOTAL_F64]!);
  }

  /** The recorded grants not yet dropped, oldest first, as [time (ns), count]. */
  grants(): Array<[number, number]> {
    return this.mutex.with(() => {
      const out: Array<[number, number]> = [];
      const head = this.words[HEAD]!;
      for (let i = 0, len = this.words[LEN]!; i < len; i++) {
        const e = (head + i) % this.entries;
        out.push([this.f64[RING_F64 + e]!, this.f64[RING_F64 + this.entries + e]!]);
      }
      return out;
    });
  }

  /**
   * @internal limitedTake's body: runs `take(k)` with k allowed and records what it returns, at
   * the time of the check: `now` (a clock function is read under the lock), or `booking.at` when
   * the caller slept to that instant and woke within BOOK_AT_TOLERANCE_NS of it (a window's
   * opening, or a run's pin on its timer's grid: see timer-queue.ts). With `send` (and a clock
   * function), hands the items to it still under the lock, and records the grants where the send
   * returned: no datagram of it can reach a receiver later (the head comment: why, and its cost).
   */
  takeLimited<T>(
    want: number,
    now: number | (() => number),
    take: (k: number) => T[],
    send?: (items: T[]) => void,
    booking?: Booking,
  ): T[] {
    this.checkWant(want, 'take');
    if (want === 0) return [];
    this.mutex.lock();
    try {
      const t = this.timeLocked(now, booking?.at);
      const k = this.allowedLocked(want, t);
      if (k === 0) return [];
      const items = take(k);
      const granted = Math.min(items.length, k);
      if (!send || items.length === 0 || typeof now !== 'function') {
        this.recordLocked(granted, t);
        if (send && items.length > 0) send(items);
        return items;
      }
      try {
        send(items);
      } finally {
        // Taken is taken: recorded even when send throws, where the send returned.
        const at = Math.max(t, now());
        if (at > this.f64[FLOOR_F64]!) this.f64[FLOOR_F64] = at;
        this.recordLocked(granted, at);
      }
      return items;
    } finally {
      this.mutex.unlock();
    }
  }

  /**
   * Supervisor, after thread `deadThreadId` exited: if it died holding this limiter's lock (in
   * a `take(n, { send })`'s send: a process.exit, an out-of-memory, a force), the lock is broken
   * and the ring checked before anyone uses it: its head and length put back in range, its sum
   * recomputed from its entries. The dead send's grants were never recorded and how many of its
   * items left is unknown, so the window is then booked full at `now` (fail closed: the next
   * grants wait up to one window, and the limit is never exceeded). True if the lock was broken.
   */
  recoverFromDeadThread(deadThreadId: number, now: number): boolean {
    if (!this.mutex.breakIfHeldBy(deadThreadId)) return false;
    this.mutex.with(() => {
      const w = this.words;
      const f = this.f64;
      if (!(w[HEAD]! >= 0 && w[HEAD]! < this.entries)) w[HEAD] = 0;
      if (!(w[LEN]! >= 0 && w[LEN]! <= this.entries)) w[LEN] = 0;
      let sum = 0;
      for (let i = 0; i < w[LEN]!; i++) sum += f[RING_F64 + this.entries + ((w[HEAD]! + i) % this.entries)]!;
      f[SUM_F64] = sum;
      const t = this.timeLocked(now);
      const room = this.count - sum;
      if (room > 0) this.recordLocked(room, t);
    });
    return true;
  }

  private checkWant(want: number, op: string): void {
    if (!Number.isInteger(want) || want < 0)
      throw new RangeError(`${this.what}: ${op}: the count wanted must be an integer >= 0; got ${describe(want)}`);
  }

  /**
   * The time a check (and its grants) uses: `now`, or `bookAt` if it is given, finite, not ahead
   * of `now` and at most BOOK_AT_TOLERANCE_NS behind it (an instant the caller slept to: recording
   * there rather than at the wake-up keeps a grid of grants from drifting by each wake-up's
   * lateness; a wake-up later than that books where it is, as its sends begin there). Never below a time
   * already used (entries dropped at that time must stay out of every window) nor below the
   * newest entry (the ring stays in time order).
   */
  private timeLocked(now: number | (() => number), bookAt?: number): number {
    let t = typeof now === 'function' ? now() : now;
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw new TypeError(`${this.what}: the time must be a finite number of nanoseconds; got ${describe(t)}`);
    if (bookAt !== undefined && Number.isFinite(bookAt) && bookAt < t && t - bookAt <= BOOK_AT_TOLERANCE_NS) t = bookAt;
    const floor = this.f64[FLOOR_F64]!;
    const len = this.words[LEN]!;
    const newest = len > 0 ? this.f64[RING_F64 + ((this.words[HEAD]! + len - 1) % this.entries)]! : -Infinity;
    const least = floor > newest ? floor : newest;
    if (t > least) {
      this.f64[FLOOR_F64] = t;
      return t;
    }
    return least;
  }

  /** Drops the entries W old at t, then: how many of `want` fit in the window. */
  private allowedLocked(want: number, t: number): number {
    const w = this.words;
    const f = this.f64;
    const oldEnough = t - this.windowNs;
    let head = w[HEAD]!;
    let len = w[LEN]!;
    let sum = f[SUM_F64]!;
    while (len > 0 && f[RING_F64 + head]! <= oldEnough) {
      sum -= f[RING_F64 + this.entries + head]!;
      head = head + 1 === this.entries ? 0 : head + 1;
      len--;
    }
    w[HEAD] = head;
    w[LEN] = len;
    f[SUM_F64] = sum;
    const room = this.count - sum;
    return want < room ? want : room;
  }

  private recordLocked(k: number, t: number): void {
    this.lastGrantAt = t;
    if (k === 0) return;
    const w = this.words;
    const f = this.f64;
    const len = w[LEN]!;
    const newest = (w[HEAD]! + len - 1) % this.entries;
    if (len > 0 && (f[RING_F64 + newest] === t || len === this.entries)) {
      // Same time, or the ring is full: the newest entry (moved to t) takes them.
      f[RING_F64 + newest] = t;
      f[RING_F64 + this.entries + newest] = f[RING_F64 + this.entries + newest]! + k;
    } else {
      const e = (w[HEAD]! + len) % this.entries;
      f[RING_F64 + e] = t;
      f[RING_F64 + this.entries + e] = k;
      w[LEN] = len + 1;
    }
    f[SUM_F64] = f[SUM_F64]! + k;
    f[TOTAL_F64] = f[TOTAL_F64]! + k;
  }
}

/**
 * Takes up to `n` items from `queue`, at most as many as `limiter` allows at `now`, and records
 * exactly as many grants as items it took. `now` is ns on the monotonic clock, or a clock to read
 * under the limiter's lock. `send`, if given, is called with the items under the lock. `booking`:
 * where the grants go (WindowLimiter.takeLimited).
 */
export function limitedTake<T>(
  queue: Takeable<T>,
  limiter: WindowLimiter,
  n: number,
  now: number | (() => number),
  send?: (items: T[]) => void,
  booking?: Booking,
): T[] {
  if (Number.isInteger(n) && n >= 0 && queue.size === 0) return []; // no lock when there is nothing to take
  return limiter.takeLimited(n, now, (k) => queue.take(k), send, booking);
}
