/**
 * A scheduler thread's doorbell: two Int32 words in a SharedArrayBuffer.
 *
 * RING changes whenever the thread should look again (a message was posted to it, or one of
 * its async routes settled); the thread sleeps on it with Atomics.wait / waitAsync, so a ring
 * cuts any sleep short. SENT counts messages posted to the thread, so the thread knows how
 * many to take from its port even if one is not visible yet when it looks.
 */
const RING = 0;
const SENT = 1;

export class Doorbell {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.words = new Int32Array(buffer);
  }

  static readonly RING = RING;

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
