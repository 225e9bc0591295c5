/**
 * One scheduler thread: many workers' state machines, one clock, one sleep.
 *
 * How a thread chooses what to run next:
 * 1. It takes the commands that have arrived (`ThreadPorts.poll`) into each worker's own
 *    queue. A worker's commands are acted on in order, one at a time, between its routes;
 *    a `start` or `end` holds the commands behind it until the route it asked for has run.
 * 2. It settles every worker that changed: applies its commands, then runs what its machine
 *    asks for now (start and end routes run at once; a paused or ended worker waits; a
 *    looping worker goes into the deadline heap at its next deadline).
 * 3. It sleeps to the earliest deadline in the heap (or until a command or an async route's
 *    completion rings the thread's doorbell), spinning only for that one worker's spin, and
 *    runs that worker's loop route the moment its deadline has come. Workers due at the same
 *    time run back to back in heap order (deadline, then placement), with no sleep between.
 *
 * An async route holds only its own worker: the worker leaves the heap until the promise
 * settles, the others keep their deadlines, and the completion rings the doorbell so the
 * thread looks again. Its I/O gets the thread's event-loop turns (see precise-sleeper.ts).
 *
 * Everything outside - the clock, the sleep, the messages, the routes, shared memory - is a
 * port, so tests run the same driver, and many workers on it, on a virtual clock.
 */
import type { ResolvedSpin } from '../config/types.js';
import { DeadlineHeap, type HeapEntry } from './deadline-heap.js';
import { ROUTE_THREW, type MachineCommand, type RouteOutcome, type WorkerMachine } from './worker-machine.js';
import type { RouteKind } from './words.js';

/** A command for one worker. `seq` 0 is the thread's own (stop), which no one waits for. */
export interface QueuedCommand {
  seq: number;
  command: MachineCommand;
}

/** How a command went, as a worker answers it. */
export type CommandReply = { ok: true; changed: boolean } | { ok: false; code: 400 | 500; reason: string };

/** What the driver needs of one worker's surroundings: its routes and its shared state. */
export interface WorkerHooks {
  readonly spin: ResolvedSpin;
  hasRoute(route: RouteKind): boolean;
  /** Sets up the next route call (for loop: the run's tick and deadline); calls nothing. */
  prepare(route: RouteKind, tick: number, deadline: number): void;
  /** Calls the prepared route. Never throws: a route that throws gives ROUTE_THREW (see `lastError`). */
  call(route: RouteKind): RouteOutcome | Promise<RouteOutcome>;
  /** The message of the last route error. */
  lastError(): string | undefined;
  /** New vars and message, before a start. */
  fresh(): void;
  /** Drops vars and message, after an end. */
  drop(): void;
  /** Claims command `seq` for acting on it; false if the main thread withdrew it (timed out). */
  claim(seq: number): boolean;
  answer(seq: number, reply: CommandReply): void;
  /** A route began at `now` / ended: shown to the main thread, to tell a stuck route. */
  routeBegan(now: number): void;
  routeEnded(): void;
  /** The machine's state changed: make it visible (route, paused, attributes, counters). */
  publish(machine: WorkerMachine): void;
  /** After a loop run, which changes neither route nor paused: counters and attributes only. */
  publishRun(machine: WorkerMachine): void;
  /** Loop lateness of one run, in ns. */
  recordLateness(ns: number): void;
  /**
   * The worker entered its loop `ns` after its join point (worker-machine.ts, enterLoop): told
   * once per entry; its first run's lateness, the join's, is not recorded as the timer's.
   */
  lateJoin?(ns: number, tick: number): void;
}

export interface ThreadPorts {
  /** Monotonic time in ns. */
  now(): number;
  /**
   * Sleep until `until`: true once it has come, false if the doorbell rang first, or a promise
   * after a stretch of asynchronous waiting (the driver then looks again).
   */
  sleep(until: number, spin: ResolvedSpin, now: number): boolean | Promise<void>;
  /** After a loop run: lets the thread's event loop have a turn if it has gone too long without one. */
  breathe(): void | Promise<void>;
  /** Nothing is due: returns (or resolves) once the doorbell rings. */
  waitForWork(): void | Promise<void>;
  /** Hands over the messages that have arrived (commands, stop). */
  poll(driver: ThreadDriver): void;
  /** An async route has settled: ring the doorbell so the thread looks again. */
  wake(): void;
  /** Called once, when every worker has begun its first route (start routes that are synchronous have run). */
  started?(): void;
}

const NO_CHANGE: CommandReply = Object.freeze({ ok: true, changed: false });
const CHANGED: CommandReply = Object.freeze({ ok: true, changed: true });

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

/** A worker as its thread holds it. */
export class HostedWorker implements HeapEntry {
  deadline = 0;
  heapIndex = -1;
  tick = 0;
  /** An async route of this worker is in flight. */
  busy = false;
  exited = false;
  dirty = false;
  readonly commands: QueuedCommand[] = [];

  constructor(
    /** Placement on the thread: ties among equal deadlines go to the lower. */
    readonly order: number,
    readonly machine: WorkerMachine,
    readonly hooks: WorkerHooks,
  ) {}
}

export class ThreadDriver {
  private readonly heap = new DeadlineHeap<HostedWorker>();
  private readonly dirty: HostedWorker[] = [];
  private exitedCount = 0;

  constructor(
    readonly workers: readonly HostedWorker[],
    private readonly ports: ThreadPorts,
  ) {}

  /** A command for the worker at `order`. */
  enqueue(order: number, command: QueuedCommand): void {
    const worker = this.workers[order];
    if (!worker) return;
    worker.commands.push(command);
    this.markDirty(worker);
  }

  /** Stop every worker: those running run their end route, then the thread's loop returns. */
  stop(): void {
    for (const worker of this.workers) {
      worker.commands.push({ seq: 0, command: 'stop' });
      this.markDirty(worker);
    }
  }

  /** Runs until every worker has exited (after `stop`). */
  async run(): Promise<void> {
    for (const worker of this.workers) this.markDirty(worker);
    const ports = this.ports;
    let first = true;
    for (;;) {
      ports.poll(this);
      // In placement order, so that start routes due together run in the workers' order.
      for (let i = 0; i < this.dirty.length; i++) {
        const worker = this.dirty[i]!;
        worker.dirty = false;
        this.settle(worker);
      }
      this.dirty.length = 0;
      if (first) {
        first = false;
        ports.started?.();
      }
      if (this.exitedCount === this.workers.length) return;
      const next = this.heap.peek();
      if (next === undefined) {
        const waiting = ports.waitForWork();
        if (waiting) await waiting;
        continue;
      }
      // All the run needs is set up before the sleep, so that once the deadline has come the
      // route is called at once; the bookkeeping waits until it has returned.
      this.prepareLoop(next);
      const now = ports.now();
      if (now < next.deadline) {
        const woke = ports.sleep(next.deadline, next.hooks.spin, now);
        if (woke !== true) {
          next.machine.cancelLoop(); // the doorbell rang, or a long sleep goes on: look again
          if (woke) await woke;
          continue;
        }
      } else if (this.commandsArrived()) {
        next.machine.cancelLoop(); // already due, but routes ran since the last look: commands first
        continue;
      }
      this.runLoop(next);
      const breathing = ports.breathe();
      if (breathing) await breathing;
    }
  }

  /** Looks for messages without sleeping; true if a worker now has something to settle. */
  private commandsArrived(): boolean {
    this.ports.poll(this);
    return this.dirty.length > 0;
  }

  private markDirty(worker: HostedWorker): void {
    if (worker.dirty) return;
    worker.dirty = true;
    this.dirty.push(worker);
  }

  /** Applies the worker's commands and does what its machine asks for now, until it waits or loops. */
  private settle(worker: HostedWorker): void {
    if (worker.busy || worker.exited) return;
    const machine = worker.machine;
    const hooks = worker.hooks;
    for (;;) {
      const commands = worker.commands;
      while (commands.length > 0 && (commands[0]!.seq === 0 || !machine.busyWithCommand)) {
        const { seq, command } = commands.shift()!;
        if (seq !== 0 && !hooks.claim(seq)) continue;
        const answer = machine.command(command, seq, this.ports.now());
        hooks.publish(machine); // state first: whoever gets the answer sees the state it produced
        if (seq === 0) continue;
        if (answer.status === 'done') hooks.answer(seq, answer.changed ? CHANGED : NO_CHANGE);
        else if (answer.status === 'rejected') hooks.answer(seq, { ok: false, code: 400, reason: answer.reason });
      }
      const action = machine.next();
      switch (action.kind) {
        case 'loop': {
          const lateJoinNs = machine.takeLateJoin();
          if (lateJoinNs > 0) hooks.lateJoin?.(lateJoinNs, action.tick);
          worker.tick = action.tick;
          this.heap.set(worker, action.deadline);
          return;
        }
        case 'wait':
          this.heap.delete(worker);
          return;
        case 'exit':
          this.heap.delete(worker);
          worker.exited = true;
          this.exitedCount++;
          hooks.publish(machine);
          return;
        case 'start':
        case 'end':
          this.heap.delete(worker);
          if (!this.runEdge(worker, action.kind)) return; // async: settled again when it completes
      }
    }
  }

  /** Runs a start or end route. Returns false if it went async (the worker is busy until it settles). */
  private runEdge(worker: HostedWorker, route: 'start' | 'end'): boolean {
    const { machine, hooks } = worker;
    machine.begin(route);
    if (route === 'start') hooks.fresh();
    hooks.publish(machine);
    if (!hooks.hasRoute(route)) {
      this.edgeDone(worker, route, undefined);
      return true;
    }
    hooks.prepare(route, 0, 0);
    hooks.routeBegan(this.ports.now());
    const outcome = hooks.call(route);
    if (!isPromise(outcome)) {
      hooks.routeEnded();
      this.edgeDone(worker, route, outcome);
      return true;
    }
    this.awaitRoute(worker, outcome, (settled) => {
      hooks.routeEnded();
      this.edgeDone(worker, route, settled);
    });
    return false;
  }

  /** An async route: the worker is busy until it settles; then `done`, and the thread looks again. */
  private awaitRoute(
    worker: HostedWorker,
    outcome: Promise<RouteOutcome>,
    done: (settled: RouteOutcome) => void,
  ): void {
    worker.busy = true;
    void outcome.then((settled) => {
      worker.busy = false;
      done(settled);
      this.markDirty(worker);
      this.ports.wake();
    });
  }

  private edgeDone(worker: HostedWorker, route: 'start' | 'end', outcome: RouteOutcome): void {
    const { machine, hooks } = worker;
    if (route === 'end') hooks.drop();
    const error = outcome === ROUTE_THREW ? hooks.lastError() : undefined;
    const completed = machine.routeDone(route, outcome, this.ports.now(), error);
    hooks.publish(machine);
    for (const done of completed) {
      hooks.answer(done.seq, done.error === undefined ? CHANGED : { ok: false, code: 500, reason: done.error });
    }
  }

  /** Sets up the loop run of `worker` (the next due), before sleeping to its deadline. */
  private prepareLoop(worker: HostedWorker): void {
    worker.machine.begin('loop');
    worker.hooks.prepare('loop', worker.tick, worker.deadline);
  }

  /** The loop run of `worker`, prepared, whose deadline has come. */
  private runLoop(worker: HostedWorker): void {
    const { hooks } = worker;
    const deadline = worker.deadline;
    const startedAt = this.ports.now();
    hooks.routeBegan(startedAt); // before the call: a route that never returns must show as stuck
    const outcome = hooks.call('loop');
    if (!isPromise(outcome)) {
      this.loopDone(worker, outcome, startedAt - deadline); // settle() moves it in the heap, or takes it out
      return;
    }
    this.heap.delete(worker); // out of the heap until the route settles
    this.awaitRoute(worker, outcome, (settled) => this.loopDone(worker, settled, startedAt - deadline));
  }

  private loopDone(worker: HostedWorker, outcome: RouteOutcome, latenessNs: number): void {
    const { machine, hooks } = worker;
    hooks.routeEnded();
    if (!machine.takeFirstRunLate()) hooks.recordLateness(latenessNs); // a late join's first run: reported as such
    machine.routeDone('loop', outcome, this.ports.now());
    if (machine.phase !== 'loop')
      hooks.publish(machine); // publish() includes publishRun()
    else hooks.publishRun(machine);
    this.settle(worker);
  }
}
