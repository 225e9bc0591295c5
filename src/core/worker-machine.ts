/**
 * The life of one worker, as a pure state machine: no threads, no clock of its own.
 *
 * The reference writes its worker loop four times, once per timer type. Here the type is
 * two switches - synced pacing and slicing - and the loop is written once. A thread's driver
 * (thread-driver.ts) asks `next()` what to do, does it, and reports back with `routeDone`
 * and `command`; tests drive the same machine on a virtual clock.
 *
 *        start ──(-1 or throws)────────┐
 *          │                           v
 *          └──> loop (every interval) ──(-1 or `end`)──> end ──> ended (paused, state dropped)
 *
 * Pacing:
 * - synced: deadlines sit on the timer's grid t0 + k * interval. t0 is one origin shared by
 *   all the timer's workers (the `origin` setting hands it out), so slice offsets chosen in
 *   start are aligned in time, and a worker sent back to start, or restarted, rejoins the
 *   same grid. Joining: a worker's first run is its join point, tick 0 for the workers run() or
 *   a reload started together, else the first grid point at or after its `start` was asked for,
 *   however late it entered its loop (a slow start route, a thread that came up late): all the
 *   workers started together share their first run, and a late one runs it late once (a late
 *   join: logged, counted in `lateJoins`, its lateness kept out of the histogram). One more
 *   than JOIN_WINDOW_NS late joins the next point instead. Its slice is always its start offset
 *   plus the ticks since the origin, never a shifted one:
 *
 *     origin t0    tick 0        tick 1        tick 2        tick 3
 *     worker 0  start|--run(s0)-----run(s1)-------run(s2)-------run(s3)
 *     worker 1  start route .........................|run tick 0 late (s5), then tick 3 (s8)
 *               (its thread came up 2.5 ticks late: one late join; ticks 1-2 are overruns)
 *
 *   After a run the next deadline is the first grid point not
 *   yet past; the points jumped over are overruns, so runs made + overruns = ticks due, and
 *   the grid never shifts. Points before the worker's join point, or while it was paused,
 *   are not due. Slicing on a synced grid follows the ticks: slice = start slice + ticks since
 *   the origin, so a dropped tick drops its slice and workers stay aligned.
 * - basic: each run is followed by a full interval of sleep (the period is the interval
 *   plus the run's time plus the wake-up delay: that is what "basic" means).
 *
 * Commands (taken between routes, one at a time): after end only `start` revives a worker;
 * `pause` there is a harmless no-op, `continue`, `loop` and `end` are refused; `continue` on a
 * running worker is a no-op; `start` on a worker that holds state (its start route has run
 * and its end route has not) runs the end route first, so that what `vars` holds is released.
 * `start` and `end` are answered when the route they asked for has run; a start route that
 * throws makes its `start` fail with the route's message.
 */
import { tasksForSlice } from './slices.js';
import type { ControlCommand, RouteKind } from './words.js';

export type Phase = 'start' | 'loop' | 'end' | 'ended';
export type MachineCommand = ControlCommand | 'stop';
/** How a worker comes up: running (from its start route), paused before its start route, or ended. */
export type InitialState = 'run' | 'paused' | 'ended';

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

// The actions without fields, made once; next() reuses one loop action per machine (a loop run
// allocates nothing).
const START: Action = Object.freeze({ kind: 'start' });
const END: Action = Object.freeze({ kind: 'end' });
const WAIT: Action = Object.freeze({ kind: 'wait' });
const EXIT: Action = Object.freeze({ kind: 'exit' });

/** What a route did: returned a value (-1 jumps to end), or threw. */
export const ROUTE_THREW = Symbol('route threw');
export type RouteOutcome = number | undefined | typeof ROUTE_THREW;

/** A command's answer. `pending`: the answer comes when the route it asked for has run. */
export type CommandAnswer =
  { status: 'done'; changed: boolean } | { status: 'rejected'; reason: string } | { status: 'pending' };

/** A pending command answered by a route that has now run; `error` when that route threw. */
export interface Completion {
  seq: number;
  error?: string;
}

export interface MachineSettings {
  synced: boolean;
  sliced: boolean;
  intervalNs: number;
  ntasks: number;
  nslices: number;
  /**
   * The timer's grid origin: the first worker to enter its loop fixes it (passing `now`), the
   * others get the same value. Default: a private origin, fixed at the first loop entry.
   */
  origin?: (now: number) => number;
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
  /** Loop entries that missed their join point (see enterLoop): each reported once. */
  lateJoins: number;
}

/**
 * How late past its join point a worker may still run that point (late) rather than the next
 * one: at least an interval, and a second. A thread respawned long after the timer started, or a
 * start route that took longer, joins the next point instead (still on its slice: offset + tick).
 */
export const JOIN_WINDOW_NS = 1_000_000_000;

const ENDED_REASON = 'the worker has ended; use start to run it again';
/** What most route ends answer: nothing. Shared, so that a loop run allocates no array. */
const NO_COMPLETIONS: readonly Completion[] = Object.freeze([]);
const DONE: CommandAnswer = Object.freeze({ status: 'done', changed: true });
const NO_CHANGE: CommandAnswer = Object.freeze({ status: 'done', changed: false });
const PENDING: CommandAnswer = Object.freeze({ status: 'pending' });

export class WorkerMachine {
  phase: Phase = 'start';
  paused = false;
  /** The route being run right now, if any. */
  running: RouteKind | null = null;
  readonly attributes: WorkerAttributes;
  private readonly loopAction = { kind: 'loop' as const, deadline: 0, tick: 0 };
  readonly counters: MachineCounters = { iterations: 0, overruns: 0, errors: 0, lateJoins: 0 };
  /**
   * When this worker's start was asked for: its join point is the first grid point at or after
   * it. -Infinity for a worker created running (run(), a reload): the timer's tick 0, the point
   * every worker started with it shares, however late its thread came up. NaN: at the loop entry.
   */
  private joinFrom: number;
  /** The last loop entry missed its join point by this much (ns), not yet reported (takeLateJoin). */
  private lateJoinNs = 0;
  /** The next loop run is a late join's first: its lateness is the join's, not the timer's. */
  private firstRunLate = false;

  private stopping = false;
  /** The start route has run and the end route has not: there is state to release. */
  private holdsState = false;
  /** `start` on a worker holding state: after its end route, start again. */
  private startAfterEnd = false;
  /** Grid origin (synced) and the next tick to run. */
  private t0 = 0;
  private nextTick = 0;
  private nextDeadline = 0;
  /** Grid points that were not due: before the loop was entered, or while paused. */
  private ticksNotDue = 0;
  /** The interval the loop was entered with (a start route may have changed the attribute). */
  private loopIntervalNs: number;
  /** A start or end command waiting for its route to have run. */
  private awaiting: { seq: number; phase: 'start' | 'end'; error?: string } | null = null;
  private readonly origin: (now: number) => number;

  constructor(
    private readonly settings: MachineSettings,
    initial: InitialState = 'run',
  ) {
    this.attributes = WorkerMachine.initialAttributes(settings);
    this.loopIntervalNs = settings.intervalNs;
    this.joinFrom = initial === 'run' ? -Infinity : Number.NaN;
    let ownOrigin: number | null = null;
    this.origin = settings.origin ?? ((now) => (ownOrigin ??= now));
    if (initial === 'paused') this.paused = true;
    if (initial === 'ended') {
      this.phase = 'ended';
      this.paused = true;
    }
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

  /** A start or end command is waiting for its route: later commands wait behind it. */
  get busyWithCommand(): boolean {
    return this.awaiting !== null;
  }

  /** Ticks that were due since the loop was entered: runs + overruns equals this, always. */
  get ticksDue(): number {
    return this.phase === 'loop' || this.phase === 'end' || this.ended ? this.nextTick - this.ticksNotDue : 0;
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
    if (this.paused || this.phase === 'ended') return this.stopping ? EXIT : WAIT;
    switch (this.phase) {
      case 'start':
        return START;
      case 'end':
        return END;
      case 'loop': {
        if (this.settings.sliced) {
          const a = this.attributes;
          a.tasks = tasksForSlice(a.slice, a.ntasks, a.nslices);
        }
        const action = this.loopAction;
        action.deadline = this.nextDeadline;
        action.tick = this.nextTick;
        return action;
      }
    }
  }

  /** A loop run was set up but did not happen (a command, or another worker, came first). */
  cancelLoop(): void {
    this.running = null;
  }

  /** The driver is about to run a route (or, for start/end without a route, to act as if it had). */
  begin(route: RouteKind): void {
    this.running = route;
    if (route === 'start') {
      Object.assign(this.attributes, WorkerMachine.initialAttributes(this.settings));
      this.holdsState = true;
    }
  }

  /** A route has finished at time `now` (`error`: the message, when it threw). Returns the commands it answered. */
  routeDone(route: RouteKind, outcome: RouteOutcome, now: number, error?: string): readonly Completion[] {
    this.running = null;
    if (outcome === ROUTE_THREW) this.counters.errors++;
    switch (route) {
      case 'start':
        if (outcome === -1 || outcome === ROUTE_THREW) {
          // The worker ends (as the reference's -1 does): the `start` that asked is answered once
          // its end route has run, so whoever gets the answer sees the worker ended.
          this.phase = 'end';
          if (this.awaiting?.phase === 'start') {
            this.awaiting = {
              seq: this.awaiting.seq,
              phase: 'end',
              error: outcome === ROUTE_THREW ? `the start route threw: ${error ?? 'an error'}` : undefined,
            };
          }
          return NO_COMPLETIONS;
        }
        this.enterLoop(now);
        return this.complete('start', undefined);
      case 'loop':
        this.counters.iterations++;
        if (outcome === -1) this.phase = 'end';
        else this.advance(now);
        return NO_COMPLETIONS;
      case 'end':
        this.holdsState = false;
        if (this.startAfterEnd && !this.stopping) {
          this.startAfterEnd = false;
          this.phase = 'start';
          this.paused = false;
          return NO_COMPLETIONS; // the `start` that asked is answered once its start route has run
        }
        this.startAfterEnd = false;
        this.phase = 'ended';
        this.paused = true;
        return this.complete(
          'end',
          outcome === ROUTE_THREW ? `the end route threw: ${error ?? 'an error'}` : undefined,
        );
    }
  }

  /**
   * A control command, taken between routes, when no earlier start or end is still waiting
   * for its route (`busyWithCommand`). `seq` identifies it for a pending answer.
   */
  command(cmd: MachineCommand, seq: number, now: number): CommandAnswer {
    switch (cmd) {
      case 'pause':
        if (this.ended || this.paused) return NO_CHANGE;
        this.paused = true;
        return DONE;
      case 'continue':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        if (!this.paused) return NO_CHANGE;
        if (this.phase === 'start') this.joinFrom = now; // paused before its start route: it starts now
        this.resume(now);
        return DONE;
      case 'start':
        this.paused = false;
        this.joinFrom = now;
        this.awaiting = { seq, phase: 'start' };
        if (this.holdsState && this.phase !== 'end') {
          this.phase = 'end';
          this.startAfterEnd = true;
        } else if (this.phase === 'end') {
          this.startAfterEnd = true;
        } else {
          this.phase = 'start';
        }
        return PENDING;
      case 'loop':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        if (this.phase === 'loop') {
          if (!this.paused) return NO_CHANGE;
          this.resume(now);
        } else {
          this.paused = false;
          this.joinFrom = now;
          this.enterLoop(now);
        }
        return DONE;
      case 'end':
        if (this.ended) return { status: 'rejected', reason: ENDED_REASON };
        this.paused = false;
        this.startAfterEnd = false;
        this.phase = 'end';
        this.awaiting = { seq, phase: 'end' };
        return PENDING;
      case 'stop':
        this.stopping = true;
        this.startAfterEnd = false;
        // A worker that has not run its start route has no state to end.
        if (!this.holdsState && !this.ended) this.paused = true;
        else if (!this.paused && !this.ended) this.phase = 'end';
        return DONE;
    }
  }

  private complete(phase: 'start' | 'end', routeError: string | undefined): readonly Completion[] {
    if (this.awaiting?.phase !== phase) return NO_COMPLETIONS;
    const error = this.awaiting.error ?? routeError;
    const done: Completion = error === undefined ? { seq: this.awaiting.seq } : { seq: this.awaiting.seq, error };
    this.awaiting = null;
    return [done];
  }

  private enterLoop(now: number): void {
    this.phase = 'loop';
    const interval = (this.loopIntervalNs = this.attributes.intervalNs);
    if (!this.settings.synced) {
      this.t0 = now;
      this.nextTick = 0;
      this.ticksNotDue = 0;
      this.nextDeadline = now + interval; // basic: sleep the interval first
      return;
    }
    // Synced: the worker joins the timer's grid at its join point, the first grid point at or
    // after its start was asked for (tick 0 for the workers run() or a reload started), so the
    // workers started together run the same first point however late one of them entered its
    // loop (its start route took longer, its thread came up later); that one runs it late, once:
    // a late join, reported (takeLateJoin) and kept out of the lateness figures. One later than
    // JOIN_WINDOW_NS joins the next point not yet past instead. Either way its slice is the one
    // it would have had: the offset its start route chose plus the ticks since the grid's origin.
    this.t0 = this.origin(now);
    const from = Number.isNaN(this.joinFrom) ? now : this.joinFrom;
    this.joinFrom = Number.NaN; // a later entry (`loop` after `end`, a start) sets its own
    let first = from <= this.t0 ? 0 : Math.ceil((from - this.t0) / interval);
    const joinPoint = this.t0 + first * interval;
    if (now - joinPoint > Math.max(interval, JOIN_WINDOW_NS)) first = Math.ceil((now - this.t0) / interval);
    this.lateJoinNs = now > joinPoint ? now - joinPoint : 0;
    this.firstRunLate = now > this.t0 + first * interval;
    if (this.lateJoinNs > 0) this.counters.lateJoins++;
    this.nextTick = first;
    this.ticksNotDue = first;
    this.nextDeadline = this.t0 + first * interval;
    this.stepSlice(first);
  }

  /** How late (ns) the last loop entry was for its join point, once (0: on time, or already told). */
  takeLateJoin(): number {
    const ns = this.lateJoinNs;
    this.lateJoinNs = 0;
    return ns;
  }

  /** True once, for the loop run that follows a late join: its lateness is the join's. */
  takeFirstRunLate(): boolean {
    const late = this.firstRunLate;
    this.firstRunLate = false;
    return late;
  }

  /** After a loop run that ended at `now`: the next deadline, and the ticks dropped on the way. */
  private advance(now: number): void {
    const interval = this.loopIntervalNs;
    if (!this.settings.synced) {
      this.stepSlice(1);
      this.nextTick++;
      this.nextDeadline = now + interval;
      return;
    }
    // The first grid point not yet past; every point jumped over is an overrun. A synced slice
    // timer's slice follows the grid: a dropped tick's slice is dropped with it (its tasks are not
    // crammed into the next run), and workers' slices stay aligned in time.
    const notPast = Math.max(this.nextTick + 1, Math.ceil((now - this.t0) / interval));
    this.counters.overruns += notPast - this.nextTick - 1;
    this.stepSlice(notPast - this.nextTick);
    this.nextTick = notPast;
    this.nextDeadline = this.t0 + notPast * interval;
  }

  /** A sliced timer's slice moves on by `ticks` (one per tick of the grid, run or not). */
  private stepSlice(ticks: number): void {
    if (!this.settings.sliced) return;
    const a = this.attributes;
    a.slice = (a.slice + ticks) % a.nslices;
  }

  /** Back from a pause: the grid stays where it was; its points that fell during the pause were not due. */
  private resume(now: number): void {
    this.paused = false;
    if (this.phase !== 'loop' || !this.settings.synced || this.nextDeadline >= now) return;
    const notPast = Math.ceil((now - this.t0) / this.loopIntervalNs);
    this.ticksNotDue += notPast - this.nextTick;
    this.stepSlice(notPast - this.nextTick); // the slice follows the grid
    this.nextTick = notPast;
    this.nextDeadline = this.t0 + this.nextTick * this.loopIntervalNs;
  }
}
