/**
 * WindowLimiter: the guarantee behind a timer's `limit=N/W`. Items taken through it never
 * exceed N in any sliding window of length W, across every thread that shares it.
 *
 * How: a ring in shared memory holds the times of the last N grants, oldest first from `head`.
 * A new grant at time T is allowed only if the grant N places back, the one it overwrites in the
 * ring, is at least W old (T - ring[head] >= W): then any half-open window [t, t + W) holds at
 * most N grants. A batch of k grants at T needs the k oldest entries all W old; since the ring is
 * in time order, that is a prefix of it. Grant times never go backwards: a thread whose T is
 * earlier than the newest recorded grant (it read its clock before another thread recorded) is
 * granted at that newest time instead, so the ring stays sorted.
 *
 * One mutex guards the ring; every worker of one timer shares it, so contention is between
 * those workers only. `limitedTake` takes from a queue under the limiter's lock, so it records
 * exactly as many grants as items it actually took: a grant never outlives an empty queue, and
 * nothing needs releasing afterwards. The clock can be read inside the lock (pass a function),
 * which keeps the recorded times as close to the take as possible.
 *
 * Why not a token bucket: a bucket bounds the average and the burst, not every window; slot k
 * and slot k + 10 of a 100 ms timer fall into one 1 s window whenever the later one runs a
 * microsecond early, which is exactly the overshoot this must prevent.
 */
import { describe } from './bytes.js';
import { SharedMutex } from './shared-mutex.js';
import type { ResolvedLimit } from '../config/types.js';

/** Largest N of `limit=N/W`. */
export const MAX_LIMIT_COUNT = 1_000_000;

export interface WindowLimiterHandle {
  kind: 'ptimer.limiter';
  /** The timer it belongs to (for errors). */
  timer: string;
  count: number;
  windowNs: number;
  text: string;
  buffer: SharedArrayBuffer;
}

/** Anything with `take(n)` and `size`: a SharedQueue. */
export interface Takeable<T> {
  readonly size: number;
  take(n: number): T[];
}

const MAGIC = 0x704c494d; // 'pLIM'
const LOCK = 0; // 2 words
const HEAD = 2;
const MAGIC_AT = 3;
const TOTAL_F64 = 2; // float64 index: grants recorded since creation (byte 16)
const RING_F64 = 4; // ring of grant times from byte 32

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

  static create(timer: string, limit: ResolvedLimit): WindowLimiter {
    const what = `timer ${JSON.stringify(timer)}: limit ${JSON.stringify(limit?.text)}`;
    if (!Number.isInteger(limit?.count) || limit.count < 1 || limit.count > MAX_LIMIT_COUNT)
      throw new RangeError(`${what}: the count ${describe(limit?.count)} is not valid; expected an integer from 1 to ${MAX_LIMIT_COUNT}`);
    if (!Number.isInteger(limit.windowNs) || limit.windowNs < 1)
      throw new RangeError(`${what}: the window ${describe(limit.windowNs)} ns is not valid; expected a positive integer of nanoseconds`);
    const buffer = new SharedArrayBuffer(RING_F64 * 8 + limit.count * 8);
    new Float64Array(buffer, RING_F64 * 8).fill(-Infinity);
    Atomics.store(new Int32Array(buffer, 0, 4), MAGIC_AT, MAGIC);
    return new WindowLimiter({ kind: 'ptimer.limiter', timer, count: limit.count, windowNs: limit.windowNs, text: limit.text, buffer });
  }

  static attach(handle: WindowLimiterHandle): WindowLimiter {
    if (handle?.kind !== 'ptimer.limiter' || !(handle.buffer instanceof SharedArrayBuffer))
      throw new TypeError(`WindowLimiter.attach: expected a limiter handle ({ kind: 'ptimer.limiter', buffer: SharedArrayBuffer, ... }); got ${describe(handle)}`);
    if (Atomics.load(new Int32Array(handle.buffer, 0, 4), MAGIC_AT) !== MAGIC || handle.buffer.byteLength !== RING_F64 * 8 + handle.count * 8)
      throw new TypeError(`WindowLimiter.attach: timer ${JSON.stringify(handle.timer)}: the buffer does not match the handle's settings`);
    return new WindowLimiter(handle);
  }

  private constructor(handle: WindowLimiterHandle) {
    this.handle = handle;
    this.timer = handle.timer;
    this.count = handle.count;
    this.windowNs = handle.windowNs;
    this.text = handle.text;
    this.what = `timer ${JSON.stringify(handle.timer)}: limit ${handle.text}`;
    this.words = new Int32Array(handle.buffer, 0, 4);
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

  /** How many could be granted at `now` (ns), recording nothing. */
  available(now: number, max = this.count): number {
    this.checkWant(max, 'available');
    return this.mutex.with(() => this.allowedLocked(max, this.timeLocked(now)));
  }

  /**
   * The earliest time (ns) at which `k` grants (1..count) could be made, if no one else takes
   * any first: the time the k-th oldest recorded grant turns W old. A route denied part of its
   * slice can wait until then (typically microseconds: the spread of lateness between runs).
   */
  availableAt(k = 1): number {
    if (!Number.isInteger(k) || k < 1 || k > this.count) throw new RangeError(`${this.what}: availableAt: k must be an integer from 1 to ${this.count}; got ${describe(k)}`);
    return this.mutex.with(() => this.f64[RING_F64 + ((this.words[HEAD]! + k - 1) % this.count)]! + this.windowNs);
  }

  /** Grants recorded since the limiter was made, by every thread. */
  get total(): number {
    return this.mutex.with(() => this.f64[TOTAL_F64]!);
  }

  /** The recorded grant times (ns), oldest first: the last `count` grants at most. */
  grants(): number[] {
    return this.mutex.with(() => {
      const out: number[] = [];
      const head = this.words[HEAD]!;
      for (let i = 0; i < this.count; i++) {
        const t = this.f64[RING_F64 + ((head + i) % this.count)]!;
        if (t !== -Infinity) out.push(t);
      }
      return out;
    });
  }

  /** @internal limitedTake's body: runs `take(k)` with k allowed at now, records what it returns. */
  takeLimited<T>(want: number, now: number | (() => number), take: (k: number) => T[]): T[] {
    this.checkWant(want, 'take');
    if (want === 0) return [];
    this.mutex.lock();
    try {
      const t = this.timeLocked(now);
      const k = this.allowedLocked(want, t);
      if (k === 0) return [];
      const items = take(k);
      this.recordLocked(Math.min(items.length, k), t);
      return items;
    } finally {
      this.mutex.unlock();
    }
  }

  private checkWant(want: number, op: string): void {
    if (!Number.isInteger(want) || want < 0) throw new RangeError(`${this.what}: ${op}: the count wanted must be an integer >= 0; got ${describe(want)}`);
  }

  private timeLocked(now: number | (() => number)): number {
    const t = typeof now === 'function' ? now() : now;
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`${this.what}: the time must be a finite number of nanoseconds; got ${describe(t)}`);
    const newest = this.f64[RING_F64 + ((this.words[HEAD]! + this.count - 1) % this.count)]!;
    return t > newest ? t : newest;
  }

  private allowedLocked(want: number, t: number): number {
    const n = this.count;
    const head = this.words[HEAD]!;
    const oldEnough = t - this.windowNs;
    const max = want < n ? want : n;
    let k = 0;
    while (k < max && this.f64[RING_F64 + ((head + k) % n)]! <= oldEnough) k++;
    return k;
  }

  private recordLocked(k: number, t: number): void {
    const n = this.count;
    let head = this.words[HEAD]!;
    for (let i = 0; i < k; i++) {
      this.f64[RING_F64 + head] = t;
      head = head + 1 === n ? 0 : head + 1;
    }
    Atomics.store(this.words, HEAD, head);
    this.f64[TOTAL_F64] = this.f64[TOTAL_F64]! + k;
    this.lastGrantAt = t;
  }
}

/**
 * Takes up to `n` items from `queue`, at most as many as `limiter` allows at `now`, and records
 * exactly as many grants as items it took. `now` is ns on the monotonic clock, or a clock to read
 * under the limiter's lock.
 */
export function limitedTake<T>(queue: Takeable<T>, limiter: WindowLimiter, n: number, now: number | (() => number)): T[] {
  if (Number.isInteger(n) && n >= 0 && queue.size === 0) return []; // no lock when there is nothing to take
  return limiter.takeLimited(n, now, (k) => queue.take(k));
}
