/**
 * The data plane as routes and the host see it: `ctx.queue(name)` / `pt.queue(name)` give a
 * Queue, `ctx.table(name)` / `pt.table(name)` a Table. SharedQueue and SharedTable implement
 * these; a timer with `limit=N/W` gets a Queue whose take() goes through its WindowLimiter.
 */
import type { QueueValue } from './bytes.js';
import type { QueueItem, QueueStats } from './shared-queue.js';
import type { TableValue } from './shared-table.js';

export type { QueueValue, QueueItem, QueueStats, TableValue };

export interface TakeOptions {
  /**
   * Under a timer's `limit=N/W`, for a take without `send` (or outside a loop run): when the
   * window refuses part of the items, wait up to this many nanoseconds for room (sleeping, then
   * spinning the last 200 us) instead of returning fewer. Default 0: never wait. Without a limit
   * it changes nothing. A loop run's take with `send` paces itself on the timer's grid instead.
   */
  waitNs?: number;
  /**
   * Called with the items taken, before take() returns. Under a timer's limit it runs while the
   * window is locked, and the items' grants count from when the send returned: send the items
   * here (synchronously), so that no window at the receiver holds more than N, however the
   * worker was preempted. In a loop run such a take is held to the run's deadline plus a guard
   * band, which keeps the releases on the grid through a backlog without drifting later
   * (timer-queue.ts; docs/limits-at-the-receiver.md).
   */
  send?: (items: QueueItem[]) => void;
}

export interface Queue {
  readonly name: string;
  /** Items queued now. */
  readonly size: number;
  /** Queues a value (string or Uint8Array) at the back; false, changing nothing, when full. */
  push(value: QueueValue, key?: string): boolean;
  /** Up to n items from the front, oldest first (fewer under a timer's limit when its window is full). */
  take(n?: number, options?: TakeOptions): QueueItem[];
  /** Removes every item with this key; returns how many. */
  remove(key: string): number;
  /** Drops every item; returns how many there were. */
  clear(): number;
}

/**
 * A queue as the host sees it (`pt.queue(name)`): the Queue, and the items dropped for their age
 * (the queue's `maxage`), wherever a take dropped them: `on('expired', items => ...)`, oldest
 * first, each with its key, value and pushedAt. Without a listener they are only counted.
 */
export interface HostQueue extends Queue {
  on(event: 'expired', listener: (items: QueueItem[]) => void): this;
  off(event: 'expired', listener: (items: QueueItem[]) => void): this;
  /** Size, bytes, bounds, and the items pushed, taken, refused (full) and expired since it was made, by every thread. */
  stats(): QueueStats;
}

export interface Table {
  readonly name: string;
  /** Live entries. */
  readonly size: number;
  get(key: string): TableValue | undefined;
  set(key: string, value: TableValue, options?: { expires?: number }): void;
  has(key: string): boolean;
  delete(key: string): boolean;
  keys(): string[];
}
