/**
 * The main thread's supervisor: the decisions about threads and commands, kept pure (no
 * worker_threads, no timers, no clock of its own) so that tests drive them on a virtual clock
 * as core/ is driven. ThreadHost, WorkerSlot and PTimer carry the decisions out; they own the
 * ports (spawn, terminate, the exit and message events, the clock and the timers).
 *
 * Three parts:
 * 1. `OperationQueue`: run, reload, force and stop are operations, and they run one at a time,
 *    in the order they were asked for. `stop` is special: from the moment it is asked for,
 *    no operation that has not begun will begin (it is refused, "ptimer is stopping"), the
 *    one in progress is told to cancel (it checks `token.cancelled` after each await and, once
 *    cancelled, launches nothing more), and stop itself runs once that one has settled. So
 *    stop never overlaps a reload, and no thread is launched after stop began.
 * 2. `ThreadLife`: a thread's states and what a death costs (restart_limit, back-off).
 * 3. `judgeCommand`: a command is judged against the state the commands queued before it
 *    will leave (not the live state when it is sent), for every target before any is sent;
 *    so `[start, loop]` on an ended worker has one outcome whatever the threads' timing, and a
 *    multi-worker command is all-or-nothing without a check-then-act window.
 *
 * A thread's life, and what it gives back (time runs left to right):
 *
 *     launch        ready                     dies (exit/error/OOM)   relaunch   ready
 *       │ booting    │ up ....................... │ backoff (0, 0, 100, │ booting  │ up ...
 *       └────────────┴────────────────────────────┤  200 ... 5000 ms)   ├──────────┘
 *                                                 │
 *                                  gives back, before anything else runs:
 *                                  - its commands: claimed and unanswered ones are rejected
 *                                    (they may have half happened), the others go to the
 *                                    next thread in order;
 *                                  - the death is charged to the workers that were in a
 *                                    route (all of them if none was); a worker charged
 *                                    restart_limit times within its window is failed;
 *                                  - when every worker on it has failed: down (no relaunch;
 *                                    `start` on a worker revives it).
 *
 *     force:  terminate ─> exit (ours: not charged) ─> relaunch with the targets as force left them
 *     stop:   'stop' posted ─> end routes run ─> exit; after timeout: terminate. State 'stopped'
 *             is final: a backoff timer that fires after it launches nothing.
 *
 * A quick death is one within STABLE_LIFETIME_MS of launch (or before ready): the first is
 * restarted at once, the next ones back off 100 ms doubling to MAX_BACKOFF_MS; a thread that
 * lived longer than STABLE_LIFETIME_MS starts the count again.
 */

import { ControlError } from '../control-types.js';

export const STABLE_LIFETIME_MS = 5_000;
export const MAX_BACKOFF_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// 1. One operation at a time

export type OperationKind = 'run' | 'reload' | 'force' | 'revive' | 'stop';

/** What an operation in progress checks after each await: once cancelled, it launches nothing more. */
export interface CancelToken {
  readonly cancelled: boolean;
  /** Called once, when stop cancels the operation (at once if it already has): e.g. run() terminates threads still booting. */
  onCancel(fn: () => void): void;
}

class Cancellation implements CancelToken {
  cancelled = false;
  private readonly hooks: Array<() => void> = [];
  onCancel(fn: () => void): void {
    if (this.cancelled) fn();
    else this.hooks.push(fn);
  }
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const fn of this.hooks.splice(0)) fn();
  }
}

const stopping = (kind: OperationKind) => new ControlError(`ptimer is stopping; ${kind} was not carried out`, 500);

export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Operations asked for and not yet settled: with none, the next one begins at once (in the caller's turn). */
  private unsettled = 0;
  private stopRequested = false;
  private current: { kind: OperationKind; token: Cancellation } | null = null;
  private stopped: Promise<unknown> | null = null;

  /** True once stop was asked for: from then on nothing is launched. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** The operation now running, if any (for tests and logs). */
  get running(): OperationKind | null {
    return this.current?.kind ?? null;
  }

  /** Runs `op` after every operation asked for before it; refused if stop was asked for first. */
  enqueue<T>(kind: Exclude<OperationKind, 'stop'>, op: (token: CancelToken) => Promise<T>): Promise<T> {
    if (this.stopRequested) return Promise.reject(stopping(kind));
    const begin = (): Promise<T> => {
      if (this.stopRequested) throw stopping(kind);
      const token = new Cancellation();
      this.current = { kind, token };
      return op(token).finally(() => {
        if (this.current?.token === token) this.current = null;
      });
    };
    return this.chain(this.unsettled === 0 ? begin() : this.tail.then(begin));
  }

  private chain<T>(run: Promise<T>): Promise<T> {
    this.unsettled++;
    const settled = run.then(
      () => void this.unsettled--,
      () => void this.unsettled--,
    );
    this.tail = settled;
    return run;
  }

  /**
   * Stop: refuses what has not begun, cancels what is in progress, then runs `op` once that
   * has settled. Asked for again, it answers with the first stop's promise.
   */
  stop<T>(op: () => Promise<T>): Promise<T> {
    if (this.stopped) return this.stopped as Promise<T>;
    this.stopRequested = true;
    this.current?.token.cancel();
    const begin = () => {
      this.current = { kind: 'stop', token: new Cancellation() };
      return op();
    };
    const run = this.chain(this.unsettled === 0 ? begin() : this.tail.then(begin));
    this.stopped = run;
    return run;
  }
}

// ---------------------------------------------------------------------------------------------
// 2. A thread's life

export type ThreadState = 'idle' | 'booting' | 'up' | 'backoff' | 'down' | 'stopped';

/** What the supervisor needs of a worker to charge a death. */
export interface ChargeableWorker {
  /** Why it failed; null while it has not. */
  failed: string | null;
  /** When its thread died while it was to blame (ms), within the restart window. */
  deaths: number[];
  /** In a route when the thread died (it is to blame). */
  readonly inRoute: boolean;
}

export interface DeathVerdict<W> {
  /** Workers that reached restart_limit with this death. */
  failedNow: W[];
  /** ms until the relaunch (the back-off), unless `down`. */
  restartInMs: number;
  /** Every worker on the thread has failed (or it was stopped): it is not relaunched. */
  down: boolean;
}

export class ThreadLife {
  state: ThreadState = 'idle';
  private quickDeaths = 0;
  private startedAt = 0;

  constructor(private readonly limit: { deaths: number; windowMs: number }) {}

  /** A launch may happen (not after stop). */
  get mayLaunch(): boolean {
    return this.state !== 'stopped';
  }

  launched(now: number): void {
    if (this.state === 'stopped') throw new Error('a stopped thread is not launched again');
    this.state = 'booting';
    this.startedAt = now;
  }

  ready(): void {
    if (this.state === 'booting') this.state = 'up';
  }

  /**
   * The thread died on its own (not by force or stop): charges the workers to blame, fails
   * those at their limit, and says when to relaunch (or that the thread stays down).
   */
  died<W extends ChargeableWorker>(now: number, workers: readonly W[], why: string): DeathVerdict<W> {
    const wasUp = this.state === 'up';
    const inRoute = workers.filter((w) => w.inRoute);
    const charged = inRoute.length > 0 ? inRoute : workers;
    const failedNow: W[] = [];
    for (const w of charged) {
      if (w.failed !== null) continue;
      w.deaths = [...w.deaths.filter((t) => now - t < this.limit.windowMs), now];
      if (w.deaths.length >= this.limit.deaths) {
        w.failed = `its thread died ${w.deaths.length} times within ${this.limit.windowMs / 1000} s (restart_limit); last: ${why}`;
        failedNow.push(w);
      }
    }
    this.quickDeaths = wasUp && now - this.startedAt >= STABLE_LIFETIME_MS ? 0 : this.quickDeaths + 1;
    const restartInMs = this.quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.quickDeaths - 2));
    if (this.state === 'stopped') return { failedNow, restartInMs, down: true };
    if (workers.every((w) => w.failed !== null)) {
      this.state = 'down';
      return { failedNow, restartInMs, down: true };
    }
    this.state = 'backoff';
    return { failedNow, restartInMs, down: false };
  }

  /** `start` on a failed worker of a thread that is down: its quick deaths are forgiven. */
  revived(): void {
    this.quickDeaths = 0;
  }

  /** Terminated on purpose (force): not a death, relaunched at once. */
  terminated(): void {
    if (this.state !== 'stopped') this.state = 'backoff';
  }

  stopped(): void {
    this.state = 'stopped';
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Judging a command against what the commands before it will leave

export type JudgedCommand = 'pause' | 'continue' | 'start' | 'loop' | 'end';

/** A worker as the commands queued for it will leave it. */
export interface WorkerView {
  failed: boolean;
  ended: boolean;
  paused: boolean;
}

export type Judgement = { ok: true; next: WorkerView; noop: boolean } | { ok: false; why: 'failed' | 'ended' };

/**
 * The worker machine's rules (core/worker-machine.ts), applied to the state the queued commands
 * will leave: after end only start revives; pause on an ended or failed worker is a no-op;
 * continue, loop and end on an ended one are refused (end with force is not: it ends whatever
 * the worker is doing); a failed worker takes start only.
 */
export function judgeCommand(command: JudgedCommand, view: WorkerView, force = false): Judgement {
  if (command === 'start') return { ok: true, next: { failed: false, ended: false, paused: false }, noop: false };
  if (command === 'pause') {
    if (view.failed || view.ended || view.paused) return { ok: true, next: view, noop: true };
    return { ok: true, next: { ...view, paused: true }, noop: false };
  }
  if (command === 'end' && force) return { ok: true, next: { failed: false, ended: true, paused: true }, noop: false };
  if (view.failed) return { ok: false, why: 'failed' };
  if (view.ended) return { ok: false, why: 'ended' };
  if (command === 'end') return { ok: true, next: { failed: false, ended: true, paused: true }, noop: false };
  // continue, loop
  return { ok: true, next: { ...view, paused: false }, noop: command === 'continue' && !view.paused };
}
