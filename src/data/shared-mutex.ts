/**
 * A mutex in shared memory for the host thread and every worker thread: one Int32 word.
 *
 * How: the word is 0 (free), 1 (held) or 2 (held, and someone may be waiting), the futex
 * mutex of Drepper's "Futexes Are Tricky". Taking it is one compare-and-swap when free; under
 * contention a thread spins briefly (critical sections here are a few hundred nanoseconds),
 * then marks the word 2 and sleeps in `Atomics.wait`; the holder wakes one sleeper on release
 * only when the word says one may be asleep, so an uncontended lock/unlock costs two atomic
 * operations and no system call. A second word holds the holder's thread id + 1, for the
 * error below.
 *
 * A holder that dies: a thread terminated while holding the lock (`process.exit` or an
 * out-of-memory in user code run under it, `force`, or `worker.terminate()` anywhere) would
 * leave it taken for ever. The supervisor sees every thread exit (runtime/supervisor.ts) and
 * calls `breakIfHeldBy(thatThreadId)` on every shared structure's mutex: a lock whose holder
 * word names the dead thread is released (sleepers woken), and the structure checks or repairs
 * what it guards before anyone uses it (each structure's `recoverFromDeadThread` says how).
 * Blind spot: a thread terminated between taking the word and writing its id (two adjacent
 * atomic operations), or between clearing its id and releasing the word, leaves a lock held by
 * no one named; the wait bound below still turns that into an error instead of a hang: a wait
 * longer than `timeoutMs` throws an error naming the structure and the thread that held it.
 */
import { threadId } from 'node:worker_threads';

/** Words a mutex occupies in its Int32Array, starting at its `at` index. */
export const MUTEX_WORDS = 2;

/** How long a thread waits for a mutex before giving up with an error (ms). */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

const SPINS = 64;

export class LockTimeoutError extends Error {
  readonly code = 'ELOCKTIMEOUT';
  constructor(what: string, holder: number, timeoutMs: number) {
    const by = holder > 0 ? `thread ${holder - 1}` : 'a thread';
    super(
      `${what}: could not take its lock within ${timeoutMs} ms; it is held by ${by} ` +
        '(its holder may have died in a way that did not name it: restart the process)',
    );
  }
}

export class SharedMutex {
  /**
   * @param words the shared Int32Array
   * @param at index of the lock word (the holder's id is at `at + 1`)
   * @param what names the structure in errors, e.g. `queue "calls"`
   */
  constructor(
    private readonly words: Int32Array,
    private readonly at: number,
    private readonly what: string,
    private readonly timeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
  ) {}

  lock(): void {
    const w = this.words;
    const at = this.at;
    if (Atomics.compareExchange(w, at, 0, 1) !== 0) this.lockSlow();
    Atomics.store(w, at + 1, threadId + 1);
  }

  unlock(): void {
    const w = this.words;
    const at = this.at;
    Atomics.store(w, at + 1, 0);
    if (Atomics.sub(w, at, 1) !== 1) {
      Atomics.store(w, at, 0);
      Atomics.notify(w, at, 1);
    }
  }

  /**
   * Supervisor, after thread `deadThreadId` exited: releases the lock if that thread held it.
   * True if it did (the caller then checks the structure the lock guards).
   */
  breakIfHeldBy(deadThreadId: number): boolean {
    const w = this.words;
    const at = this.at;
    if (Atomics.compareExchange(w, at + 1, deadThreadId + 1, 0) !== deadThreadId + 1) return false;
    Atomics.store(w, at, 0);
    Atomics.notify(w, at);
    return true;
  }

  /** Runs `body` holding the lock. */
  with<T>(body: () => T): T {
    this.lock();
    try {
      return body();
    } finally {
      this.unlock();
    }
  }

  private lockSlow(): void {
    const w = this.words;
    const at = this.at;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(w, at) === 0 && Atomics.compareExchange(w, at, 0, 1) === 0) return;
    }
    const deadline = performance.now() + this.timeoutMs;
    // From here on the word is set to 2 whenever we take it, since others may sleep too.
    while (Atomics.exchange(w, at, 2) !== 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new LockTimeoutError(this.what, Atomics.load(w, at + 1), this.timeoutMs);
      Atomics.wait(w, at, 2, Math.min(left, 100));
    }
  }
}
