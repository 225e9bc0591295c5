/**
 * A queue as one timer's routes see it: the shared queue itself, except that take() goes
 * through the timer's WindowLimiter (`limit=N/W`), so everything its workers take stays within
 * N per sliding window W. The clock is read under the limiter's lock, right before the take.
 */
import type { Queue, QueueItem, QueueValue } from './api-types.js';
import type { SharedQueue } from './shared-queue.js';
import { hrtimeNs, type NsClock } from './shared-table.js';
import { limitedTake, type WindowLimiter } from './window-limiter.js';

export class TimerQueue implements Queue {
  constructor(
    private readonly queue: SharedQueue,
    readonly limiter: WindowLimiter,
    private readonly clock: NsClock = hrtimeNs,
  ) {}

  get name(): string {
    return this.queue.name;
  }

  get size(): number {
    return this.queue.size;
  }

  push(value: QueueValue, key?: string): boolean {
    return this.queue.push(value, key);
  }

  take(n = 1): QueueItem[] {
    return limitedTake(this.queue, this.limiter, n, this.clock);
  }

  remove(key: string): number {
    return this.queue.remove(key);
  }

  clear(): number {
    return this.queue.clear();
  }
}
