/**
 * DataPlane: every queue, table and window limiter of one configuration, and the user's `data`,
 * made once in the host thread and attached in every worker thread.
 *
 * `DataPlane.create(resolved, { data })` makes the shared structures from the resolved config
 * (queues, tables, a limiter for each timer with `limit=N/W`, and one for each named `limiter`,
 * which every timer with `limit=NAME` shares: one window for all of them); `handles()` is a plain,
 * structured-cloneable object (SharedArrayBuffers and settings) to pass in workerData;
 * `DataPlane.attach(handles)` in a worker gives the same structures over the same memory.
 *
 * In a route: `queueFor(timer, name)` is `ctx.queue(name)` (the timer's limiter applied to
 * take()), `table(name)` is `ctx.table(name)`, `data` is `ctx.data`. In the host: `queue(name)`
 * is `pt.queue(name)` (no limiter: the host only feeds and inspects). Unknown names are errors
 * that list the names there are.
 *
 * Items a take drops for their age (a queue's `maxage`) go to the host's `pt.queue(name).on('expired')`
 * listeners: in the host directly, from a worker thread through `onExpired` (the thread posts
 * them to the host, which calls `deliverExpired`).
 *
 * Per limiter, a shared counter of the items refused (wanted by a route's take, queued, and not
 * granted by the window) beside the limiter's own count of grants: both for /metrics.
 *
 * `data` is checked at create: it must survive a structured clone (no functions, no class
 * instances' methods) and serialize to at most 64 MiB. Each thread gets its own copy, deeply
 * frozen (plain objects and arrays; Maps, Sets and typed arrays inside stay mutable, but only
 * that thread's copy), so it reads the same in every route and a route cannot change it.
 */
import { serialize } from 'node:v8';
import type { ResolvedConfig, ResolvedLimit, ResolvedLimiter, ResolvedTimer } from '../config/types.js';
import type { Queue, QueueItem, Table, TakeOptions } from './api-types.js';
import { SharedQueue, type ExpiredSink, type SharedQueueHandle } from './shared-queue.js';
import { SharedTable, hrtimeNs, type NsClock, type SharedTableHandle, type TableOptions } from './shared-table.js';
import { TimerQueue } from './timer-queue.js';
import { WindowLimiter, type WindowLimiterHandle } from './window-limiter.js';

/** Largest `data`, serialized. */
export const MAX_DATA_BYTES = 64 * 2 ** 20;

export interface DataPlaneHandles {
  kind: 'ptimer.data';
  queues: SharedQueueHandle[];
  tables: SharedTableHandle[];
  limiters: LimiterHandle[];
  /** Every timer's name, those with a limit or not. */
  timers: string[];
  /** Timer name -> the key of its limiter (timers without a limit are not listed). */
  timerLimiters: Array<[string, string]>;
  data: unknown;
}

/** A limiter as it travels to a thread: its key (`timer:NAME` for a timer's own `N/W`, `limiter:NAME` for a named one), the window, its refusals counter. */
interface LimiterHandle {
  key: string;
  window: WindowLimiterHandle;
  refused: SharedArrayBuffer;
}

/** One limiter's counts, for metrics and `ptimer top`. */
export interface LimiterStats {
  /** The limiter's name, or the timer's for a timer's own `limit=N/W`. */
  name: string;
  kind: 'limiter' | 'timer';
  limit: string;
  /** The timers taking through it. */
  timers: string[];
  granted: number;
  refused: number;
}

/** A window limiter and its shared count of refused items. */
class Limiter {
  private readonly refusedCount: BigInt64Array;
  constructor(
    readonly key: string,
    readonly window: WindowLimiter,
    readonly refusedBuffer = new SharedArrayBuffer(8),
  ) {
    this.refusedCount = new BigInt64Array(refusedBuffer);
  }
  static create(key: string, limit: Pick<ResolvedLimit, 'count' | 'windowNs' | 'text'>): Limiter {
    return new Limiter(key, WindowLimiter.create(key.slice(key.indexOf(':') + 1), limit));
  }
  static attach(h: LimiterHandle): Limiter {
    return new Limiter(h.key, WindowLimiter.attach(h.window), h.refused);
  }
  get handle(): LimiterHandle {
    return { key: this.key, window: this.window.handle, refused: this.refusedBuffer };
  }
  refused(n: number): void {
    Atomics.add(this.refusedCount, 0, BigInt(n));
  }
  get refusedTotal(): number {
    return Number(Atomics.load(this.refusedCount, 0));
  }
  same(limit: Pick<ResolvedLimit, 'count' | 'windowNs'>): boolean {
    return this.window.count === limit.count && this.window.windowNs === limit.windowNs;
  }
}

/** The key of a timer's limiter: its named limiter's, or its own. */
function limiterKey(timer: Pick<ResolvedTimer, 'name' | 'limit'>): string {
  return timer.limit!.limiter !== undefined ? `limiter:${timer.limit!.limiter}` : `timer:${timer.name}`;
}

/**
 * A queue as a limited timer's routes see it: the TimerQueue's take (window-limited), counting
 * what the window refused: items wanted, queued, and not granted.
 */
class CountedQueue implements Queue {
  constructor(
    private readonly inner: TimerQueue,
    private readonly queue: SharedQueue,
    private readonly limiter: Limiter,
  ) {}
  get name(): string {
    return this.queue.name;
  }
  get size(): number {
    return this.queue.size;
  }
  push(value: Parameters<Queue['push']>[0], key?: string): boolean {
    return this.queue.push(value, key);
  }
  take(n = 1, options?: TakeOptions): QueueItem[] {
    const items = this.inner.take(n, options);
    if (items.length < n) {
      const left = this.queue.size;
      if (left > 0) this.limiter.refused(Math.min(n - items.length, left));
    }
    return items;
  }
  remove(key: string): number {
    return this.queue.remove(key);
  }
  clear(): number {
    return this.queue.clear();
  }
}

export interface DataPlaneOptions {
  /** `ctx.data`: the same read-only value in every route. */
  data?: unknown;
  /** Key and value bounds of every table (defaults 256 and 1024 bytes). */
  tables?: TableOptions;
  /** Tests: the clock of table expiry and limiters (ns). */
  clock?: NsClock;
}

function listed(kind: string, names: string[]): string {
  return names.length === 0
    ? `no ${kind}s are configured (the \`${kind}\` parameter defines them)`
    : `the ${kind}s are: ${names.join(', ')}`;
}

export function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value)) return value;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k, seen);
      deepFreeze(v, seen);
    }
  } else if (value instanceof Set) for (const v of value) deepFreeze(v, seen);
  else for (const v of Object.values(value)) deepFreeze(v, seen);
  return Object.freeze(value);
}

/** Whether a value holds a SharedArrayBuffer (or a view on one) anywhere. */
function containsShared(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof SharedArrayBuffer) return true;
  if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer;
  const children =
    value instanceof Map
      ? [...value.keys(), ...value.values()]
      : value instanceof Set
        ? [...value]
        : Object.values(value);
  return children.some((child) => containsShared(child, seen));
}

/** Checks `data` (cloneable, within its byte bound) and returns its copy. */
function checkData(data: unknown): unknown {
  let bytes: number;
  let copy: unknown;
  try {
    copy = structuredClone(data);
    // v8.serialize measures the size, but refuses a SharedArrayBuffer, which threads share rather than copy.
    bytes = containsShared(data) ? 0 : serialize(data).length;
  } catch (e) {
    // eslint-disable-next-line preserve-caught-error -- the message carries the cause's; a cause would repeat it in pino's serialized message
    throw new TypeError(
      `data: cannot be handed to the worker threads: ${(e as Error).message}; it must be structured-cloneable ` +
        '(JSON-like values, Dates, Maps, Sets, typed arrays; no functions or symbols)',
    );
  }
  if (bytes > MAX_DATA_BYTES)
    throw new RangeError(
      `data: ${bytes} bytes serialized; at most ${MAX_DATA_BYTES} (64 MiB): pass large data through a file or a queue`,
    );
  return copy;
}

export class DataPlane {
  /** `ctx.data`: this thread's frozen copy (undefined when none was given). */
  readonly data: unknown;
  private readonly queues = new Map<string, SharedQueue>();
  private readonly tables = new Map<string, SharedTable>();
  /** By key: `timer:NAME` (a timer's own N/W) or `limiter:NAME` (shared). */
  private readonly limiters = new Map<string, Limiter>();
  /** Timer name -> its limiter's key. */
  private readonly timerLimiters = new Map<string, string>();
  private readonly timers: Set<string>;
  /** Per timer, per queue name: the view its routes take through. */
  private readonly timerQueues = new Map<string, Map<string, Queue>>();

  static create(
    resolved: Pick<ResolvedConfig, 'queues' | 'tables' | 'timers'> & { limiters?: ResolvedLimiter[] },
    options: DataPlaneOptions = {},
  ): DataPlane {
    const clock = options.clock ?? hrtimeNs;
    const data = options.data === undefined ? undefined : checkData(options.data);
    const seen = new Set<string>();
    for (const [kind, list] of [
      ['queue', resolved.queues],
      ['table', resolved.tables],
    ] as const) {
      for (const { name } of list) {
        if (seen.has(`${kind}:${name}`))
          throw new Error(`${kind} ${JSON.stringify(name)} is defined twice; each ${kind} needs a name of its own`);
        seen.add(`${kind}:${name}`);
      }
    }
    const queues = resolved.queues.map((q) => SharedQueue.create(q, clock));
    const tables = resolved.tables.map((t) => SharedTable.create(t, options.tables, clock));
    const plane = new DataPlane(queues, tables, [], [], [], data === undefined ? undefined : deepFreeze(data), clock);
    plane.reconcileTimers(resolved.timers, resolved.limiters ?? []);
    return plane;
  }

  /** In a worker thread: the structures made by `create` in the host, from its `handles()`. */
  /** `onExpired`: where this thread's takes hand the items they drop for their age (a worker thread posts them to the host). */
  static attach(handles: DataPlaneHandles, clock: NsClock = hrtimeNs, onExpired: ExpiredSink | null = null): DataPlane {
    if (handles?.kind !== 'ptimer.data')
      throw new TypeError(
        "DataPlane.attach: expected the handles of DataPlane.handles() ({ kind: 'ptimer.data', ... })",
      );
    const queues = handles.queues.map((h) => SharedQueue.attach(h, clock));
    for (const q of queues) q.expiredSink = onExpired;
    return new DataPlane(
      queues,
      handles.tables.map((h) => SharedTable.attach(h, clock)),
      handles.limiters.map((h) => Limiter.attach(h)),
      handles.timerLimiters,
      handles.timers,
      deepFreeze(handles.data),
      clock,
    );
  }

  private constructor(
    queues: SharedQueue[],
    tables: SharedTable[],
    limiters: Limiter[],
    timerLimiters: Array<[string, string]>,
    timers: string[],
    data: unknown,
    private readonly clock: NsClock,
  ) {
    for (const q of queues) this.queues.set(q.name, q);
    for (const t of tables) this.tables.set(t.name, t);
    for (const l of limiters) this.limiters.set(l.key, l);
    for (const [timer, key] of timerLimiters) this.timerLimiters.set(timer, key);
    this.timers = new Set(timers);
    this.data = data;
  }

  /**
   * Supervisor (the host), after thread `deadThreadId` exited: every lock it held is broken and
   * the structure behind it checked or repaired (shared-mutex.ts; each structure's
   * recoverFromDeadThread). Returns what was done, one line each, for the log.
   */
  recoverFromDeadThread(deadThreadId: number): string[] {
    const done: string[] = [];
    for (const q of this.queues.values()) {
      const r = q.recoverFromDeadThread(deadThreadId);
      if (r)
        done.push(
          `queue "${q.name}": lock broken; ${r.consistent ? 'checked, consistent' : `found torn and emptied (${r.lost} items lost)`}`,
        );
    }
    for (const t of this.tables.values()) {
      const r = t.recoverFromDeadThread(deadThreadId);
      if (r) done.push(`table "${t.name}": lock broken; ${r.closedBuckets} bucket(s) left mid-change closed`);
    }
    for (const l of this.limiters.values()) {
      if (l.window.recoverFromDeadThread(deadThreadId, this.clock()))
        done.push(`limiter ${l.key}: lock broken; ring checked, window booked full`);
    }
    return done;
  }

  /**
   * After a reload (in the host): the timers and named limiters are now these. A limiter whose
   * N/W is the same as before is kept, so its window goes on across the reload: a timer's own
   * `limit=N/W`, and a named limiter (which may serve other timers now); a new or changed one
   * gets a new window (its timers' workers start again with the new definition: the window
   * starts empty); one no timer uses is dropped. Threads started afterwards get the new
   * handles(); a thread already running hosts only unchanged timers, whose limiters it has.
   */
  reconcileTimers(
    timers: readonly Pick<ResolvedTimer, 'name' | 'limit'>[],
    limiters: readonly ResolvedLimiter[] = [],
  ): void {
    const next = new Map<string, Limiter>();
    const named = new Map(limiters.map((l) => [l.name, l]));
    this.timerLimiters.clear();
    for (const t of timers) {
      if (!t.limit) continue;
      const key = limiterKey(t);
      const limit = t.limit.limiter !== undefined ? (named.get(t.limit.limiter) ?? t.limit) : t.limit;
      if (!next.has(key)) {
        const kept = this.limiters.get(key);
        next.set(key, kept?.same(limit) ? kept : Limiter.create(key, limit));
      }
      this.timerLimiters.set(t.name, key);
    }
    this.limiters.clear();
    for (const [key, limiter] of next) this.limiters.set(key, limiter);
    this.timers.clear();
    for (const t of timers) this.timers.add(t.name);
    this.timerQueues.clear();
  }

  get queueNames(): string[] {
    return [...this.queues.keys()];
  }

  get tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** The queue itself (the host's view: `pt.queue(name)`). */
  queue(name: string): SharedQueue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`queue ${JSON.stringify(name)} is not configured; ${listed('queue', this.queueNames)}`);
    return q;
  }

  /** A table (`pt.table(name)`, `ctx.table(name)`). */
  table(name: string): SharedTable {
    const t = this.tables.get(name);
    if (!t) throw new Error(`table ${JSON.stringify(name)} is not configured; ${listed('table', this.tableNames)}`);
    return t;
  }

  /** The window limiter a timer takes through (its own `limit=N/W`, or its named limiter's, shared); null for a timer without a limit. */
  limiter(timer: string): WindowLimiter | null {
    return this.limiterOf(timer)?.window ?? null;
  }

  private limiterOf(timer: string): Limiter | null {
    if (!this.timers.has(timer))
      throw new Error(`timer ${JSON.stringify(timer)} is not configured; ${listed('timer', [...this.timers])}`);
    const key = this.timerLimiters.get(timer);
    return key === undefined ? null : (this.limiters.get(key) ?? null);
  }

  /** Every limiter's counts: named limiters first, then timers' own. */
  limiterStats(): LimiterStats[] {
    const users = new Map<string, string[]>();
    for (const [timer, key] of this.timerLimiters) users.set(key, [...(users.get(key) ?? []), timer]);
    const stats = [...this.limiters.values()].map((l) => ({
      name: l.key.slice(l.key.indexOf(':') + 1),
      kind: l.key.startsWith('limiter:') ? ('limiter' as const) : ('timer' as const),
      limit: l.window.text,
      timers: users.get(l.key) ?? [],
      granted: l.window.total,
      refused: l.refusedTotal,
    }));
    return stats.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'limiter' ? -1 : 1));
  }

  /** @internal Items a worker thread's take dropped for their age, posted to the host: to the queue's listeners. */
  deliverExpired(queue: string, items: QueueItem[]): void {
    this.queues.get(queue)?.deliverExpired(items);
  }

  /**
   * `ctx.queue(name)` in a route of `timer`: take() goes through the timer's limiter, if it has
   * one (a take may wait for room in the window: `take(n, { waitNs })`, see timer-queue.ts).
   */
  queueFor(timer: string, name: string): Queue {
    // Called by a route every run: two lookups, nothing built.
    let views = this.timerQueues.get(timer);
    let view = views?.get(name);
    if (!view) {
      const q = this.queue(name);
      const limiter = this.limiterOf(timer);
      view = limiter ? new CountedQueue(new TimerQueue(q, limiter.window, this.clock), q, limiter) : q;
      if (!views) this.timerQueues.set(timer, (views = new Map<string, Queue>()));
      views.set(name, view);
    }
    return view;
  }

  /** Structured-cloneable handles of everything, for workerData. */
  handles(): DataPlaneHandles {
    return {
      kind: 'ptimer.data',
      queues: [...this.queues.values()].map((q) => q.handle),
      tables: [...this.tables.values()].map((t) => t.handle),
      limiters: [...this.limiters.values()].map((l) => l.handle),
      timerLimiters: [...this.timerLimiters],
      timers: [...this.timers],
      data: this.data,
    };
  }
}

export type { Queue, Table };
