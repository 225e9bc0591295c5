/**
 * The data plane's shapes: a queue (Kamailio's mqueue) and a table (its htable), held in shared
 * memory for the host thread and every worker thread. `ctx.queue(name)` / `ctx.table(name)`
 * in a route, `pt.queue(name)` / `pt.table(name)` in the host. Declared here, implemented by
 * the runtime.
 */

/** A value a queue holds: given back as it was given (a string stays a string, bytes stay bytes). */
export type QueueValue = string | Uint8Array;

/** An item taken from a queue. */
export interface QueueItem {
  key: string | undefined;
  value: QueueValue;
}

/** A bounded FIFO queue, as mqueue's. */
export interface Queue {
  /** Adds an item (with an optional key, for `remove` and for addmode 1 and 2); false when the queue is full. */
  push(value: QueueValue, key?: string): boolean;
  /** Takes up to `n` items (default 1), oldest first. A timer with `limit=N/W` is held to it here. */
  take(n?: number): QueueItem[];
  /** Items held now. */
  readonly size: number;
  /** Removes every item with this key; gives back how many. */
  remove(key: string): number;
  /** Removes every item. */
  clear(): void;
}

/** A value a table holds. */
export type TableValue = string | number;

/** A key-value table, as htable's. */
export interface Table {
  get(key: string): TableValue | undefined;
  /** `expires`: seconds until the entry goes (default: the table's autoexpire; 0 never). */
  set(key: string, value: TableValue, options?: { expires?: number }): void;
  has(key: string): boolean;
  /** True when there was an entry to delete. */
  delete(key: string): boolean;
  /** Entries held now. */
  readonly size: number;
  keys(): string[];
}
