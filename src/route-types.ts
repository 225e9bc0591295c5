/**
 * What a route sees. A route is a named export of the config (or routes) module:
 * `(ctx, event) => void | number | Promise<void | number>`; returning -1 jumps to end.
 */
import type { Logger } from 'pino';
import type { TimerTypeNumber } from './config/types.js';
import type { Queue, Table } from './data-types.js';

import type { RouteKind } from './core/words.js';

export type { RouteKind };

/**
 * The reference's `$ptimer(...)` attributes. Each worker has its own copy.
 * `interval`, `ntasks`, `tasks`, `nslices` and `slice` may be written in the start route
 * only; any other write throws an error that says what is allowed.
 */
export interface PTimerAttributes {
  readonly name: string;
  readonly type: TimerTypeNumber;
  /** This worker's interval, e.g. `100ms`. Writable in start: changes this worker's pacing only. */
  interval: string;
  readonly nworkers: number;
  /** This worker's index, 0-based. */
  readonly worker: number;
  /** The process id (workers are threads of one process). */
  readonly pid: number;
  /** Writable in start: an integer >= 0. Writing it sets `tasks` to the same value. */
  ntasks: number;
  /** Tasks for this loop run. Writable in start: 0 <= tasks <= ntasks. Slice types recompute it per run. */
  tasks: number;
  /** Writable in start: an integer >= 1 (and above the current slice). */
  nslices: number;
  /** Writable in start: 0 <= slice < nslices. */
  slice: number;
}

/** The faked request every route receives: a SIP OPTIONS request, as the reference builds it. */
export interface FakeSipMessage {
  readonly method: 'OPTIONS';
  /** The request URI. */
  readonly ruri: string;
  /** Header names as written on the wire. */
  readonly headers: Readonly<Record<string, string>>;
  /** The whole request as text, CRLF line ends. */
  readonly raw: string;
}

/**
 * `Vars` types `ctx.vars` and `Data` types `ctx.data`, so that neither needs a cast:
 * `export function LOOP(ctx: RouteContext<{ sent: number }, { gateways: string[] }>) { ctx.vars.sent++; }`
 * (the types are the developer's promise: nothing checks them at run time).
 */
export interface RouteContext<Vars extends object = Record<string, unknown>, Data = unknown> {
  readonly ptimer: PTimerAttributes;
  /** This worker's state: kept from start through every loop run to end, empty again at the next start. */
  vars: Vars;
  /** The host's data (`new PTimer(config, { data })`, `ptimer run --data FILE.json`): the same read-only value in every route. */
  readonly data: Data;
  /** A queue declared in the config (`queue: ['name=calls;size=10000']`), shared by the host and every worker. */
  queue(name: string): Queue;
  /** A table declared in the config (`table: ['name=kpi;size=8']`), shared by the host and every worker. */
  table(name: string): Table;
  /** A fresh faked message at every start, kept until end. */
  readonly msg: FakeSipMessage;
  /** A logger whose lines carry timer, worker and route. */
  readonly log: Logger;
  /** Hands data to the host process: a `message` event on the PTimer. */
  emit(event: string, data?: unknown): void;
  /** The route being run. */
  readonly route: RouteKind;
  /**
   * In loop: the index of this run's tick. Synced types: the run's deadline is t0 + tick * interval,
   * and a gap in the ticks is a tick dropped after an overrun. Basic types: the run count since start.
   */
  readonly tick: number;
  /**
   * In loop: when this run was due, in ns on the scale of `process.hrtime.bigint()` (as a
   * number), so `Number(process.hrtime.bigint()) - ctx.deadline` is how late the run began.
   * 0 outside loop.
   */
  readonly deadline: number;
}

export type RouteResult = void | number | undefined;
export type RouteFunction<Vars extends object = Record<string, unknown>, Data = unknown> = (
  ctx: RouteContext<Vars, Data>,
  event: string,
) => RouteResult | Promise<RouteResult>;
