/**
 * A worker on a virtual clock: the real WorkerMachine and runWorkerLoop, with ports whose
 * sleep jumps the clock. Routes are plain functions that may "take time" by returning
 * { duration } and may return -1 or throw. Commands arrive at scheduled virtual times.
 * Everything is deterministic: no real time passes.
 */
import { WorkerMachine, ROUTE_THREW, type MachineCommand, type MachineSettings, type RouteOutcome } from '../../dist/core/worker-machine.js';
import { runWorkerLoop, type RouteKind, type WorkerPorts } from '../../dist/core/worker-loop.js';

export const US = 1_000;
export const MS = 1_000_000;

export interface VirtualRouteCall {
  route: RouteKind;
  at: number;
  tick: number;
  /** Slice attributes as the route saw them. */
  slice: number;
  tasks: number;
  /** The worker's vars (live: a route may change them). */
  vars: Record<string, unknown>;
  /** A copy of the vars as they were when the route was called. */
  varsBefore: Record<string, unknown>;
}

export type VirtualRoute = (call: VirtualRouteCall, machine: WorkerMachine) => { duration?: number; result?: number } | void;

export interface ScheduledCommand {
  at: number;
  command: MachineCommand;
}

export interface Answer {
  seq: number;
  command: MachineCommand;
  at: number;
  refusal?: string;
}

export interface Simulation {
  machine: WorkerMachine;
  calls: VirtualRouteCall[];
  answers: Answer[];
  lateness: number[];
  /** Virtual time at which the worker loop returned. */
  exitedAt: number;
  /** Route calls of one kind. */
  runs(route: RouteKind): VirtualRouteCall[];
}

export interface SimulationOptions {
  settings: Partial<MachineSettings>;
  routes: Partial<Record<RouteKind, VirtualRoute | null>>;
  commands?: ScheduledCommand[];
  /** A stop command is sent at this time (virtual ns). */
  stopAt: number;
  /** Extra delay added to every wake-up from a sleep, like a kernel waking a thread late. */
  wakeLateness?: (deadline: number) => number;
}

export async function simulate(options: SimulationOptions): Promise<Simulation> {
  const settings: MachineSettings = { synced: true, sliced: false, intervalNs: MS, ntasks: 0, nslices: 1, ...options.settings };
  const machine = new WorkerMachine(settings);
  const queue = [...(options.commands ?? []), { at: options.stopAt, command: 'stop' as const }].sort((a, b) => a.at - b.at);
  const calls: VirtualRouteCall[] = [];
  const answers: Answer[] = [];
  const lateness: number[] = [];
  const sentAt = new Map<number, MachineCommand>();
  let now = 0;
  let seq = 0;
  let arrived: { command: MachineCommand; seq: number } | null = null;
  let vars: Record<string, unknown> = {};
  let preparedTick = 0;

  /** Moves the clock to `t` unless a command is due first; returns true if one arrived. */
  const advanceTo = (t: number): boolean => {
    const nextCommand = queue[0];
    if (nextCommand && nextCommand.at <= t) {
      now = Math.max(now, nextCommand.at);
      queue.shift();
      seq++;
      arrived = { command: nextCommand.command, seq };
      sentAt.set(seq, nextCommand.command);
      return true;
    }
    now = Math.max(now, t);
    return false;
  };

  const ports: WorkerPorts = {
    now: () => now,
    sleep(until) {
      if (advanceTo(until)) return false;
      now += options.wakeLateness?.(until) ?? 0;
      return true;
    },
    breathe() {},
    waitForCommand() {
      if (!advanceTo(Number.POSITIVE_INFINITY)) throw new Error('simulation: waiting with no command left');
    },
    takeCommand() {
      if (!arrived) {
        // Commands due while a route ran are seen at the next check point.
        const due = queue[0];
        if (due && due.at <= now) advanceTo(now);
      }
      const taken = arrived;
      arrived = null;
      return taken;
    },
    answer(s, refusal) {
      answers.push({ seq: s, command: sentAt.get(s)!, at: now, ...(refusal ? { refusal } : {}) });
    },
    hasRoute: (route) => Boolean(options.routes[route]),
    prepareRoute(_route, tick) {
      preparedTick = tick;
    },
    callRoute(route): RouteOutcome {
      const a = machine.attributes;
      const call: VirtualRouteCall = { route, at: now, tick: preparedTick, slice: a.slice, tasks: a.tasks, vars, varsBefore: { ...vars } };
      calls.push(call);
      try {
        const outcome = options.routes[route]!(call, machine) ?? {};
        now += outcome.duration ?? 0;
        return outcome.result;
      } catch {
        return ROUTE_THREW;
      }
    },
    freshState() {
      vars = {};
    },
    dropState() {
      vars = { dropped: true };
    },
    recordLateness: (ns) => lateness.push(ns),
    publish() {},
    publishRun() {},
  };

  await runWorkerLoop(machine, ports);
  return { machine, calls, answers, lateness, exitedAt: now, runs: (route) => calls.filter((c) => c.route === route) };
}
