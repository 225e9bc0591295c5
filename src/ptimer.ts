/**
 * PTimer: a set of named timers whose workers run on scheduler threads, and the control
 * surface over them (pause, continue, start, loop, end, list, stop).
 *
 * The runtime, in brief (each file's head comment has the details):
 * - A worker is a state machine (core/worker-machine.ts), not a thread. Workers live on
 *   scheduler threads (runtime/thread-plan.ts: the shared pool, a thread of their own, or a
 *   named group); each thread sleeps to its earliest deadline and runs due workers in
 *   deadline order (core/thread-driver.ts).
 * - Each worker shows its state in a control block in shared memory (runtime/control-block.ts):
 *   `list()` reads it without a round trip, even while a thread boots or a route is stuck.
 * - A command travels per worker, in order, and each promise settles with that command's own
 *   outcome (runtime/worker-slot.ts); a thread that boots or restarts gets its commands once
 *   it is up (runtime/thread-host.ts).
 * - All workers of a timer share one grid origin (runtime/grid-origin.ts).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { resolveConfig } from './config/resolve.js';
import type { PTimerConfig, ResolvedConfig, ResolvedTimer } from './config/types.js';
import type { ClusterOverride } from './config/cluster-params.js';
import { ClusterNode, type ClusterStatus } from './cluster/cluster-node.js';
import {
  ControlError,
  type CommandOptions,
  type CommandResult,
  type TimerControl,
  type TimerInfo,
  type WorkerOutcome,
} from './control-types.js';
import type { ControlCommand } from './core/words.js';
import type { PTimerEvents } from './events.js';
import { allocateOrigin } from './runtime/grid-origin.js';
import { importModule, pinnedRoutesUrl, toModuleUrl } from './runtime/load-module.js';
import { setUpLogging, type LogOptions, type LogSetting, type Logging } from './runtime/logger.js';
import { RouteErrorLog } from './runtime/route-error-log.js';
import { ThreadHost, type HostEnvironment } from './runtime/thread-host.js';
import { planThreads } from './runtime/thread-plan.js';
import { planReload } from './runtime/reload-plan.js';
import { serveControl, type ControlServers, type ServeOptions } from './serve.js';
import { DataPlane } from './data/index.js';
import type { HostQueue, Table } from './data-types.js';
import type { DataAccess } from './rpc/data-methods.js';
import { WorkerSlot } from './runtime/worker-slot.js';
import { OperationQueue, judgeCommand, type CancelToken } from './runtime/supervisor.js';

export interface PTimerOptions {
  /** The module whose named exports are the routes: a path (relative to the working directory) or a URL. */
  routes?: string | URL;
  /**
   * Logging of the main thread and the workers (whose lines go through the main thread's logger):
   * options `{ level, pretty, destination }`, a pino logger, or a destination for JSON lines
   * (a writable stream, `pino.destination(...)`). Default: level `info` to stdout, JSON lines
   * (readable when stdout is a terminal; no colours when NO_COLOR is set).
   */
  log?: LogSetting;
  /** `ctx.data` in every route: any structured-cloneable value, the same read-only copy in every worker. */
  data?: unknown;
  /** Where `reload()` without an argument takes the new config from (`fromFile` sets it: the file again). */
  reloadFrom?: () => PTimerConfig | Promise<PTimerConfig>;
  /** Overrides the config's cluster url and node (`ptimer run --cluster URL --node ID`). */
  cluster?: ClusterOverride;
}

/** What a reload did. */
export interface ReloadResult {
  added: string[];
  removed: string[];
  changed: Array<{ timer: string; why: string }>;
  unchanged: string[];
  /** Differences that take effect only at the next start. */
  notApplied: string[];
}

export interface StopOptions {
  /** How long to wait for end routes and threads to finish, in ms (default 10 000); then threads are terminated. */
  timeoutMs?: number;
}

export interface StopResult {
  /** Workers whose thread did not finish in time and was terminated. */
  terminated: Array<{ timer: string; worker: number }>;
}

type LifeState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Set by create() and fromFile(), which load the routes module first: its exports, to resolve the config against once. */
const ROUTES_CHECKED = Symbol('ptimer.routesChecked');
type CheckedOptions = PTimerOptions & { [ROUTES_CHECKED]?: { routeExports: Record<string, unknown>; source?: string } };

/** Events: `message` ({ timer, worker, event, data }) from ctx.emit; `routeError` ({ timer, worker, route, message });
 * `workerExit` ({ timer, worker, code, error, restartInMs }) when a worker's thread died and is being restarted. */
export class PTimer extends EventEmitter<PTimerEvents> implements TimerControl {
  readonly warnings: string[];
  readonly logger: Logger;
  private resolved: ResolvedConfig;
  private readonly env: HostEnvironment;
  private readonly dataPlane: DataPlane;
  private readonly reloadSource: (() => PTimerConfig | Promise<PTimerConfig>) | undefined;
  private readonly clusterOverride: ClusterOverride | undefined;
  /** This process's part in the cluster (only when the config names one). */
  private clusterNode: ClusterNode | null = null;
  /** run, reload, force and stop: one at a time, and nothing launched once stop began (supervisor.ts). */
  private readonly operations = new OperationQueue();
  private reloads = 0;
  private readonly servers: ControlServers[] = [];
  private readonly routesUrl: string;
  private readonly logOptions: LogOptions;
  private readonly logging: Logging;
  /** Route errors in the log: the first ones in full, then summarised (the counters keep all). */
  private readonly routeErrors: RouteErrorLog;
  /** process.hrtime.bigint() at the engine clock's zero (shared with every thread). */
  private readonly clockOrigin = process.hrtime.bigint();
  private readonly slots = new Map<string, WorkerSlot[]>();
  private readonly origins = new Map<string, SharedArrayBuffer>();
  private hosts: ThreadHost[] = [];
  private routesChecked = false;
  /** The routes module's exports the running threads were started with. */
  private routeExports: Record<string, unknown> = {};
  private state: LifeState = 'idle';

  /**
   * Validates the config (everything but the routes' existence, which `run()` checks by loading
   * the routes module; `PTimer.create` checks it up front). Throws ConfigError.
   */
  constructor(
    private readonly config: PTimerConfig,
    options: PTimerOptions,
  ) {
    super();
    if (!options?.routes) {
      throw new TypeError(
        'new PTimer(config, { routes }): routes must name the module that exports the routes (a path or URL)',
      );
    }
    // create() and fromFile() have loaded the routes module: the config is resolved once, with
    // its routes checked against the module's exports.
    const checked = (options as CheckedOptions)[ROUTES_CHECKED];
    this.clusterOverride = options.cluster;
    this.resolved = resolveConfig(config, { ...checked, clusterOverride: this.clusterOverride });
    if (checked) {
      this.routesChecked = true;
      this.routeExports = checked.routeExports;
    }
    this.warnings = this.resolved.warnings;
    this.routesUrl = toModuleUrl(options.routes);
    this.reloadSource = options.reloadFrom;
    this.dataPlane = DataPlane.create(this.resolved, { data: options.data });
    this.logging = setUpLogging(options.log);
    this.logger = this.logging.logger;
    this.logOptions = { level: this.logging.threadLevel }; // the threads post their lines here (log-forward.ts)
    this.routeErrors = new RouteErrorLog(this.logger);
    for (const warning of this.warnings) this.logger.warn(warning);
    this.env = {
      // Run from source (tests, through tsx) the thread loads the .ts beside this file; built, the .js.
      threadUrl: new URL(`./runtime/thread-main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
      routesUrl: this.routesUrl,
      log: this.logOptions,
      logger: this.logger,
      writeLogLine: (line) => this.logging.writeLine(line),
      routeErrors: this.routeErrors,
      events: this,
      clockOrigin: this.clockOrigin,
      runtime: this.resolved.runtime,
      dataPlane: this.dataPlane.handles(),
      originOf: (timer) => this.origins.get(timer)!,
      threadExited: (threadId) => {
        for (const line of this.dataPlane.recoverFromDeadThread(threadId))
          this.logger.warn({ threadId }, `a thread exited holding a shared lock: ${line}`);
      },
      expired: (queue, items) => this.dataPlane.deliverExpired(queue, items),
    };
    this.hosts = this.place(this.resolved.timers, '');
  }

  /**
   * A queue of the config (`queue: ['name=calls;size=10000']`), shared with every route: the
   * host pushes, routes take (a timer's `limit=N/W` applies to its routes' take(), not here).
   * Available from construction on. Unknown names throw, listing the queues there are.
   */
  queue(name: string): HostQueue {
    return this.dataPlane.queue(name);
  }

  /** A table of the config (`table: ['name=kpi;size=8']`), shared with every route. */
  table(name: string): Table {
    return this.dataPlane.table(name);
  }

  /** The queues, tables and limiters as the operator methods (mqueue.*, htable.*) and /metrics read them. */
  dataAccess(): DataAccess {
    return this.dataPlane;
  }

  /** The timers, as resolved (after a reload, the new set). */
  get timers(): ResolvedTimer[] {
    return this.resolved.timers;
  }

  /** Slots and grid origins for `timers`, placed on new threads (labels end in `suffix`). */
  private place(timers: readonly ResolvedTimer[], suffix: string): ThreadHost[] {
    const runtime = this.resolved.runtime;
    for (const timer of timers) {
      const timeouts = {
        commandTimeoutMs: runtime.commandTimeoutMs,
        now: () => this.engineNow(),
        stuckAfterNs: Math.max(runtime.stuckAfterIntervals * timer.intervalNs, runtime.commandTimeoutMs * 1e6),
      };
      this.origins.set(timer.name, allocateOrigin());
      this.slots.set(
        timer.name,
        Array.from({ length: timer.nworkers }, (_, i) => new WorkerSlot(timer, i, timeouts)),
      );
    }
    return planThreads(timers, runtime.threads).map(
      (plan) =>
        new ThreadHost(
          `${plan.label}${suffix}`,
          plan.workers.map((p) => this.slots.get(p.timer.name)![p.worker]!),
          this.env,
        ),
    );
  }

  /** A PTimer for a config object and a routes module, with the routes checked. Starts nothing. */
  static async create(config: PTimerConfig, options: PTimerOptions & { routes: string | URL }): Promise<PTimer> {
    const routeExports = await importModule(options.routes);
    return new PTimer(config, { ...options, [ROUTES_CHECKED]: { routeExports } } as CheckedOptions);
  }

  /**
   * Loads a config module (`.ts`, `.js` or `.mjs`): its default export is the config, its named
   * exports are the routes. Validates everything; starts nothing.
   */
  static async fromFile(path: string, options: Omit<PTimerOptions, 'routes'> = {}): Promise<PTimer> {
    const module = await importModule(path);
    const config = module.default;
    if (config === null || typeof config !== 'object') {
      throw new TypeError(
        `${path} has no default export with the config: write \`export default defineConfig({ ... })\``,
      );
    }
    const reloadFrom = async () => {
      const again = (await importModule(path)).default;
      if (again === null || typeof again !== 'object')
        throw new TypeError(`${path} has no default export with the config`);
      return again as PTimerConfig;
    };
    return new PTimer(config, {
      reloadFrom,
      ...options,
      routes: path,
      [ROUTES_CHECKED]: { routeExports: module, source: path },
    } as CheckedOptions);
  }

  /** The engine clock (ns since this PTimer was made), as the threads read it. */
  private engineNow(): number {
    return Number(process.hrtime.bigint() - this.clockOrigin);
  }

  /**
   * Starts every thread; resolves when all are up and about to run their workers' first routes.
   * Rejects, naming the thread's workers and the error, if a thread does not come up within
   * `startup_timeout` or dies first; nothing is left running then.
   */
  async run(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`run() was already called (ptimer is ${this.state})`);
    this.state = 'starting';
    return this.operations.enqueue('run', (token) => this.runNow(token));
  }

  private async runNow(token: CancelToken): Promise<void> {
    // stop() during start-up does not wait for the threads to boot: it terminates them now.
    // (Threads already up are stopped by stop() itself, with its timeout for their end routes.)
    token.onCancel(() => void Promise.all(this.hosts.filter((host) => !host.up).map((host) => host.stop(0))));
    if (!this.routesChecked) {
      try {
        this.routeExports = await importModule(this.routesUrl);
        resolveConfig(this.config, { routeExports: this.routeExports, clusterOverride: this.clusterOverride });
      } catch (error) {
        this.state = 'idle';
        throw error;
      }
      this.routesChecked = true;
    }
    try {
      this.env.routesUrl = await this.pinRoutes(this.resolved.timers);
    } catch (error) {
      this.state = 'idle';
      throw error;
    }
    const results = await Promise.allSettled(this.hosts.map((host) => host.launch()));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ host: this.hosts[i]!, error: r.reason as Error }] : [],
    );
    if (this.state !== 'starting') throw new Error('ptimer was stopped before its workers started');
    if (failed.length > 0) {
      for (const { host, error } of failed)
        for (const slot of host.slots) slot.failed = `its thread did not start: ${error.message}`;
      await this.stopNow({ timeoutMs: 1_000 });
      const first = failed[0]!;
      const workers = first.host.slots.map((s) => s.label).join(', ');
      throw new Error(`ptimer could not start: ${first.error.message} (${workers})`, { cause: first.error });
    }
    this.state = 'running';
    if (this.resolved.cluster) {
      // The seam: the cluster says which of its slots this node runs; the workers wait paused otherwise.
      this.clusterNode = ClusterNode.start(
        this.resolved,
        {
          // The lease end, moved from the main thread's monotonic clock to the engine clock the threads check it on.
          lease: (t, w, until) =>
            this.slots
              .get(t)
              ?.[w]?.block.setLeaseUntil(
                until < 0 ? -1 : Math.max(1, until - performance.now() * 1e6 + this.engineNow()),
              ),
          run: (t, w, gridOriginMonoNs) => {
            // The cluster grid: every node's workers of this timer run on epoch + k x interval (a BigInt64 word, 0 = unset).
            const origin = new BigInt64Array(this.origins.get(t)!);
            const engine = BigInt(Math.round(gridOriginMonoNs - performance.now() * 1e6 + this.engineNow())) || 1n;
            Atomics.compareExchange(origin, 0, 0n, engine);
            return this.continue(t, w);
          },
          stop: (t, w) => this.pause(t, w),
        },
        this.logger,
      );
    }
    this.logger.info(
      {
        timers: this.timers.map(
          (t) => `${t.name} (${t.typeName}, ${t.interval}, ${t.nworkers} worker${t.nworkers > 1 ? 's' : ''})`,
        ),
        threads: this.hosts.map((h) => `${h.label}: ${h.slots.length} worker${h.slots.length > 1 ? 's' : ''}`),
      },
      'ptimer running',
    );
  }

  /**
   * The routes module pinned for the threads (load-module.ts): the bundle every thread of these
   * timers loads, now and at any restart, checked here to have each route the timers name.
   */
  private async pinRoutes(timers: readonly ResolvedTimer[]): Promise<string> {
    const url = await pinnedRoutesUrl(this.routesUrl);
    const pinned = await importModule(url);
    for (const t of timers) {
      for (const route of [t.start, t.loop, t.end]) {
        if (route && typeof pinned[route] !== 'function') {
          throw new ControlError(
            `the routes module changed since it was checked: ${route} (a route of timer "${t.name}") is not a function in it now`,
            400,
          );
        }
      }
    }
    return url;
  }

  /** Every timer and worker, read from shared memory (no round trip to the threads; never waits). */
  list(): TimerInfo[] {
    return this.timers.map((t) => {
      const workers = this.slots
        .get(t.name)!
        .map((slot) =>
          t.cluster ? { ...slot.info(), node: this.clusterNode?.holderOf(t.name, slot.index) ?? null } : slot.info(),
        );
      return {
        name: t.name,
        type: t.type,
        interval: t.interval,
        nworkers: t.nworkers,
        ntasks: agreed(workers.map((w) => w.ntasks)),
        nslices: agreed(workers.map((w) => w.nslices)),
        configured: { ntasks: t.ntasks, nslices: t.nslices },
        start: t.start,
        loop: t.loop,
        end: t.end,
        workers,
        ...(t.cluster ? { nodes: this.clusterNode ? [...this.clusterNode.table.liveNodes()] : [] } : {}),
      };
    });
  }

  /** The cluster's figures (leases held, takeovers, stale-token refusals, clock offset ...); null without a cluster. */
  clusterStatus(): ClusterStatus | null {
    return this.clusterNode?.status() ?? null;
  }

  /** How many workers `timer` has; undefined if there is no such timer. O(1): what an RPC command checks its target against. */
  workerCount(timer: string): number | undefined {
    return this.slots.get(timer)?.length;
  }

  pause(timer: string, worker?: number): Promise<CommandResult> {
    return this.command('pause', timer, worker);
  }
  continue(timer: string, worker?: number): Promise<CommandResult> {
    return this.command('continue', timer, worker);
  }
  start(timer: string, worker?: number, options?: CommandOptions): Promise<CommandResult> {
    return this.command('start', timer, worker, options);
  }
  loop(timer: string, worker?: number): Promise<CommandResult> {
    return this.command('loop', timer, worker);
  }
  end(timer: string, worker?: number, options?: CommandOptions): Promise<CommandResult> {
    return this.command('end', timer, worker, options);
  }

  /**
   * Sends a command to a timer's workers (all, or one) and resolves when each has acted:
   * pause - paused; continue, loop - running again; start - start route run; end - end route run.
   * Every target is checked first: if one refuses, none is changed.
   */
  private async command(
    command: ControlCommand,
    timer: string,
    worker?: number,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const targets = this.targets(timer, worker);
    if (this.state !== 'running' && this.state !== 'starting') {
      throw new ControlError(`ptimer is not running (${this.state}); cannot ${command}`, 500);
    }
    const force = options.force === true;
    if (options.force !== undefined && typeof options.force !== 'boolean') {
      throw new ControlError(`force must be true or false, got ${JSON.stringify(options.force)}`, 400);
    }
    if (force && command !== 'start' && command !== 'end') {
      throw new ControlError(`force applies to start and end only, not ${command}`, 400);
    }
    this.refuseIfAnyWould(command, timer, targets, force);
    const base = { timer, command, worker: worker ?? null, force };
    if (force) {
      const forced = this.operations.enqueue('force', (token) =>
        this.forced(command as 'start' | 'end', targets, token),
      );
      return { ...base, ...(await forced) };
    }
    const settled = await Promise.allSettled(targets.map((slot) => this.sendTo(slot, command)));
    const refused = settled.flatMap((r, i) =>
      r.status === 'rejected' ? [{ slot: targets[i]!, error: r.reason as Error }] : [],
    );
    if (refused.length === 0) {
      return { ...base, workers: settled.map((r) => (r as PromiseFulfilledResult<WorkerOutcome>).value) };
    }
    if (refused.length === 1 && targets.length === 1) throw refused[0]!.error;
    const code = refused.every((r) => (r.error as ControlError).code === 400) ? 400 : 500;
    const detail = settled.map((r, i) => ({
      worker: targets[i]!.index,
      ok: r.status === 'fulfilled',
      ...(r.status === 'rejected' ? { message: (r.reason as Error).message } : {}),
    }));
    throw new ControlError(
      `${command} on timer "${timer}": ${refused.length} of ${targets.length} workers did not act: ${refused.map((r) => r.error.message).join('; ')}`,
      code,
      detail,
    );
  }

  private sendTo(slot: WorkerSlot, command: ControlCommand): Promise<WorkerOutcome> {
    if (slot.failed !== null && command === 'pause') return Promise.resolve(slot.outcome('unchanged')); // it runs nothing
    if (slot.failed !== null && command === 'start') {
      slot.failed = null;
      slot.deaths = [];
      if (slot.host.state === 'down') {
        return slot.host.revive().then(() => slot.send(command));
      }
    }
    return slot.send(command);
  }

  /**
   * The checks a command passes for every target before any is sent: all or nothing. Each
   * target is judged against the state the commands queued before this one will leave it in
   * (supervisor.ts), not against what the thread shows now; the judging and the sending that
   * follows happen in one turn of the event loop, so nothing changes in between.
   */
  private refuseIfAnyWould(command: ControlCommand, timer: string, targets: WorkerSlot[], force: boolean): void {
    if (command === 'start') return; // start revives any worker
    const refused = targets.flatMap((slot) => {
      const judged = judgeCommand(command, slot.view(), force);
      return judged.ok ? [] : [{ slot, why: judged.why }];
    });
    const failed = refused.filter((r) => r.why === 'failed').map((r) => r.slot);
    if (failed.length > 0) {
      throw new ControlError(
        `cannot ${command} timer "${timer}": ${failed.map((s) => `${s.label} has failed (${s.failed})`).join('; ')}; only start revives it`,
        400,
      );
    }
    const ended = refused.filter((r) => r.why === 'ended').map((r) => r.slot);
    if (ended.length > 0) {
      const which = ended.map((s) => s.index).join(', ');
      const plural = ended.length > 1;
      throw new ControlError(
        `cannot ${command} timer "${timer}": worker${plural ? 's' : ''} ${which} ha${plural ? 've' : 's'} ended; only start runs ${plural ? 'them' : 'it'} again`,
        400,
      );
    }
  }

  /**
   * start/end with force: terminate the targets' threads and start them again. A forced start
   * starts the target afresh; a forced end leaves it ended (its end route cannot run: the thread
   * that held its state is gone). The other workers that shared a thread come back as a crash
   * would bring them back, and are named in the result.
   */
  private async forced(
    command: 'start' | 'end',
    targets: WorkerSlot[],
    token: CancelToken,
  ): Promise<Pick<CommandResult, 'workers' | 'restarted'>> {
    const hosts = [...new Set(targets.map((s) => s.host))];
    const targetSet = new Set(targets);
    const restarted: Array<{ timer: string; worker: number }> = [];
    for (const host of hosts) {
      if (token.cancelled)
        throw new ControlError(`ptimer is stopping; force ${command} was not carried out on thread ${host.label}`, 500);
      for (const slot of host.slots) {
        if (!targetSet.has(slot)) restarted.push({ timer: slot.timer.name, worker: slot.index });
      }
      for (const slot of host.slots) {
        if (targetSet.has(slot)) {
          slot.failed = null;
          slot.deaths = [];
        }
      }
      this.logger.warn(
        { thread: host.label, command, targets: targets.filter((s) => s.host === host).map((s) => s.label) },
        `force ${command}: terminating thread ${host.label} and starting it again`,
      );
      await host.restart(
        (slot) => (targetSet.has(slot) ? 'ended' : slot.initialState()),
        `thread terminated by force ${command}`,
      );
    }
    if (command === 'end') return { workers: targets.map((slot) => slot.outcome('done')), restarted };
    const workers = await Promise.all(targets.map((slot) => slot.send('start')));
    return { workers, restarted };
  }

  private targets(timer: unknown, worker: unknown): WorkerSlot[] {
    if (typeof timer !== 'string' || timer === '') {
      throw new ControlError(
        `timer must be a timer name (a non-empty string), got ${JSON.stringify(timer) ?? String(timer)}`,
        400,
      );
    }
    const slots = this.slots.get(timer);
    if (!slots) {
      throw new ControlError(`unknown timer "${timer}"; timers: ${this.timers.map((t) => t.name).join(', ')}`, 404);
    }
    if (
      worker !== undefined &&
      (typeof worker !== 'number' || !Number.isInteger(worker) || worker < 0 || worker >= slots.length)
    ) {
      throw new ControlError(
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- String() gets only what JSON cannot write (a function, a symbol)
        `worker ${JSON.stringify(worker) ?? String(worker)} is not valid for timer "${timer}": expected an integer from 0 to ${slots.length - 1}, or none for all workers`,
        400,
      );
    }
    return worker === undefined ? slots : [slots[worker]!];
  }

  /**
   * Serves the control interface from this process, as `ptimer run` does: JSON-RPC over HTTP
   * (`POST /RPC`, and `/metrics`) and/or a Unix socket. `stop()` closes what it opened.
   */
  async serve(options: ServeOptions): Promise<ControlServers> {
    const servers = await serveControl(this, options, this.logger);
    this.servers.push(servers);
    return servers;
  }

  /**
   * Reload without a restart: validates `next` (default: `reloadFrom`, e.g. the config file
   * again) against the routes module as it is now; if it is invalid, nothing changes and the
   * error is thrown (a ControlError 400 naming the problem). Otherwise new timers are added,
   * removed ones ended (their end routes run) and dropped, timers whose parameters or route code
   * changed are ended and started again with the new definition, and the others keep running
   * untouched (iterations, grid and vars go on). New and changed timers run on new threads;
   * a thread left with no timer stops. Reloads run one at a time.
   */
  reload(next?: PTimerConfig): Promise<ReloadResult> {
    return this.operations.enqueue('reload', (token) => this.reloadNow(next, token));
  }

  private async reloadNow(next: PTimerConfig | undefined, token: CancelToken): Promise<ReloadResult> {
    const cancelled = (what: string) => {
      if (token.cancelled) throw new ControlError(`reload cancelled by stop ${what}`, 500);
    };
    if (this.state !== 'running') throw new ControlError(`ptimer is not running (${this.state}); cannot reload`, 500);
    let config: PTimerConfig;
    let resolved: ResolvedConfig;
    let exports: Record<string, unknown>;
    let pinnedUrl: string;
    try {
      if (next === undefined && !this.reloadSource) {
        throw new Error(
          'there is no config to reload from: this PTimer was made from an object (give reload(config), or reloadFrom)',
        );
      }
      config = next ?? (await this.reloadSource!());
      exports = await importModule(this.routesUrl);
      resolved = resolveConfig(config, { routeExports: exports, clusterOverride: this.clusterOverride });
      pinnedUrl = await this.pinRoutes(resolved.timers);
    } catch (error) {
      throw new ControlError(`reload refused, nothing changed: ${(error as Error).message}`, 400);
    }
    cancelled('before it changed anything');
    const plan = planReload(this.resolved, this.routeExports, resolved, exports);
    const leaving = [...plan.removed, ...plan.changed.map((c) => c.before)];
    // End what goes (a worker already ended or failed has nothing to end).
    const ending = leaving
      .flatMap((t) => this.slots.get(t.name)!)
      .filter((slot) => slot.failed === null && !slot.block.ended);
    const ended = await Promise.allSettled(ending.map((slot) => slot.send('end')));
    ended.forEach((r, i) => {
      if (r.status === 'rejected')
        this.logger.warn({ err: r.reason }, `reload: ${ending[i]!.label} did not run its end route`);
    });
    for (const t of leaving) {
      this.slots.delete(t.name);
      this.origins.delete(t.name);
    }
    const live = new Set([...this.slots.values()].flat());
    const emptied = this.hosts.filter((host) => !host.slots.some((slot) => live.has(slot)));
    await Promise.all(emptied.map((host) => host.stop(1_000)));
    this.hosts = this.hosts.filter((host) => !emptied.includes(host));

    // Stop asked for while the leaving timers ended: they are gone, nothing new is placed or launched.
    cancelled('after the removed and changed timers had ended; nothing was added');
    // The threads started from here on (and restarts) load the routes pinned with the check.
    this.env.routesUrl = pinnedUrl;
    this.routeExports = exports;
    this.resolved = {
      ...resolved,
      runtime: this.resolved.runtime,
      queues: this.resolved.queues,
      tables: this.resolved.tables,
    };
    const arriving = [...plan.added, ...plan.changed.map((c) => c.after)];
    // The data plane learns the new timers and their limits; threads started from here on get them.
    this.dataPlane.reconcileTimers(resolved.timers, resolved.limiters);
    this.env.dataPlane = this.dataPlane.handles();
    const reload = ++this.reloads;
    const hosts = this.place(arriving, `@r${reload}`);
    this.hosts.push(...hosts);
    const launched = await Promise.allSettled(hosts.map((host) => host.launch()));
    const failed = launched.flatMap((r, i) =>
      r.status === 'rejected' ? [`${hosts[i]!.label}: ${(r.reason as Error).message}`] : [],
    );
    const result: ReloadResult = {
      added: plan.added.map((t) => t.name),
      removed: plan.removed.map((t) => t.name),
      changed: plan.changed.map((c) => ({ timer: c.after.name, why: c.why })),
      unchanged: plan.unchanged.map((t) => t.name),
      notApplied: plan.notApplied,
    };
    this.logger.info(result, 'ptimer reloaded');
    if (failed.length > 0)
      throw new ControlError(`reload applied, but threads did not start: ${failed.join('; ')}`, 500);
    return result;
  }

  /**
   * Graceful stop: every worker that is not paused runs its end route, then every thread exits.
   * A thread still booting is terminated at once (none of its routes has run). Threads still
   * busy after `timeoutMs` are terminated, and their workers named in the result.
   */
  stop(options: StopOptions = {}): Promise<StopResult> {
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return Promise.resolve({ terminated: [] });
    }
    // From here no operation begins and none launches a thread; the one in progress (a reload, a
    // force) is cancelled at its next step, and the stop runs when it has settled. Commands are
    // refused from now on.
    if (!this.operations.stopping) this.state = 'stopping';
    return this.operations.stop(() => this.stopNow(options));
  }

  private async stopNow(options: StopOptions): Promise<StopResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (this.state === 'stopped') {
      this.state = 'stopped';
      return { terminated: [] };
    }
    this.state = 'stopping';
    const finished = await Promise.all(this.hosts.map((host) => host.stop(timeoutMs)));
    // The end routes have run: give the cluster slots up, so the other nodes take them at once.
    await this.clusterNode?.stop();
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
    this.state = 'stopped';
    const stopped = new ControlError('ptimer stopped', 500);
    for (const slots of this.slots.values()) for (const slot of slots) slot.rejectAll(stopped);
    const terminated = this.hosts
      .filter((_, i) => !finished[i])
      .flatMap((host) => host.slots.map((s) => ({ timer: s.timer.name, worker: s.index })));
    this.routeErrors.flush();
    this.logger.info({ terminated }, 'ptimer stopped');
    return { terminated };
  }
}

/** The one value every worker has now (as their start routes set it), or null when they differ. */
function agreed(values: number[]): number | null {
  return values.every((v) => v === values[0]) ? (values[0] ?? null) : null;
}
