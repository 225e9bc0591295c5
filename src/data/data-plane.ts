/**
 * DataPlane: every queue, table and window limiter of one configuration, and the user's `data`,
 * made once in the host thread and attached in every worker thread.
 *
 * `DataPlane.create(resolved, { data })` makes the shared structures from the resolved config
 * (queues, tables, and a limiter for each timer with `limit=N/W`); `handles()` is a plain,
 * structured-cloneable object (SharedArrayBuffers and settings) to pass in workerData;
 * `DataPlane.attach(handles)` in a worker gives the same structures over the same memory.
 *
 * In a route: `queueFor(timer, name)` is `ctx.queue(name)` (the timer's limiter applied to
 * take()), `table(name)` is `ctx.table(name)`, `data` is `ctx.data`. In the host: `queue(name)`
 * is `pt.queue(name)` (no limiter: the host only feeds and inspects). Unknown names are errors
 * that list the names there are.
 *
 * `data` is checked at create: it must survive a structured clone (no functions, no class
 * instances' methods) and serialize to at most 64 MiB. Each thread gets its own copy, deeply
 * frozen (plain objects and arrays; Maps, Sets and typed arrays inside stay mutable, but only
 * that thread's copy), so it reads the same in every route and a route cannot change it.
 */
import { serialize } from 'node:v8';
import type { ResolvedConfig, ResolvedTimer } from '../config/types.js';
import type { Queue, Table } from './api-types.js';
import { SharedQueue, type SharedQueueHandle } from './shared-queue.js';
import { SharedTable, hrtimeNs, type NsClock, type SharedTableHandle, type TableOptions } from './shared-table.js';
import { TimerQueue } from './timer-queue.js';
import { WindowLimiter, type WindowLimiterHandle } from './window-limiter.js';

/** Largest `data`, serialized. */
export const MAX_DATA_BYTES = 64 * 2 ** 20;

export interface DataPlaneHandles {
  kind: 'ptimer.data';
  queues: SharedQueueHandle[];
  tables: SharedTableHandle[];
  limiters: WindowLimiterHandle[];
  /** Every timer's name, those with a limit or not. */
  timers: string[];
  data: unknown;
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
  return names.length === 0 ? `no ${kind}s are configured (the \`${kind}\` parameter defines them)` : `the ${kind}s are: ${names.join(', ')}`;
}

export function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value)) return value;
  seen.add(value);
  if (value instanceof Map) for (const [k, v] of value) (deepFreeze(k, seen), deepFreeze(v, seen));
  else if (value instanceof Set) for (const v of value) deepFreeze(v, seen);
  else for (const v of Object.values(value)) deepFreeze(v, seen);
  return Object.freeze(value);
}

/** Whether a value holds a SharedArrayBuffer (or a view on one) anywhere. */
function containsShared(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof SharedArrayBuffer) return true;
  if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer;
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
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
    throw new TypeError(
      `data: cannot be handed to the worker threads: ${(e as Error).message}; it must be structured-cloneable ` +
        '(JSON-like values, Dates, Maps, Sets, typed arrays; no functions or symbols)',
    );
  }
  if (bytes > MAX_DATA_BYTES) throw new RangeError(`data: ${bytes} bytes serialized; at most ${MAX_DATA_BYTES} (64 MiB): pass large data through a file or a queue`);
  return copy;
}

export class DataPlane {
  /** `ctx.data`: this thread's frozen copy (undefined when none was given). */
  readonly data: unknown;
  private readonly queues = new Map<string, SharedQueue>();
  private readonly tables = new Map<string, SharedTable>();
  private readonly limiters = new Map<string, WindowLimiter>();
  private readonly timers: Set<string>;
  /** Per timer, per queue name: the view its routes take through. */
  private readonly timerQueues = new Map<string, Map<string, Queue>>();

  static create(resolved: Pick<ResolvedConfig, 'queues' | 'tables' | 'timers'>, options: DataPlaneOptions = {}): DataPlane {
    const clock = options.clock ?? hrtimeNs;
    const data = options.data === undefined ? undefined : checkData(options.data);
    const seen = new Set<string>();
    for (const [kind, list] of [['queue', resolved.queues], ['table', resolved.tables]] as const) {
      for (const { name } of list) {
        if (seen.has(`${kind}:${name}`)) throw new Error(`${kind} ${JSON.stringify(name)} is defined twice; each ${kind} needs a name of its own`);
        seen.add(`${kind}:${name}`);
      }
    }
    const queues = resolved.queues.map((q) => SharedQueue.create(q));
    const tables = resolved.tables.map((t) => SharedTable.create(t, options.tables, clock));
    const limiters = resolved.timers.filter((t) => t.limit).map((t) => WindowLimiter.create(t.name, t.limit!));
    return new DataPlane(
      queues,
      tables,
      limiters,
      resolved.timers.map((t) => t.name),
      data === undefined ? undefined : deepFreeze(data),
      clock,
    );
  }

  /** In a worker thread: the structures made by `create` in the host, from its `handles()`. */
  static attach(handles: DataPlaneHandles, clock: NsClock = hrtimeNs): DataPlane {
    if (handles?.kind !== 'ptimer.data') throw new TypeError("DataPlane.attach: expected the handles of DataPlane.handles() ({ kind: 'ptimer.data', ... })");
    return new DataPlane(
      handles.queues.map((h) => SharedQueue.attach(h)),
      handles.tables.map((h) => SharedTable.attach(h, clock)),
      handles.limiters.map((h) => WindowLimiter.attach(h)),
      handles.timers,
      deepFreeze(handles.data),
      clock,
    );
  }

  private constructor(
    queues: SharedQueue[],
    tables: SharedTable[],
    limiters: WindowLimiter[],
    timers: string[],
    data: unknown,
    private readonly clock: NsClock,
  ) {
    for (const q of queues) this.queues.set(q.name, q);
    for (const t of tables) this.tables.set(t.name, t);
    for (const l of limiters) this.limiters.set(l.timer, l);
    this.timers = new Set(timers);
    this.data = data;
  }

  /**
   * After a reload (in the host): the timers are now `timers`. A timer whose limit is the same
   * N/W as before keeps its limiter, so its window goes on across the reload; a timer with a
   * new or changed limit gets a limiter of its own (its workers start again with the new
   * definition: its window starts empty); one without a limit, or gone, has none. Threads
   * started afterwards get the new handles(); a thread already running hosts only unchanged
   * timers, whose limiters it already has.
   */
  reconcileTimers(timers: readonly Pick<ResolvedTimer, 'name' | 'limit'>[]): void {
    const next = new Map<string, WindowLimiter>();
    for (const t of timers) {
      if (!t.limit) continue;
      const kept = this.limiters.get(t.name);
      next.set(t.name, kept && kept.count === t.limit.count && kept.windowNs === t.limit.windowNs ? kept : WindowLimiter.create(t.name, t.limit));
    }
    this.limiters.clear();
    for (const [name, limiter] of next) this.limiters.set(name, limiter);
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

  /** The window limiter of a timer with `limit=N/W`; null for a timer without one. */
  limiter(timer: string): WindowLimiter | null {
    if (!this.timers.has(timer)) throw new Error(`timer ${JSON.stringify(timer)} is not configured; ${listed('timer', [...this.timers])}`);
    return this.limiters.get(timer) ?? null;
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
      const limiter = this.limiter(timer);
      view = limiter ? new TimerQueue(q, limiter, this.clock) : q;
      if (!views) this.timerQueues.set(timer, (views = new Map()));
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
      timers: [...this.timers],
      data: this.data,
    };
  }
}

export type { Queue, Table };
