/**
 * A scheduler thread's doorbell: two Int32 words in a SharedArrayBuffer.
 *
 * RING changes whenever the thread should look again (a message was posted to it, or one of
 * its async routes settled); the thread sleeps on it with Atomics.wait / waitAsync, so a ring
 * cuts any sleep short. SENT counts messages posted to the thread, so the thread knows how
 * many to take from its port even if one is not visible yet when it looks. SENT is an Int32
 * that wraps after 2^31 messages, so the thread counts what it took the same way
 * (`Doorbell.count`) and compares the two as Int32s: they match for ever, not only until the
 * first wrap (after which every poll would spin its whole budget looking for messages).
 */
const RING = 0;
const SENT = 1;

export class Doorbell {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.words = new Int32Array(buffer);
  }

  static readonly RING = RING;

  /** Thread: its count of messages taken, one more, wrapping as SENT wraps. */
  static count(taken: number): number {
    return (taken + 1) | 0;
  }

  /** Main thread: a message was posted to the thread. */
  posted(): void {
    Atomics.add(this.words, SENT, 1);
    this.ring();
  }

  ring(): void {
    Atomics.add(this.words, RING, 1);
    Atomics.notify(this.words, RING);
  }

  get rung(): number {
    return Atomics.load(this.words, RING);
  }

  get sent(): number {
    return Atomics.load(this.words, SENT);
  }
}
