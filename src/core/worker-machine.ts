/**
 * The life of one worker, as a pure state machine: no threads, no clock of its own.
 *
 * The reference writes its worker loop four times, once per timer type. Here the type is
 * two switches - synced pacing and slicing - and the loop is written once. The driver
 * (worker-loop.ts) asks `next()` what to do, does it, and reports back with
 * `routeDone` and `command`; tests drive the same machine with a virtual clock.
 *
 *        start ──(-1)──────────────┐
 *          │                       v
 *          └──> loop (every interval) ──(-1 or `end`)──> end ──> ended (paused, state dropped)
 *
 * Pacing, per worker:
 * - synced: deadlines sit on a grid t0 + k * interval, t0 being when the loop began. After a
 *   run, the next deadline is the first grid point not yet past; grid points skipped are
 *   counted as overruns, so runs made + overruns = ticks due, and the grid never shifts.
 * - basic: each run is followed by a full interval of sleep (the period is the interval
 *   plus the run's time plus the wake-up delay: that is what "basic" means).
 * Pausing stops the clock for the worker: ticks that fall while paused are not due.
 */
import { tasksForSlice } from './slices.js';

export type Phase = 'start' | 'loop' | 'end' | 'ended';
export type MachineCommand = 'pause' | 'continue' | 'start' | 'loop' | 'end' | 'stop';

export type Action =
  /** Reset the worker's state (fresh vars and message), then run the start route if there is one. */
  | { kind: 'start' }
  /** Run the loop route for the tick due at `deadline` (sleeping until then if it is ahead). */
  | { kind: 'loop'; deadline: number; tick: number }
  /** Run the end route if there is one, then drop the worker's state. */
  | { kind: 'end' }
  /** Paused: wait for a command. */
  | { kind: 'wait' }
  /** Stopped: leave. */
  | { kind: 'exit' };

/** What a route did: returned a value (-1 jumps to end), or threw. */
export const ROUTE_THREW = Symbol('route threw');
export type RouteOutcome = number | undefined | typeof ROUTE_THREW;

/** A command's answer. `pending`: the answer comes when the route it asked for has run. */
export type CommandAnswer =
  | { status: 'done' }
  | { status: 'rejected'; reason: string }
  | { status: 'pending' };

/** Answers that became due: a command whose route has now run. */
export interface Completion {
  seq: number;
}

export interface MachineSettings {
  synced: boolean;
  sliced: boolean;
  intervalNs: number;
  ntasks: number;
  nslices: number;
}

/** The per-worker attributes a start route may change; reset to the timer's values at every start. */
export interface WorkerAttributes {
  intervalNs: number;
  ntasks: number;
  tasks: number;
  nslices: number;
  slice: number;
}

export interface MachineCounters {
  iterations: number;
  overruns: number;
  errors: number;
}

const ENDED_REASON = 'the worker has ended; use start to run it again';
/** What most route ends answer: nothing. Shared, so that a loop run allocates no array. */
const NO_COMPLETIONS: readonly Completion[] = Object.freeze([]);

export class WorkerMachine {
  phase: Phase = 'start';
  paused = false;
  /** The route being run right now, if any (for `list()`). */
  running: 'start' | 'loop' | 'end' | null = null;
  readonly attributes: WorkerAttributes;
  readonly counters: MachineCounters = { iterations: 0, overruns: 0, errors: 0 };

  private stopping = false;
  /** Grid origin (synced) and the next tick to run. */
  private t0 = 0;
  private nextTick = 0;
  private nextDeadline = 0;
  /** Grid points that fell while the worker was paused: not due, neither run nor overrun. */
  private ticksNotDue = 0;
  /** The interval the loop was entered with (a start route may have changed the attribute). */
  private loopIntervalNs: number;
  /** A start or end command waiting for its route to have run. */
  private awaiting: { seq: number; phase: 'start' | 'end' } | null = null;

  constructor(private readonly settings: MachineSettings) {
    this.attributes = WorkerMachine.initialAttributes(settings);
    this.loopIntervalNs = settings.intervalNs;
  }

  private static initialAttributes(s: MachineSettings): WorkerAttributes {
    return {
      intervalNs: s.intervalNs,
      ntasks: s.ntasks,
      tasks: s.sliced ? tasksForSlice(0, s.ntasks, s.nslices) : s.ntasks,
      nslices: s.nslices,
      slice: 0,
    };
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  /** Grid facts, for tests and diagnostics. */
  get schedule(): { t0: number; nextTick: number; nextDeadline: number; intervalNs: number; ticksNotDue: number } {
    return {
      t0: this.t0,
      nextTick: this.nextTick,
      nextDeadline: this.nextDeadline,
      intervalNs: this.loopIntervalNs,
      ticksNotDue: this.ticksNotDue,
    };
  }

  /** What to do next. */
  next(): Action {
    if (this.paused || this.phase === 'ended') return this.stopping ? { kind: 'exit' } : { kind: 'wait' };
    switch (this.phase) {
      case 'start':
        return { kind: 'start' };
      case 'end':
        return { kind: 'end' };
      case 'loop':
        if (this.settings.sliced) {
          const a = this.attributes;
          a.tasks = tasksForSlice(a.slice, a.ntasks, a.nslices);
        }
        return { kind: 'loop', deadline: this.nextDeadline, tick: this.nextTick };
    }
  }

  /** A loop run was set up but a command came first: it did not happen. */
  cancelLoop(): void {
    this.running = null;
  }

  /** The driver is about to run a route (or, for start/end without a route, to act as if it had). */
  begin(route: 'start' | 'loop' | 'end'): void {
    this.running = route;
    if (route === 'start') {
      Object.assign(this.attributes, WorkerMachine.initialAttributes(this.settings));
    }
  }

  /** A route has finished at time `now`. Returns the commands answered by it. */
  routeDone(route: 'start' | 'loop' | 'end', outcome: RouteOutcome, now: number): readonly Completion[] {
    this.running = null;
    if (outcome === ROUTE_THREW && route === 'loop') this.counters.errors++;
    switch (route) {
      case 'start':
        if (outcome === -1 || outcome === ROUTE_THREW) this.phase = 'end';
        else this.enterLoop(now);
        return this.complete('start');
      case 'loop':
        this.counters.iterations++;
        if (outcome === -1) this.phase = 'end';
        else this.advance(now);
        return NO_COMPLETIONS;
      case 'end':
        this.phase = 'ended';
        this.paused = true;
        return this.complete('end');
    }
  }

  /**
   * A control command, taken between routes. `seq` identifies it for a pending answer.
   * The rules: after end only `start` revives a worker (`pause` is a harmless no-op there;
   * `continue`, `loop` and `end` are refused); `continue` on a running worker is a no-op.
   */
  command(cmd: MachineCommand, seq: number, now: number): CommandAnswer {
    this.awaiting = null; // a newer command answers for any still waiting (the main thread resolves it)
    switch (cmd) {
      case 'pause':
        if (!this.ended) this.paused = true;
        return { status: 'done' };
      case 'continue':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        if (this.paused) this.resume(now);
        return { status: 'done' };
      case 'start':
        this.paused = false;
        this.phase = 'start';
        this.awaiting = { seq, phase: 'start' };
        return { status: 'pending' };
      case 'loop':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        if (this.phase === 'loop') {
          if (this.paused) this.resume(now);
        } else {
          this.paused = false;
          this.enterLoop(now);
        }
        return { status: 'done' };
      case 'end':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        this.paused = false;
        this.phase = 'end';
        this.awaiting = { seq, phase: 'end' };
        return { status: 'pending' };
      case 'stop':
        this.stopping = true;
        // A worker about to run start has no state to end (it was stopped as it came up).
        if (this.phase === 'start') this.paused = true;
        else if (!this.paused && !this.ended) this.phase = 'end';
        return { status: 'done' };
    }
  }

  private complete(phase: 'start' | 'end'): readonly Completion[] {
    if (this.awaiting?.phase !== phase) return NO_COMPLETIONS;
    const done = [{ seq: this.awaiting.seq }];
    this.awaiting = null;
    return done;
  }

  private enterLoop(now: number): void {
    this.phase = 'loop';
    this.loopIntervalNs = this.attributes.intervalNs;
    this.t0 = now;
    this.nextTick = 0;
    this.ticksNotDue = 0;
    // Synced: the first run right away, then on the grid. Basic: sleep the interval first.
    this.nextDeadline = this.settings.synced ? now : now + this.loopIntervalNs;
  }

  /** After a loop run that ended at `now`: the next deadline, and the ticks dropped on the way. */
  private advance(now: number): void {
    const a = this.attributes;
    if (this.settings.sliced) a.slice = (a.slice + 1) % a.nslices;
    const interval = this.loopIntervalNs;
    if (!this.settings.synced) {
      this.nextTick++;
      this.nextDeadline = now + interval;
      return;
    }
    // The first grid point not yet past; every point jumped over is an overrun.
    const notPast = Math.max(this.nextTick + 1, Math.ceil((now - this.t0) / interval));
    this.counters.overruns += notPast - this.nextTick - 1;
    this.nextTick = notPast;
    this.nextDeadline = this.t0 + notPast * interval;
  }

  /** Back from a pause: the grid stays where it was; its points that fell during the pause were not due. */
  private resume(now: number): void {
    this.paused = false;
    if (this.phase !== 'loop' || !this.settings.synced || this.nextDeadline >= now) return;
    const notPast = Math.ceil((now - this.t0) / this.loopIntervalNs);
    this.ticksNotDue += notPast - this.nextTick;
    this.nextTick = notPast;
    this.nextDeadline = this.t0 + this.nextTick * this.loopIntervalNs;
  }
}
