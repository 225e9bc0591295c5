/**
 * The `ctx` a route receives, and the rules of `ctx.ptimer`: the reference's attributes,
 * per worker, writable in the start route only, each write checked (a bad one throws and
 * changes nothing).
 */
import type { Logger } from 'pino';
import { formatDurationNs, parseInterval } from '../config/interval.js';
import { MAX_NSLICES, MAX_NTASKS } from '../config/limits.js';
import { isSliced } from '../config/timer-type.js';
import type { ResolvedTimer } from '../config/types.js';
import type { WorkerMachine } from '../core/worker-machine.js';
import { tasksForSlice } from '../core/slices.js';
import type { FakeSipMessage, PTimerAttributes, RouteContext, RouteKind } from '../route-types.js';
import type { Queue, Table } from '../data-types.js';

/** What every route of a thread shares: the host's data, and the queues and tables (as seen by one timer). */
export interface SharedData {
  readonly data: unknown;
  queue(name: string): Queue;
  table(name: string): Table;
}
import { createFakeSipMessage } from './fake-sip-message.js';
import { currentRun } from '../data/timer-queue.js';

export class AttributeError extends Error {
  override name = 'AttributeError';
}

function requireInteger(attribute: string, value: unknown, min: number, max: number, hint = ''): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max >= 2 ** 31 - 1 ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new AttributeError(`ptimer.${attribute} = ${JSON.stringify(value)} is not allowed: expected ${range}${hint}`);
  }
  return value;
}

/** `ctx.ptimer`: reads come from the worker's machine; writes are checked, then applied to it. */
class WorkerAttributesView implements PTimerAttributes {
  constructor(
    private readonly timer: ResolvedTimer,
    private readonly workerIndex: number,
    private readonly machine: WorkerMachine,
  ) {}

  get worker(): number {
    return this.workerIndex;
  }
  get name(): string {
    return this.timer.name;
  }
  get type(): ResolvedTimer['type'] {
    return this.timer.type;
  }
  get nworkers(): number {
    return this.timer.nworkers;
  }
  get pid(): number {
    return process.pid;
  }

  get interval(): string {
    return formatDurationNs(this.machine.attributes.intervalNs);
  }
  set interval(value: string) {
    this.checkWritable('interval');
    let parsed: { ns: number };
    try {
      parsed = parseInterval(value, 'ptimer.interval');
    } catch (error) {
      throw new AttributeError((error as Error).message);
    }
    this.machine.attributes.intervalNs = parsed.ns;
  }

  get ntasks(): number {
    return this.machine.attributes.ntasks;
  }
  set ntasks(value: number) {
    this.checkWritable('ntasks');
    const a = this.machine.attributes;
    a.ntasks = requireInteger('ntasks', value, 0, MAX_NTASKS); // the config's bound: tasksForSlice is exact below it
    a.tasks = this.sliced ? tasksForSlice(a.slice, a.ntasks, a.nslices) : a.ntasks;
  }

  get tasks(): number {
    return this.machine.attributes.tasks;
  }
  set tasks(value: number) {
    this.checkWritable('tasks');
    const a = this.machine.attributes;
    a.tasks = requireInteger('tasks', value, 0, a.ntasks, ` (ntasks is ${a.ntasks})`);
  }

  get nslices(): number {
    return this.machine.attributes.nslices;
  }
  set nslices(value: number) {
    this.checkWritable('nslices');
    const a = this.machine.attributes;
    const hint = a.slice > 0 ? ` above the current slice ${a.slice} (lower slice first)` : '';
    a.nslices = requireInteger('nslices', value, a.slice + 1, MAX_NSLICES, hint);
    if (this.sliced) a.tasks = tasksForSlice(a.slice, a.ntasks, a.nslices);
  }

  get slice(): number {
    return this.machine.attributes.slice;
  }
  set slice(value: number) {
    this.checkWritable('slice');
    const a = this.machine.attributes;
    a.slice = requireInteger('slice', value, 0, a.nslices - 1, ` (nslices is ${a.nslices}; raise nslices first)`);
    if (this.sliced) a.tasks = tasksForSlice(a.slice, a.ntasks, a.nslices);
  }

  private get sliced(): boolean {
    return isSliced(this.timer.type);
  }

  private checkWritable(attribute: string): void {
    const route = this.machine.running;
    if (route !== 'start') {
      throw new AttributeError(
        `ptimer.${attribute} can be written in the start route only (this is the ${route ?? 'no'} route)`,
      );
    }
  }

  toJSON(): Record<string, unknown> {
    const { name, type, interval, nworkers, worker, pid, ntasks, tasks, nslices, slice } = this;
    return { name, type, interval, nworkers, worker, pid, ntasks, tasks, nslices, slice };
  }
}

for (const readOnly of ['name', 'type', 'nworkers', 'worker', 'pid'] as const) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as the getter of the same prototype, where `this` is bound
  const getter = Object.getOwnPropertyDescriptor(WorkerAttributesView.prototype, readOnly)!.get!;
  Object.defineProperty(WorkerAttributesView.prototype, readOnly, {
    get: getter,
    set(this: WorkerAttributesView) {
      throw new AttributeError(`ptimer.${readOnly} is read-only`);
    },
  });
}

/** One worker's route context, reused across runs; `enter` sets what changes per run. */
export class WorkerRouteContext implements RouteContext {
  readonly ptimer: PTimerAttributes;
  vars: Record<string, unknown> = {};
  msg: FakeSipMessage = createFakeSipMessage();
  log: Logger;
  route: RouteKind = 'start';
  tick = 0;
  deadline = 0;

  constructor(
    timer: ResolvedTimer,
    worker: number,
    machine: WorkerMachine,
    private readonly loggers: Record<RouteKind, Logger>,
    private readonly post: (event: string, data: unknown) => void,
    private readonly shared: SharedData,
  ) {
    this.ptimer = new WorkerAttributesView(timer, worker, machine);
    this.log = loggers.start;
  }

  get data(): unknown {
    return this.shared.data;
  }

  queue(name: string): Queue {
    return this.shared.queue(name);
  }

  table(name: string): Table {
    return this.shared.table(name);
  }

  emit(event: string, data?: unknown): void {
    if (typeof event !== 'string' || event === '')
      throw new TypeError('ctx.emit(event, data): event must be a non-empty string');
    this.post(event, data);
  }

  enter(route: RouteKind, tick: number, deadline: number): void {
    this.route = route;
    this.tick = tick;
    this.deadline = deadline;
    currentRun.deadline = route === 'loop' ? deadline : NaN; // a limited take with send is held to it (timer-queue.ts)
    this.log = this.loggers[route];
  }

  fresh(): void {
    this.vars = {};
    this.msg = createFakeSipMessage();
  }

  drop(): void {
    this.vars = {};
    this.msg = EMPTY_MESSAGE;
  }
}

const EMPTY_MESSAGE: FakeSipMessage = Object.freeze({
  method: 'OPTIONS',
  ruri: '',
  headers: Object.freeze({}),
  raw: '',
});
