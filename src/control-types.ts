/**
 * What the control surface exchanges: command names, and the shape of `list()`
 * (the same shape as the RPC method `ptimer.list` returns).
 */
import type { TimerTypeNumber } from './config/types.js';

export type ControlCommand = 'pause' | 'continue' | 'start' | 'loop' | 'end';
export const CONTROL_COMMANDS: readonly ControlCommand[] = ['pause', 'continue', 'start', 'loop', 'end'];

/** The route a worker is in (or about to run); `none` once it has ended. */
export type WorkerRoute = 'start' | 'loop' | 'end' | 'none';

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
  /** Microseconds the worker spins before each deadline now (with spin 'auto' it follows the measured wake-up lateness). */
  spin: number;
  lateness: LatenessSummary;
}

export interface TimerInfo {
  name: string;
  type: TimerTypeNumber;
  interval: string;
  nworkers: number;
  ntasks: number;
  nslices: number;
  start: string | null;
  loop: string;
  end: string | null;
  workers: WorkerInfo[];
}

/** The control operations that the RPC server and CLI drive. PTimer implements it. */
export interface TimerControl {
  list(): TimerInfo[];
  pause(timer: string, worker?: number): Promise<void>;
  continue(timer: string, worker?: number): Promise<void>;
  start(timer: string, worker?: number): Promise<void>;
  loop(timer: string, worker?: number): Promise<void>;
  end(timer: string, worker?: number): Promise<void>;
}

/** Why a control command was refused. `code` follows the reference's RPC codes. */
export class ControlError extends Error {
  constructor(
    message: string,
    /** 400 bad arguments, 404 unknown timer, 500 internal failure. */
    readonly code: 400 | 404 | 500,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}
