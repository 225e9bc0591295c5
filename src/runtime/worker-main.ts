/**
 * The entry of one worker thread: one worker of one timer.
 * Loads the routes module, then drives its WorkerMachine with the real clock, the precise
 * sleeper and the shared control block until told to stop.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { isSliced, isSynced } from '../config/timer-type.js';
import type { ResolvedTimer } from '../config/types.js';
import { ROUTE_THREW, WorkerMachine, type RouteOutcome } from '../core/worker-machine.js';
import { runWorkerLoop, type RouteKind, type WorkerPorts } from '../core/worker-loop.js';
import type { RouteFunction } from '../route-types.js';
import { ACK_OK, ACK_REJECTED_ENDED, ControlBlock } from './control-block.js';
import { importModule } from './load-module.js';
import { createLogger, type LogOptions } from './logger.js';
import { PreciseSleeper } from './precise-sleeper.js';
import { WorkerRouteContext } from './route-context.js';
import { lowerOwnTimerSlack } from './thread-slack.js';
import type { WorkerToMain } from './worker-messages.js';

export interface WorkerBootData {
  timer: ResolvedTimer;
  worker: number;
  buffer: SharedArrayBuffer;
  routesUrl: string;
  log: LogOptions;
}

const { timer, worker, buffer, routesUrl, log: logOptions } = workerData as WorkerBootData;
const post = (message: WorkerToMain) => parentPort!.postMessage(message);

const logger = createLogger(logOptions, { timer: timer.name, worker });
const loggers: Record<RouteKind, typeof logger> = {
  start: logger.child({ route: 'start' }),
  loop: logger.child({ route: 'loop' }),
  end: logger.child({ route: 'end' }),
};

const slack = lowerOwnTimerSlack(1);
logger.debug({ timerSlackNs: slack }, 'worker thread up');

const routesModule = await importModule(routesUrl);
const routes: Record<RouteKind, RouteFunction | null> = {
  start: timer.start ? (routesModule[timer.start] as RouteFunction) : null,
  loop: routesModule[timer.loop] as RouteFunction,
  end: timer.end ? (routesModule[timer.end] as RouteFunction) : null,
};

const block = new ControlBlock(buffer);
const machine = new WorkerMachine({
  synced: isSynced(timer.type),
  sliced: isSliced(timer.type),
  intervalNs: timer.intervalNs,
  ntasks: timer.ntasks,
  nslices: timer.nslices,
});
// Counters outlive a thread that died and was started again.
Object.assign(machine.counters, block.counters);

const ctx = new WorkerRouteContext(timer, worker, machine, loggers, (event, data) =>
  post({ type: 'message', event, data }),
);
const now = () => performance.now() * 1e6;
/**
 * The engine's clock is performance.now() in ns, which counts from this thread's start.
 * Routes get deadlines on process.hrtime.bigint()'s scale, which all threads share: the
 * same monotonic clock, shifted by a constant measured here (to within tens of ns).
 */
const hrtimeOffsetNs = (() => {
  // The tightest of many brackets: the first calls are slow, and any one may be interrupted.
  let best = { width: Infinity, offset: 0 };
  for (let i = 0; i < 200; i++) {
    const before = process.hrtime.bigint();
    const perf = now();
    const after = process.hrtime.bigint();
    const width = Number(after - before);
    if (width < best.width) best = { width, offset: Number((before + after) / 2n) - perf };
  }
  return best.offset;
})();
const sleeper = new PreciseSleeper(block.ints, 0, timer.spin, now);
/** The command word already acted on. A new thread does not replay what its predecessor saw. */
let seenCommand = block.commandWord;
/** `ready` goes out as the first start begins: from then on, the worker is in its first route. */
let announced = false;

/** The event name each route receives, as the reference's script engines pass it. */
const EVENTS: Record<RouteKind, string> = { start: 'ptimer:start', loop: 'ptimer:loop', end: 'ptimer:end' };

function routeFailed(route: RouteKind, error: unknown): typeof ROUTE_THREW {
  const err = error instanceof Error ? error : new Error(String(error));
  loggers[route].error({ err }, `${route} route ${routes[route]?.name ?? ''} threw: ${err.message}`);
  post({ type: 'route-error', route, message: err.message, stack: err.stack });
  return ROUTE_THREW;
}

const ports: WorkerPorts = {
  now,
  sleep: (until) => sleeper.sleep(until, seenCommand),
  breathe: () => sleeper.breathe(),
  waitForCommand: () => sleeper.waitForCommand(seenCommand),
  takeCommand() {
    const word = block.commandWord;
    if (word === seenCommand) return null;
    seenCommand = word;
    return ControlBlock.decode(word);
  },
  answer(seq, refusal) {
    block.answer(seq, refusal ? ACK_REJECTED_ENDED : ACK_OK);
  },
  hasRoute: (route) => routes[route] !== null,
  prepareRoute(route, tick, deadline) {
    ctx.enter(route, tick, route === 'loop' ? deadline + hrtimeOffsetNs : 0);
  },
  callRoute(route): RouteOutcome | Promise<RouteOutcome> {
    try {
      const result = routes[route]!(ctx, EVENTS[route]);
      if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
        return (result as Promise<RouteOutcome>).then(
          (value) => value as RouteOutcome,
          (error: unknown) => routeFailed(route, error),
        );
      }
      return result as RouteOutcome;
    } catch (error) {
      return routeFailed(route, error);
    }
  },
  freshState() {
    ctx.fresh();
    if (!announced) {
      announced = true;
      post({ type: 'ready', threadId });
    }
  },
  dropState: () => ctx.drop(),
  recordLateness: (ns) => block.lateness.record(ns),
  publish(m) {
    block.setRoute(m.phase === 'ended' ? 'none' : m.running ?? m.phase);
    block.setPaused(m.paused);
    ports.publishRun(m);
  },
  publishRun(m) {
    block.setAttributes(m.attributes);
    block.setCounters(m.counters);
    block.setSpin(sleeper.spinNs);
  },

};

// Waiting on Atomics.waitAsync does not keep a thread's event loop alive; this handle does,
// so a paused worker stays up until it is told to stop.
setInterval(() => {}, 2 ** 30);
await runWorkerLoop(machine, ports);
logger.flush?.();
process.exit(0);
