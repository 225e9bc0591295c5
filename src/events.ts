/**
 * The events a PTimer emits, as a map for Node's typed EventEmitter
 * (`class PTimer extends EventEmitter<PTimerEvents>`), so that
 * `pt.on('message', (m) => ...)` gives `m` its type instead of `any`.
 *
 * - `message`: a route called `ctx.emit(event, data)`.
 * - `routeError`: a route threw or rejected (already logged and counted in the worker's `errors`).
 * - `workerExit`: a worker's thread died (an uncaught error, `process.exit` in a route); it is
 *   being started again from its start route.
 */
import type { RouteKind } from './route-types.js';

/** `ctx.emit(event, data)` from a route. */
export interface MessageEvent<Data = unknown> {
  timer: string;
  /** The worker's index, 0-based. */
  worker: number;
  /** The event name the route gave. */
  event: string;
  data: Data;
}

/** A route threw or rejected. */
export interface RouteErrorEvent {
  timer: string;
  worker: number;
  /** The route that threw. */
  route: RouteKind;
  /** The error's message. */
  message: string;
  /** The error's stack, when it had one. */
  stack?: string;
}

/** A worker's thread died and is being restarted. */
export interface WorkerExitEvent {
  timer: string;
  worker: number;
  /** The thread's exit code. */
  code: number;
  /** Why it died (the uncaught error, or "exited with code N"). */
  error: Error;
  /** When the new thread starts: 0 at once, growing if the worker keeps dying. */
  restartInMs: number;
}

/** Event name -> listener arguments, in the form `EventEmitter<T>` takes. */
export interface PTimerEvents {
  message: [MessageEvent];
  routeError: [RouteErrorEvent];
  workerExit: [WorkerExitEvent];
}

/** The event names. */
export type PTimerEventName = keyof PTimerEvents;
