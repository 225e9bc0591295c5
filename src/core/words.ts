/**
 * The words every module shares, defined once: the route kinds a timer has, the commands an
 * operator sends, and the states a worker is listed in. Config parsing, the state machine,
 * the threads, the RPC server, the CLI and the metrics all take them from here.
 */

/** The routes of a timer, in the order a worker runs them. */
export const ROUTE_KINDS = ['start', 'loop', 'end'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** The route a worker is in (or about to run); `none` once it has ended. */
export const WORKER_ROUTES = ['none', 'start', 'loop', 'end'] as const;
export type WorkerRoute = (typeof WORKER_ROUTES)[number];

/** The event name each route receives, as the reference's script engines pass it. */
export const ROUTE_EVENTS: Readonly<Record<RouteKind, string>> = {
  start: 'ptimer:start',
  loop: 'ptimer:loop',
  end: 'ptimer:end',
};

/** What an operator can tell a worker (the reference's RPC methods, without `ptimer.`). */
export const CONTROL_COMMANDS = ['pause', 'continue', 'start', 'loop', 'end'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

/** Commands that accept `force` (terminate the worker's thread and start it again). */
export const FORCEABLE_COMMANDS: readonly ControlCommand[] = ['start', 'end'];

/**
 * How `list()` shows a worker:
 * - booting: its thread is starting (or restarting after a crash) and has not run a route yet;
 * - running: in its start, loop or end route, or sleeping to its next deadline;
 * - paused: told to pause (or configured `paused=1`), waiting for continue or start;
 * - ended: its end route has run and its state is gone; only start revives it;
 * - failed: its thread died too often (the restart limit), or never came up; only start revives it;
 * - stuck: in one route for longer than `stuck_after` intervals (at least `command_timeout`).
 */
export const WORKER_STATES = ['booting', 'running', 'paused', 'ended', 'failed', 'stuck'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];
