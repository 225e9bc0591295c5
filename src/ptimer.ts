/**
 * PTimer: a set of named timers, each running `nworkers` worker threads, and the control
 * surface over them (pause, continue, start, loop, end, list, stop).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { resolveConfig } from './config/resolve.js';
import type { PTimerConfig, ResolvedTimer } from './config/types.js';
import { ControlError, type ControlCommand, type TimerControl, type TimerInfo } from './control-types.js';
import { importModule, toModuleUrl } from './runtime/load-module.js';
import { createLogger, type LogOptions } from './runtime/logger.js';
import { WorkerSlot } from './runtime/worker-slot.js';

export interface PTimerOptions {
  /** The module whose named exports are the routes: a path (relative to the working directory) or a URL. */
  routes?: string | URL;
  /** Logging of the main thread and the workers. Default: level `info`, JSON lines (readable on a terminal). */
  log?: LogOptions;
}

export interface StopOptions {
  /** How long to wait for end routes and threads to finish, in ms (default 10 000); then threads are terminated. */
  timeoutMs?: number;
}

export interface StopResult {
  /** Workers that did not finish in time and were terminated. */
  terminated: Array<{ timer: string; worker: number }>;
}

/** Events: `message` ({ timer, worker, event, data }) from ctx.emit; `routeError` ({ timer, worker, route, message });
 * `workerExit` ({ timer, worker, code, error, restartInMs }) when a worker thread died and is being restarted. */
export class PTimer extends EventEmitter implements TimerControl {
  readonly timers: ResolvedTimer[];
  readonly warnings: string[];
  readonly logger: Logger;
  private readonly routesUrl: string;
  private readonly logOptions: LogOptions;
  private readonly slots = new Map<string, WorkerSlot[]>();
  private routesChecked = false;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';

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
      throw new TypeError('new PTimer(config, { routes }): routes must name the module that exports the routes (a path or URL)');
    }
    const resolved = resolveConfig(config);
    this.timers = resolved.timers;
    this.warnings = resolved.warnings;
    this.routesUrl = toModuleUrl(options.routes);
    this.logOptions = options.log ?? {};
    this.logger = createLogger(this.logOptions);
    for (const warning of this.warnings) this.logger.warn(warning);
  }

  /** A PTimer for a config object and a routes module, with the routes checked. Starts nothing. */
  static async create(config: PTimerConfig, options: PTimerOptions & { routes: string | URL }): Promise<PTimer> {
    const routeExports = await importModule(options.routes);
    resolveConfig(config, { routeExports });
    const pt = new PTimer(config, options);
    pt.routesChecked = true;
    return pt;
  }

  /**
   * Loads a config module (`.ts`, `.js` or `.mjs`): its default export is the config, its named
   * exports are the routes. Validates everything; starts nothing.
   */
  static async fromFile(path: string, options: Omit<PTimerOptions, 'routes'> = {}): Promise<PTimer> {
    const module = await importModule(path);
    const config = module.default;
    if (config === null || typeof config !== 'object') {
      throw new TypeError(`${path} has no default export with the config: write \`export default defineConfig({ ... })\``);
    }
    return PTimer.create(config as PTimerConfig, { ...options, routes: path });
  }

  /** Starts every worker; resolves when all are up and in their first route. */
  async run(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`run() was already called (ptimer is ${this.state})`);
    this.state = 'running';
    if (!this.routesChecked) {
      try {
        resolveConfig(this.config, { routeExports: await importModule(this.routesUrl) });
      } catch (error) {
        this.state = 'idle';
        throw error;
      }
      this.routesChecked = true;
    }
    if (this.state !== 'running') throw new Error('ptimer was stopped before its workers started');
    const workerUrl = new URL('./runtime/worker-main.js', import.meta.url);
    const env = { workerUrl, routesUrl: this.routesUrl, log: this.logOptions, logger: this.logger, events: this };
    for (const timer of this.timers) {
      this.slots.set(timer.name, Array.from({ length: timer.nworkers }, (_, i) => new WorkerSlot(timer, i, env)));
    }
    const all = [...this.slots.values()].flat();
    try {
      await Promise.all(all.map((slot) => slot.launch()));
    } catch (error) {
      await this.stop({ timeoutMs: 1_000 });
      throw error;
    }
    this.logger.info(
      { timers: this.timers.map((t) => `${t.name} (${t.typeName}, ${t.interval}, ${t.nworkers} worker${t.nworkers > 1 ? 's' : ''})`) },
      'ptimer running',
    );
  }

  /** Every timer and worker, read from shared memory (no round trip to the workers). */
  list(): TimerInfo[] {
    return this.timers.map((t) => ({
      name: t.name,
      type: t.type,
      interval: t.interval,
      nworkers: t.nworkers,
      ntasks: t.ntasks,
      nslices: t.nslices,
      start: t.start,
      loop: t.loop,
      end: t.end,
      workers: (this.slots.get(t.name) ?? []).map((slot) => slot.info()),
    }));
  }

  pause(timer: string, worker?: number): Promise<void> {
    return this.command('pause', timer, worker);
  }
  continue(timer: string, worker?: number): Promise<void> {
    return this.command('continue', timer, worker);
  }
  start(timer: string, worker?: number): Promise<void> {
    return this.command('start', timer, worker);
  }
  loop(timer: string, worker?: number): Promise<void> {
    return this.command('loop', timer, worker);
  }
  end(timer: string, worker?: number): Promise<void> {
    return this.command('end', timer, worker);
  }

  /**
   * Sends a command to a timer's workers (all, or one) and resolves when they have acted:
   * pause - paused; continue, loop - running again; start - start route run; end - end route run.
   * Checks everything first: a refused command changes nothing.
   */
  private async command(command: ControlCommand, timer: string, worker?: number): Promise<void> {
    const targets = this.targets(timer, worker);
    if (this.state !== 'running') throw new ControlError(`ptimer is not running (${this.state}); cannot ${command}`, 500);
    if (command === 'continue' || command === 'loop' || command === 'end') {
      const ended = targets.filter((slot) => slot.block.route === 'none' && slot.block.paused);
      if (ended.length > 0) {
        const which = ended.map((s) => s.index).join(', ');
        throw new ControlError(
          `cannot ${command} timer "${timer}": worker${ended.length > 1 ? 's' : ''} ${which} ha${ended.length > 1 ? 've' : 's'} ended; only start runs ${ended.length > 1 ? 'them' : 'it'} again`,
          400,
        );
      }
    }
    await Promise.all(targets.map((slot) => slot.command(command)));
  }

  private targets(timer: unknown, worker: unknown): WorkerSlot[] {
    if (typeof timer !== 'string' || timer === '') {
      throw new ControlError(`timer must be a timer name (a non-empty string), got ${JSON.stringify(timer) ?? String(timer)}`, 400);
    }
    const config = this.timers.find((t) => t.name === timer);
    if (!config) {
      throw new ControlError(`unknown timer "${timer}"; timers: ${this.timers.map((t) => t.name).join(', ')}`, 404);
    }
    if (worker !== undefined && (typeof worker !== 'number' || !Number.isInteger(worker) || worker < 0 || worker >= config.nworkers)) {
      throw new ControlError(
        `worker ${JSON.stringify(worker) ?? String(worker)} is not valid for timer "${timer}": expected an integer from 0 to ${config.nworkers - 1}, or none for all workers`,
        400,
      );
    }
    const slots = this.slots.get(timer) ?? [];
    if (worker === undefined) return slots;
    return slots.filter((s) => s.index === worker);
  }

  /**
   * Graceful stop: every worker that is not paused runs its end route, then every thread exits.
   * Workers still busy after `timeoutMs` are terminated and named in the result.
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (this.state === 'stopped' || this.state === 'idle') {
      this.state = 'stopped';
      return { terminated: [] };
    }
    this.state = 'stopping';
    const all = [...this.slots.values()].flat();
    const finished = await Promise.all(all.map((slot) => slot.stop(timeoutMs)));
    this.state = 'stopped';
    const terminated = all.filter((_, i) => !finished[i]).map((s) => ({ timer: s.timer.name, worker: s.index }));
    this.logger.info({ terminated }, 'ptimer stopped');
    return { terminated };
  }
}
