/**
 * Drives a WorkerMachine: asks it what to do, does it through `WorkerPorts`, reports back.
 *
 * The ports are the outside world - clock, sleep, commands, routes, shared state. A worker
 * thread passes real ones (runtime/worker-ports.ts); tests pass a virtual clock, so the
 * whole lifecycle, pacing and every command are checked deterministically.
 *
 * Hot path: a port may answer synchronously or with a promise, and the loop awaits only
 * promises. After the final spin before a deadline, the loop route is called in the same
 * synchronous stretch: no microtask hop between "the deadline has come" and the run.
 */
import { ROUTE_THREW, type MachineCommand, type RouteOutcome, type WorkerMachine } from './worker-machine.js';

export type RouteKind = 'start' | 'loop' | 'end';

export interface WorkerPorts {
  /** Monotonic time in ns. */
  now(): number;
  /**
   * Sleep towards `until`. Returns nothing once the deadline has come or a command is waiting;
   * returns a promise after a stretch of asynchronous waiting (the loop then asks again).
   */
  sleep(until: number): void | Promise<void>;
  /** After a loop run: lets the thread's event loop have a turn if it has gone too long without one. */
  breathe(): void | Promise<void>;
  /** Paused: returns (or resolves) once a command is waiting. */
  waitForCommand(): void | Promise<void>;
  /** The command sent since the last call, if any. */
  takeCommand(): { command: MachineCommand; seq: number } | null;
  /** Answers command `seq`: done, or refused with a reason. */
  answer(seq: number, refusal?: string): void;
  /** Whether the timer has this route. */
  hasRoute(route: RouteKind): boolean;
  /**
   * Runs a route (for loop: the run's tick and deadline). Never throws: a route that throws
   * is reported and gives ROUTE_THREW.
   */
  runRoute(route: RouteKind, tick: number, deadline: number): RouteOutcome | Promise<RouteOutcome>;
  /** New vars and message, before a start. */
  freshState(): void;
  /** Drops vars and message, after an end. */
  dropState(): void;
  /** Loop lateness of one run, in ns. */
  recordLateness(ns: number): void;
  /** The machine's state changed: make it visible (route, paused, attributes, counters). */
  publish(machine: WorkerMachine): void;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

export async function runWorkerLoop(machine: WorkerMachine, ports: WorkerPorts): Promise<void> {
  ports.publish(machine);
  for (;;) {
    const taken = ports.takeCommand();
    if (taken) {
      const answer = machine.command(taken.command, taken.seq, ports.now());
      ports.publish(machine); // state first: whoever gets the answer sees the state it produced
      if (answer.status === 'done') ports.answer(taken.seq);
      else if (answer.status === 'rejected') ports.answer(taken.seq, answer.reason);
    }

    const now = ports.now();
    const action = machine.next(now);
    switch (action.kind) {
      case 'loop': {
        ports.recordLateness(now - action.deadline);
        machine.begin('loop');
        let outcome = ports.runRoute('loop', action.tick, action.deadline);
        if (isPromise(outcome)) outcome = await outcome;
        machine.routeDone('loop', outcome, ports.now());
        ports.publish(machine);
        const breathing = ports.breathe();
        if (breathing) await breathing;
        break;
      }
      case 'sleep': {
        const sleeping = ports.sleep(action.until);
        if (sleeping) await sleeping;
        break;
      }
      case 'start':
      case 'end': {
        const route = action.kind;
        machine.begin(route);
        if (route === 'start') ports.freshState();
        ports.publish(machine);
        let outcome: RouteOutcome = undefined;
        if (ports.hasRoute(route)) {
          const result = ports.runRoute(route, 0, 0);
          outcome = isPromise(result) ? await result : result;
        }
        if (route === 'end') ports.dropState();
        const completed = machine.routeDone(route, outcome, ports.now());
        ports.publish(machine);
        for (const done of completed) ports.answer(done.seq);
        break;
      }
      case 'wait': {
        const waiting = ports.waitForCommand();
        if (waiting) await waiting;
        break;
      }
      case 'exit':
        ports.publish(machine);
        return;
    }
  }
}

export { ROUTE_THREW };
