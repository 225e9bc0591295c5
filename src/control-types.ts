/**
 * What the control surface exchanges: the shape of `list()` (the same shape as the RPC method
 * `ptimer.list` returns) and of a command's result. The words (commands, routes, states) are
 * defined once in core/words.ts.
 */
import type { ClusterStatus } from './cluster/cluster-node.js';
import type { TimerTypeNumber } from './config/types.js';
import type { DataAccess } from './rpc/data-methods.js';
import type { ControlCommand, WorkerRoute, WorkerState } from './core/words.js';

export { CONTROL_COMMANDS, WORKER_STATES, ROUTE_KINDS } from './core/words.js';
export type { ControlCommand, WorkerRoute, WorkerState, RouteKind } from './core/words.js';

export interface LatenessSummary {
  /** Microseconds, how late loop runs began against their deadlines. */
  p50: number;
  p99: number;
  max: number;
  /** Loop runs measured, and the sum of their lateness in microseconds (for averages and Prometheus summaries). */
  count: number;
  sum: number;
}

export interface WorkerInfo {
  worker: number;
  pid: number;
  threadId: number;
  /** The scheduler thread it runs on: `pool-0`, `own:queue/3`, `group:NAME`. */
  thread: string;
  state: WorkerState;
  ntasks: number;
  tasks: number;
  nslices: number;
  slice: number;
  paused: boolean;
  route: WorkerRoute;
  /** The worker's own interval (a start route may change it). */
  interval: string;
  iterations: number;
  overruns: number;
  errors: number;
  restarts: number;
  /**
   * Loop entries that missed their join point (the grid point its timer's workers started
   * with, or the first after a `start`): the thread or start route came late. Each is logged
   * once; its first run's lateness is not in `lateness`.
   */
  lateJoins: number;
  /** Microseconds its thread spins before a deadline now (with spin 'auto' it follows the measured wake-up lateness). */
  spin: number;
  lateness: LatenessSummary;
  /** A cluster timer's worker: the node holding its slot (null: none, or not known yet). Absent for local timers. */
  node?: string | null;
}

export interface TimerInfo {
  name: string;
  type: TimerTypeNumber;
  interval: string;
  nworkers: number;
  /**
   * Per worker (each worker takes up to its own ntasks; two workers offer twice as many): the
   * value every worker has now, as their start routes left it, or null when they differ (each
   * worker's is under `workers`). The config's values are under `configured`.
   */
  ntasks: number | null;
  nslices: number | null;
  /** ntasks and nslices as the config gives them. */
  configured?: { ntasks: number; nslices: number };
  start: string | null;
  loop: string;
  end: string | null;
  workers: WorkerInfo[];
  /** A cluster timer: the cluster's live nodes (this one included). Absent for local timers. */
  nodes?: string[];
}

/** One worker's part in a command. */
export interface WorkerOutcome {
  worker: number;
  /** `done`: the command took effect; `unchanged`: it succeeded and changed nothing (pause on a paused worker). */
  outcome: 'done' | 'unchanged';
  state: WorkerState;
  route: WorkerRoute;
  paused: boolean;
}

/** What a command resolves with, once every worker it addressed has acted. */
export interface CommandResult {
  timer: string;
  command: ControlCommand;
  /** The worker addressed, or null for all of them. */
  worker: number | null;
  force: boolean;
  workers: WorkerOutcome[];
  /** With force: the other workers whose thread was terminated and started again with it. */
  restarted?: Array<{ timer: string; worker: number }>;
}

export interface CommandOptions {
  /** start and end: terminate the worker's thread and start it again (for a worker stuck in a route). */
  force?: boolean;
}

/** The control operations that the RPC server and CLI drive. PTimer implements it. */
export interface TimerControl {
  list(): TimerInfo[];
  pause(timer: string, worker?: number): Promise<CommandResult>;
  continue(timer: string, worker?: number): Promise<CommandResult>;
  start(timer: string, worker?: number, options?: CommandOptions): Promise<CommandResult>;
  loop(timer: string, worker?: number): Promise<CommandResult>;
  end(timer: string, worker?: number, options?: CommandOptions): Promise<CommandResult>;
  /** Re-read the config and apply what changed (see PTimer.reload); optional for other controls. */
  reload?(): Promise<unknown>;
  /** The cluster's figures when this node is in one (leases, takeovers, clock offset ...), for /metrics; null otherwise. */
  clusterStatus?(): ClusterStatus | null;
  /** The queues, tables and limiters, for the mqueue/htable RPC methods and /metrics; optional for other controls. */
  dataAccess?(): DataAccess;
  /** How many workers `timer` has (undefined: no such timer), without building `list()`: what an RPC command checks its target against. */
  workerCount?(timer: string): number | undefined;
}

/** Why a control command was refused. `code` follows the reference's RPC codes. */
export class ControlError extends Error {
  constructor(
    message: string,
    /** 400 bad arguments (or refused in this state), 404 unknown timer, 500 internal failure. */
    readonly code: 400 | 404 | 500,
    /** For a command to several workers: what each did. */
    readonly workers?: ReadonlyArray<{ worker: number; ok: boolean; message?: string }>,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}
