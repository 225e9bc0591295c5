/**
 * The entry of one scheduler thread: the workers placed on it (of one timer or many).
 *
 * It loads the routes module once, builds a state machine, a route context and shared-memory
 * hooks for each worker, then hands them all to a ThreadDriver with the real clock, one
 * precise sleeper on the thread's doorbell, and its message port, until told to stop.
 */
import { parentPort, receiveMessageOnPort, threadId, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { isSliced, isSynced } from '../config/timer-type.js';
import type { ResolvedTimer } from '../config/types.js';
import { HostedWorker, ThreadDriver, isPromise, type ThreadPorts, type WorkerHooks } from '../core/thread-driver.js';
import { ROUTE_THREW, WorkerMachine, type InitialState, type RouteOutcome } from '../core/worker-machine.js';
import { ROUTE_EVENTS, ROUTE_KINDS, type RouteKind } from '../core/words.js';
import type { RouteFunction } from '../route-types.js';
import { ControlBlock } from './control-block.js';
import { Doorbell } from './thread-doorbell.js';
import { importModule } from './load-module.js';
import type { LogOptions, Logger } from './logger.js';
import { createThreadLogger, errorRecord } from './log-forward.js';
import { PreciseSleeper } from './precise-sleeper.js';
import { WorkerRouteContext, type SharedData } from './route-context.js';
import { DataPlane, type DataPlaneHandles } from '../data/index.js';
import { createSharedData } from './shared-data.js';
import { lowerOwnTimerSlack } from './thread-slack.js';
import { gridOrigin, OriginSlots } from './grid-origin.js';
import type { MainToThread, ThreadToMain } from './thread-messages.js';

export interface HostedWorkerBoot {
  timer: ResolvedTimer;
  worker: number;
  block: SharedArrayBuffer;
  /** The timer's grid origin, shared by its workers on every thread. */
  origin: SharedArrayBuffer;
  initial: InitialState;
}

export interface ThreadBootData {
  label: string;
  routesUrl: string;
  log: LogOptions;
  /** process.hrtime.bigint() at the engine clock's zero. */
  clockOrigin: bigint;
  doorbell: SharedArrayBuffer;
  port: MessagePort;
  workers: HostedWorkerBoot[];
  /** The queues, tables, limiters and `data` (DataPlane.handles()), attached once per thread. */
  dataPlane: DataPlaneHandles;
}

const boot = workerData as ThreadBootData;
const post = (message: ThreadToMain) => parentPort!.postMessage(message);
// Lines go to the main thread, which writes them where its own go (log-forward.ts).
const logger = createThreadLogger(boot.log.level ?? 'info', { thread: boot.label }, (line) =>
  post({ type: 'log', line }),
);
const slack = lowerOwnTimerSlack(1);
logger.debug({ timerSlackNs: slack, workers: boot.workers.length }, 'scheduler thread up');

/**
 * The engine clock: ns since `clockOrigin` on process.hrtime's scale, which all threads share,
 * read as performance.now() (which counts from this thread's start) plus a constant measured
 * here to within tens of ns (the tightest of many brackets: any one may be interrupted).
 */
const clockOffsetNs = (() => {
  let best = { width: Infinity, offset: 0 };
  for (let i = 0; i < 200; i++) {
    const before = process.hrtime.bigint();
    const perf = performance.now() * 1e6;
    const after = process.hrtime.bigint();
    const width = Number(after - before);
    if (width < best.width) best = { width, offset: Number((before + after) / 2n - boot.clockOrigin) - perf };
  }
  return best.offset;
})();
const hrtimeAtZero = Number(boot.clockOrigin);

const routesModule = await importModule(boot.routesUrl);
// Its routes exist before it says ready: a module without them fails the boot (a death, charged),
// rather than a worker listed running whose every run throws.
for (const { timer } of boot.workers) {
  for (const route of [timer.start, timer.loop, timer.end]) {
    if (route && typeof routesModule[route] !== 'function') {
      throw new Error(`the routes module has no function ${route} (a route of timer "${timer.name}")`);
    }
  }
}
// Items a take here drops for their age go to the host's pt.queue(name).on('expired') listeners.
const dataPlane = DataPlane.attach(boot.dataPlane, undefined, (queue, items) =>
  post({ type: 'expired', queue, items }),
);
const sharedByTimer = new Map<string, SharedData>();
function sharedDataFor(timer: ResolvedTimer): SharedData {
  let shared = sharedByTimer.get(timer.name);
  if (!shared) sharedByTimer.set(timer.name, (shared = createSharedData(dataPlane, timer)));
  return shared;
}
const doorbell = new Doorbell(boot.doorbell);
const sleeper = new PreciseSleeper(doorbell.words, Doorbell.RING, clockOffsetNs);
const now = sleeper.now;
const originSlots = new OriginSlots();

function hostWorker(spec: HostedWorkerBoot, order: number): HostedWorker {
  const { timer, worker } = spec;
  const block = new ControlBlock(spec.block);
  block.setThreadId(threadId);
  const sliced = isSliced(timer.type);
  const machine = new WorkerMachine(
    {
      synced: isSynced(timer.type),
      sliced,
      intervalNs: timer.intervalNs,
      ntasks: timer.ntasks,
      nslices: timer.nslices,
      origin: gridOrigin(spec.origin, timer.intervalNs, originSlots),
    },
    spec.initial,
  );
  Object.assign(machine.counters, block.counters); // counters outlive a thread that died
  const workerLogger = logger.child({ timer: timer.name, worker });
  const loggers = Object.fromEntries(ROUTE_KINDS.map((r) => [r, workerLogger.child({ route: r })])) as Record<
    RouteKind,
    Logger
  >;
  const routes: Record<RouteKind, RouteFunction | null> = {
    start: timer.start ? (routesModule[timer.start] as RouteFunction) : null,
    loop: routesModule[timer.loop] as RouteFunction,
    end: timer.end ? (routesModule[timer.end] as RouteFunction) : null,
  };
  const ctx = new WorkerRouteContext(
    timer,
    worker,
    machine,
    loggers,
    (event, data) => post({ type: 'message', worker: order, event, data }),
    sharedDataFor(timer),
  );
  let lastError: string | undefined;
  /** What every publish writes: the counters, and the spin of the thread's last sleep. */
  const publishCounters = (m: WorkerMachine): void => {
    block.setCounters(m.counters);
    block.setSpin(sleeper.lastSpinNs);
  };

  function routeFailed(route: RouteKind, error: unknown): typeof ROUTE_THREW {
    const err = error instanceof Error ? error : new Error(String(error));
    lastError = err.message;
    // Logged by the main thread, in full or summarised (route-error-log.ts).
    post({ type: 'route-error', worker: order, route, err: errorRecord(err) });
    return ROUTE_THREW;
  }

  const hooks: WorkerHooks = {
    spin: timer.spin,
    hasRoute: (route) => routes[route] !== null,
    prepare(route, tick, deadline) {
      ctx.enter(route, tick, route === 'loop' ? deadline + hrtimeAtZero : 0);
    },
    call(route): RouteOutcome | Promise<RouteOutcome> {
      // A cluster worker whose lease this node no longer holds (or may not: renewals failed) does not run.
      if (route === 'loop' && !block.leaseCovers(performance.now() * 1e6 + clockOffsetNs)) return undefined;
      try {
        const result = routes[route]!(ctx, ROUTE_EVENTS[route]);
        if (isPromise(result)) {
          return (result as Promise<RouteOutcome>).then(
            (value) => value,
            (error: unknown) => routeFailed(route, error),
          );
        }
        return result as RouteOutcome;
      } catch (error) {
        return routeFailed(route, error);
      }
    },
    lastError: () => lastError,
    fresh: () => ctx.fresh(),
    drop: () => ctx.drop(),
    claim: (seq) => block.claim(seq),
    answer: (seq, reply) => post({ type: 'answer', worker: order, seq, reply }),
    routeBegan: (at) => block.setRouteSince(at > 0 ? at : 1),
    routeEnded: () => block.setRouteSince(0),
    publish(m) {
      block.setRoute(m.phase === 'ended' ? 'none' : (m.running ?? m.phase));
      block.setPaused(m.paused);
      block.setAttributes(m.attributes);
      publishCounters(m);
    },
    // A loop route cannot write attributes (start only): a run moves only a sliced timer's slice and tasks.
    publishRun(m) {
      if (sliced) block.setSlice(m.attributes.slice, m.attributes.tasks);
      publishCounters(m);
    },
    recordLateness: (ns) => block.lateness.record(ns),
    lateJoin(ns, tick) {
      publishCounters(machine); // lateJoins, before the line that reports it
      workerLogger.warn(
        { lateJoinUs: Math.round(ns / 1000), tick, lateJoins: machine.counters.lateJoins },
        `joined its timer's grid ${(ns / 1e6).toFixed(1)} ms after its join point (its start route or its thread came late); first run at tick ${tick}, on its slice; that run's lateness is not counted`,
      );
    },
  };
  return new HostedWorker(order, machine, hooks);
}

const workers = boot.workers.map(hostWorker);
const port = boot.port;
let received = 0;
/** The doorbell value already looked at. */
let seen = doorbell.rung;

const ports: ThreadPorts = {
  now,
  sleep: (until, spin, t) => sleeper.sleep(until, spin, seen, t),
  breathe: () => sleeper.breathe(),
  waitForWork: () => sleeper.waitForCommand(seen),
  poll(driver) {
    seen = doorbell.rung;
    const sent = doorbell.sent;
    // A message is counted before the ring, so it may take a moment to become visible: wait for it.
    for (let tries = 0; received !== sent && tries < 1_000_000; tries++) {
      const packet = receiveMessageOnPort(port);
      if (packet === undefined) continue;
      received = Doorbell.count(received);
      const message = packet.message as MainToThread;
      if (message.type === 'stop') driver.stop();
      else driver.enqueue(message.worker, { seq: message.seq, command: message.command });
    }
  },
  wake: () => doorbell.ring(),
  // `ready` once the workers are in their first route: run() then resolves with them running.
  started: () => post({ type: 'ready' }),
};

// Waiting on Atomics.waitAsync does not keep a thread's event loop alive; this handle does,
// so a thread whose workers are all paused stays up until it is told to stop.
const keepAlive = setInterval(() => {}, 2 ** 30);
await new ThreadDriver(workers, ports).run();
clearInterval(keepAlive);
logger.flush?.();
process.exit(0);
