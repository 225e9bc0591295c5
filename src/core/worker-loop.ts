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
import type { MachineCommand, RouteOutcome, WorkerMachine } from './worker-machine.js';

export type RouteKind = 'start' | 'loop' | 'end';

export interface WorkerPorts {
  /** Monotonic time in ns. */
  now(): number;
  /**
   * Sleep until `until`: true once it has come, false if a command is waiting first, or a
   * promise after a stretch of asynchronous waiting (the loop then looks again).
   */
  sleep(until: number): boolean | Promise<void>;
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
  /** Sets up the next route call (for loop: the run's tick and deadline); calls nothing. */
  prepareRoute(route: RouteKind, tick: number, deadline: number): void;
  /** Calls the prepared route. Never throws: a route that throws is reported and gives ROUTE_THREW. */
  callRoute(route: RouteKind): RouteOutcome | Promise<RouteOutcome>;
  /** New vars and message, before a start. */
  freshState(): void;
  /** Drops vars and message, after an end. */
  dropState(): void;
  /** Loop lateness of one run, in ns. */
  recordLateness(ns: number): void;
  /** The machine's state changed: make it visible (route, paused, attributes, counters). */
  publish(machine: WorkerMachine): void;
  /** After a loop run, which changes neither route nor paused: counters and attributes only. */
  publishRun(machine: WorkerMachine): void;
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

    const action = machine.next();
    switch (action.kind) {
      case 'loop': {
        // All a run needs is set up before the sleep, so that once the deadline has come the
        // route is called at once; the bookkeeping waits until it has returned.
        machine.begin('loop');
        ports.prepareRoute('loop', action.tick, action.deadline);
        let startedAt = ports.now();
        if (startedAt < action.deadline) {
          const woke = ports.sleep(action.deadline);
          if (woke !== true) {
            machine.cancelLoop(); // a command came first, or a long sleep goes on: look again
            if (woke) await woke;
            break;
          }
          startedAt = ports.now();
        }
        let outcome = ports.callRoute('loop');
        if (isPromise(outcome)) outcome = await outcome;
        ports.recordLateness(startedAt - action.deadline);
        machine.routeDone('loop', outcome, ports.now());
        ports.publishRun(machine);
        const breathing = ports.breathe();
        if (breathing) await breathing;
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
          ports.prepareRoute(route, 0, 0);
          const result = ports.callRoute(route);
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

