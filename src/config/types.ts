/**
 * The shapes of a ptimer configuration: what users write (PTimerConfig, TimerObject)
 * and what validation turns it into (ResolvedConfig, ResolvedTimer).
 */

/** The four timer types. The number is two switches: bit 0 = synced pacing, bit 1 = slicing. */
import type { ClusterObject, ResolvedCluster } from './cluster-params.js';

export type { ClusterObject, ResolvedCluster } from './cluster-params.js';

export type TimerTypeNumber = 0 | 1 | 2 | 3;
export type TimerTypeName = 'basic' | 'sync' | 'slice' | 'synced-slice';

/**
 * Spin: how long a worker busy-waits before each deadline, after sleeping.
 * 'auto' follows the measured wake-up lateness (capped); a duration string ('50us', '0')
 * or a number of microseconds fixes it.
 */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- 'auto' is named for the reader
export type SpinSetting = 'auto' | string | number;

/** A timer given as an object instead of the reference's `name=...;type=...` string. */
export interface TimerObject {
  name: string;
  type?: TimerTypeNumber | TimerTypeName;
  /** `100ms`, `250us`, `2s`, or `2` (seconds). A number means seconds. */
  interval?: string | number;
  nworkers?: number;
  ntasks?: number;
  nslices?: number;
  spin?: SpinSetting;
  /** Where the workers run: 'pool' (default: the shared pool), 'own' (a thread per worker), or a group name. */
  thread?: string;
  /** Start paused: the workers come up and wait for `continue` or `start`. */
  paused?: boolean | 0 | 1;
  /**
   * A window guarantee on items taken by this timer's routes: `N/W`, e.g. `50/1s` (a window of
   * its own), or the name of a `limiter` (one window shared with every timer naming it).
   */
  limit?: string;
  /** Held by the cluster (the `cluster` parameter): each worker runs on one live node at a time. */
  cluster?: boolean | 0 | 1;
  /** Route names (named exports of the routes module). */
  start?: string;
  loop?: string;
  end?: string;
}

/** Everything a config module default-exports: the reference's parameters under their own names. */
export interface PTimerConfig {
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the names are listed for the reader
  default_type?: TimerTypeNumber | TimerTypeName | string;
  default_interval?: string | number;
  default_nworkers?: number;
  /** ptimer's own addition: the spin used by timers that do not give one. Default 'auto'. */
  default_spin?: SpinSetting;
  /** ptimer's own: threads of the shared pool (default `os.availableParallelism()`). */
  default_threads?: number;
  /** ptimer's own: deaths of a worker's thread within a window that mark it failed, `N/W` (default `5/60s`). */
  restart_limit?: string;
  /** ptimer's own: how long a thread may take to come up (default `10s`). */
  startup_timeout?: string | number;
  /** ptimer's own: how long a command waits for a worker busy in a route (default `5s`). */
  command_timeout?: string | number;
  /** ptimer's own: a route running longer than this many intervals (and at least command_timeout) shows as `stuck` (default 10). */
  stuck_after?: number;
  /** ptimer's own: the heap of each scheduler thread in MB (default 1024): a leaking route dies there, not at the machine's limit. */
  max_heap?: number;
  /** Repeatable: `name=NAME;type=INT;interval=STR;nworkers=INT;ntasks=INT;nslices=INT`, or objects. */
  timer?: string | TimerObject | Array<string | TimerObject>;
  /** Repeatable: a queue, as mqueue's `name=NAME;size=N;addmode=M`, or an object. */
  queue?: string | QueueObject | Array<string | QueueObject>;
  /** Repeatable: a table, as htable's `name=NAME;size=N;autoexpire=S` or `NAME=>size=N`, or an object. */
  table?: string | TableObject | Array<string | TableObject>;
  /** Repeatable: a named window limit, `name=NAME;limit=N/W`, that timers share with `limit=NAME`. */
  limiter?: string | LimiterObject | Array<string | LimiterObject>;
  /** Repeatable: `timer=NAME;route=ROUTE`. */
  start?: string | string[];
  loop?: string | string[];
  end?: string | string[];
  /** Several nodes sharing cluster timers and queues through Redis (cluster-params.ts). */
  cluster?: string | ClusterObject;
}

/** A queue given as an object. */
export interface QueueObject {
  name: string;
  /** Most items held (default 10000). */
  size?: number;
  /** Most bytes of values and keys held (default 16 MiB). */
  maxBytes?: number;
  /** mqueue's addmode: 0 add, 1 keep the oldest item of a key, 2 replace it (default 0). */
  addmode?: 0 | 1 | 2;
  /** Lives in the cluster's Redis (the `cluster` parameter), shared by every node. */
  cluster?: boolean | 0 | 1;
  /** Items older than this (seconds, or a duration such as `500ms`) are dropped at take time and handed to `pt.queue(name).on('expired')`. Default: never. */
  maxage?: number | string;
}

/** A limiter given as an object. */
export interface LimiterObject {
  name: string;
  /** `N/W`, e.g. `50/1s`. */
  limit: string;
}

/** A table given as an object. */
export interface TableObject {
  name: string;
  /** htable's size: 2^size buckets (default 10). */
  size?: number;
  /** Seconds after which an entry expires unless set again (default 0: never). */
  autoexpire?: number;
}

/** Where a timer's workers run. */
export type ResolvedThread = { kind: 'pool' } | { kind: 'own' } | { kind: 'group'; name: string };

export interface ResolvedLimit {
  /** At most `count` items ... */
  count: number;
  /** ... in any sliding window of this length. */
  windowNs: number;
  /** As written, canonical: `50/1s`. */
  text: string;
  /** The named limiter whose window this is (shared by every timer naming it); absent for a timer's own `N/W`. */
  limiter?: string;
}

/** A named limiter (`limiter: ['name=carrier1;limit=50/1s']`). */
export interface ResolvedLimiter {
  name: string;
  count: number;
  windowNs: number;
  /** Canonical `N/W`. */
  text: string;
}

export interface ResolvedQueue {
  name: string;
  size: number;
  maxBytes: number;
  addmode: 0 | 1 | 2;
  /** Present (true) only for a queue held in the cluster's Redis. */
  cluster?: true;
  /** Items older than this many ns are dropped at take time (0 or absent: never). */
  maxAgeNs?: number;
}

export interface ResolvedTable {
  name: string;
  /** htable's size exponent: 2^size buckets. */
  size: number;
  /** Most entries held. */
  maxEntries: number;
  /** Seconds; 0 never. */
  autoexpire: number;
}

/** Runtime settings (ptimer's own parameters), resolved. */
export interface ResolvedRuntime {
  /** Threads of the shared pool. */
  threads: number;
  restartLimit: { deaths: number; windowMs: number };
  startupTimeoutMs: number;
  commandTimeoutMs: number;
  stuckAfterIntervals: number;
  /** Heap (V8 old space) of each scheduler thread, in MB: a route that leaks kills its thread at this size. */
  maxHeapMb: number;
}

/** How a worker spins before a deadline, resolved. */
export type ResolvedSpin = { mode: 'auto'; capNs: number } | { mode: 'fixed'; ns: number };

/** A timer with every default filled in and every name checked. */
export interface ResolvedTimer {
  name: string;
  type: TimerTypeNumber;
  typeName: TimerTypeName;
  /** The interval as text in its canonical form, e.g. `100ms`. */
  interval: string;
  intervalNs: number;
  nworkers: number;
  ntasks: number;
  nslices: number;
  spin: ResolvedSpin;
  thread: ResolvedThread;
  /** Starts paused (`paused=1`). */
  paused: boolean;
  limit: ResolvedLimit | null;
  /** Present (true) only for a timer held by the cluster. */
  cluster?: true;
  start: string | null;
  loop: string;
  end: string | null;
}

export interface ResolvedConfig {
  timers: ResolvedTimer[];
  queues: ResolvedQueue[];
  tables: ResolvedTable[];
  /** Named limiters, shared by the timers whose `limit` names them (present only when there are some). */
  limiters?: ResolvedLimiter[];
  runtime: ResolvedRuntime;
  /** Present only when the config (or `ptimer run --cluster`) names a cluster. */
  cluster?: ResolvedCluster;
  /** Non-fatal findings, e.g. an unknown attribute in a timer string (ignored, as the reference does). */
  warnings: string[];
}
