/**
 * Workers on a virtual clock: the real WorkerMachine and ThreadDriver, with ports whose
 * sleep jumps the clock. One thread hosts any number of workers. Routes are plain functions
 * that may "take time" by returning { duration } and may return -1 or throw. Commands arrive
 * at scheduled virtual times. Everything is deterministic: no real time passes.
 */
import {
  WorkerMachine,
  ROUTE_THREW,
  type InitialState,
  type MachineCommand,
  type MachineSettings,
  type RouteOutcome,
} from '../../src/core/worker-machine.js';
import {
  HostedWorker,
  ThreadDriver,
  type CommandReply,
  type ThreadPorts,
  type WorkerHooks,
} from '../../src/core/thread-driver.js';
import type { RouteKind } from '../../src/core/words.js';

export const US = 1_000;
export const MS = 1_000_000;

export interface VirtualRouteCall {
  worker: number;
  route: RouteKind;
  at: number;
  tick: number;
  deadline: number;
  /** Slice attributes as the route saw them. */
  slice: number;
  tasks: number;
  /** The worker's vars (live: a route may change them). */
  vars: Record<string, unknown>;
  /** A copy of the vars as they were when the route was called. */
  varsBefore: Record<string, unknown>;
}

export type VirtualRoute = (
  call: VirtualRouteCall,
  machine: WorkerMachine,
) => { duration?: number; result?: number } | void;

export interface ScheduledCommand {
  at: number;
  command: MachineCommand;
  /** Which worker of the thread (default 0). */
  worker?: number;
}

export interface Answer {
  worker: number;
  seq: number;
  command: MachineCommand;
  at: number;
  refusal?: string;
  code?: number;
  changed?: boolean;
}

export interface VirtualWorkerSpec {
  settings?: Partial<MachineSettings>;
  routes: Partial<Record<RouteKind, VirtualRoute | null>>;
  initial?: InitialState;
}

export interface ThreadSimulation {
  machines: WorkerMachine[];
  calls: VirtualRouteCall[];
  answers: Answer[];
  /** Lateness of every loop run, per worker. */
  lateness: number[][];
  /** Late joins the driver reported, per worker: [ns after the join point, first tick]. */
  lateJoins: Array<Array<[number, number]>>;
  exitedAt: number;
}

export interface ThreadSimulationOptions {
  workers: VirtualWorkerSpec[];
  commands?: ScheduledCommand[];
  /** Every worker is told to stop at this time (virtual ns). */
  stopAt: number;
  /** Extra delay added to every wake-up from a sleep, like a kernel waking a thread late. */
  wakeLateness?: (deadline: number) => number;
}

const AUTO_SPIN = { mode: 'auto', capNs: 200_000 } as const;

export async function simulateThread(options: ThreadSimulationOptions): Promise<ThreadSimulation> {
  const queue = [...(options.commands ?? [])].sort((a, b) => a.at - b.at);
  const calls: VirtualRouteCall[] = [];
  const answers: Answer[] = [];
  const lateness: number[][] = options.workers.map(() => []);
  const lateJoins: Array<Array<[number, number]>> = options.workers.map(() => []);
  let now = 0;
  let stopSent = false;
  const seqs = options.workers.map(() => 0);
  const sent = new Map<string, MachineCommand>();

  const machines = options.workers.map(
    (spec) =>
      new WorkerMachine(
        { synced: true, sliced: false, intervalNs: MS, ntasks: 0, nslices: 1, ...spec.settings },
        spec.initial ?? 'run',
      ),
  );
  const hosted = options.workers.map((spec, index) => {
    const machine = machines[index]!;
    let vars: Record<string, unknown> = {};
    let prepared = { tick: 0, deadline: 0 };
    const hooks: WorkerHooks = {
      spin: AUTO_SPIN,
      hasRoute: (route) => Boolean(spec.routes[route]),
      prepare(_route, tick, deadline) {
        prepared = { tick, deadline };
      },
      call(route): RouteOutcome {
        const a = machine.attributes;
        const call: VirtualRouteCall = {
          worker: index,
          route,
          at: now,
          tick: prepared.tick,
          deadline: prepared.deadline,
          slice: a.slice,
          tasks: a.tasks,
          vars,
          varsBefore: { ...vars },
        };
        calls.push(call);
        try {
          const outcome = spec.routes[route]!(call, machine) ?? {};
          now += outcome.duration ?? 0;
          return outcome.result;
        } catch {
          return ROUTE_THREW;
        }
      },
      lastError: () => 'virtual route error',
      fresh() {
        vars = {};
      },
      drop() {
        vars = { dropped: true };
      },
      claim: () => true,
      answer(seq, reply: CommandReply) {
        const command = sent.get(`${index}:${seq}`)!;
        answers.push({
          worker: index,
          seq,
          command,
          at: now,
          ...(reply.ok ? { changed: reply.changed } : { refusal: reply.reason, code: reply.code }),
        });
      },
      routeBegan() {},
      routeEnded() {},
      publish() {},
      publishRun() {},
      recordLateness: (ns) => lateness[index]!.push(ns),
      lateJoin: (ns, tick) => lateJoins[index]!.push([ns, tick]),
    };
    return new HostedWorker(index, machine, hooks);
  });

  /** The time of the next thing that arrives from outside: a command, or the stop. */
  const nextArrival = () => Math.min(queue[0]?.at ?? Infinity, stopSent ? Infinity : options.stopAt);

  const ports: ThreadPorts = {
    now: () => now,
    sleep(until) {
      const arrival = nextArrival();
      if (arrival <= until) {
        now = Math.max(now, arrival);
        return false;
      }
      now = until + (options.wakeLateness?.(until) ?? 0);
      return true;
    },
    breathe() {},
    waitForWork() {
      const arrival = nextArrival();
      if (arrival === Infinity) throw new Error('simulation: every worker waits and nothing is left to arrive');
      now = Math.max(now, arrival);
    },
    poll(driver) {
      while (queue.length > 0 && queue[0]!.at <= now) {
        const { command, worker = 0 } = queue.shift()!;
        const seq = ++seqs[worker]!;
        sent.set(`${worker}:${seq}`, command);
        driver.enqueue(worker, { seq, command });
      }
      if (!stopSent && options.stopAt <= now) {
        stopSent = true;
        driver.stop();
      }
    },
    wake() {},
  };

  await new ThreadDriver(hosted, ports).run();
  return { machines, calls, answers, lateness, lateJoins, exitedAt: now };
}

/** One worker on its own thread (the shape most lifecycle and pacing tests need). */
export interface Simulation {
  machine: WorkerMachine;
  calls: VirtualRouteCall[];
  answers: Answer[];
  lateness: number[];
  exitedAt: number;
  runs(route: RouteKind): VirtualRouteCall[];
}

export interface SimulationOptions {
  settings: Partial<MachineSettings>;
  routes: Partial<Record<RouteKind, VirtualRoute | null>>;
  initial?: InitialState;
  commands?: Array<{ at: number; command: MachineCommand }>;
  stopAt: number;
  wakeLateness?: (deadline: number) => number;
}

export async function simulate(options: SimulationOptions): Promise<Simulation> {
  const sim = await simulateThread({
    workers: [{ settings: options.settings, routes: options.routes, initial: options.initial }],
    commands: options.commands,
    stopAt: options.stopAt,
    wakeLateness: options.wakeLateness,
  });
  return {
    machine: sim.machines[0]!,
    calls: sim.calls,
    answers: sim.answers,
    lateness: sim.lateness[0]!,
    exitedAt: sim.exitedAt,
    runs: (route) => sim.calls.filter((c) => c.route === route),
  };
}
