/**
 * The main thread's handle on one scheduler thread: starting it, delivering its workers'
 * commands, and what happens when it dies.
 *
 * A thread that dies (an uncaught error, process.exit in a route, out of memory) is started
 * again with its workers as the operator left them: a paused worker stays paused, an ended one
 * ended, a running one starts again from its start route. The death is charged to the worker
 * that was in a route when it happened (all of the thread's workers if none was); a worker
 * charged `restart_limit` times within its window is marked failed (only `start` revives it)
 * while the others carry on. Restarts that follow quick deaths back off (0, 100, 200 ... ms,
 * up to 5 s). Those decisions are the supervisor's (supervisor.ts, with the timeline of a
 * thread's life); this file carries them out with real threads and timers.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ResolvedRuntime } from '../config/types.js';
import type { DataPlaneHandles, QueueItem } from '../data/index.js';
import { ControlError } from '../control-types.js';
import type { InitialState } from '../core/worker-machine.js';
import type { LogOptions } from './logger.js';
import type { RouteErrorLog } from './route-error-log.js';
import { Doorbell } from './thread-doorbell.js';
import type { ThreadBootData } from './thread-main.js';
import type { MainToThread, ThreadToMain } from './thread-messages.js';
import { ThreadLife } from './supervisor.js';
import type { WorkerSlot } from './worker-slot.js';

export interface HostEnvironment {
  threadUrl: URL;
  routesUrl: string;
  log: LogOptions;
  logger: Logger;
  /** Writes a JSON line a thread logged where the main thread's lines go (logger.ts). */
  writeLogLine(line: string): void;
  /** Logs route errors, in full or summarised. */
  routeErrors: RouteErrorLog;
  events: EventEmitter;
  clockOrigin: bigint;
  runtime: ResolvedRuntime;
  /** The queues, tables, limiters and `data`, for every thread to attach. */
  dataPlane: DataPlaneHandles;
  /** The grid origin buffer of a timer. */
  originOf(timer: string): SharedArrayBuffer;
  /** Items a thread's take dropped for their age (a queue's maxage): to the host's listeners. */
  expired?(queue: string, items: QueueItem[]): void;
  /** A thread has exited (any way): break the shared locks it held and check what they guard. */
  threadExited?(threadId: number): void;
}

export type HostState = 'idle' | 'booting' | 'up' | 'backoff' | 'down' | 'stopped';

/**
 * The thread's entry: the built thread-main.js as it is; run from source (the tests, through
 * tsx) the .ts, loaded through tsx's API since a worker does not inherit `--import tsx`'s hooks
 * for its own entry on Node 20.
 */
function threadEntry(url: URL): [string | URL, { eval?: boolean }] {
  if (!url.pathname.endsWith('.ts')) return [url, {}];
  const api = import.meta.resolve('tsx/esm/api');
  return [
    `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`,
    { eval: true },
  ];
}
export class ThreadHost {
  /** Its states and what a death costs: decided by the supervisor (supervisor.ts), carried out here. */
  private readonly life: ThreadLife;
  private thread: Worker | null = null;
  private port: MessagePort | null = null;
  private doorbell = new Doorbell();
  private backoffTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** Set by force or stop: the coming exit is ours, not a death. */
  private expectingExit = false;
  /** Settles the current boot: the thread posted ready, or failed to. */
  private booted: Promise<void> = Promise.resolve();

  constructor(
    readonly label: string,
    readonly slots: readonly WorkerSlot[],
    private readonly env: HostEnvironment,
  ) {
    this.life = new ThreadLife(env.runtime.restartLimit);
    slots.forEach((slot, order) => {
      slot.host = this;
      slot.order = order;
    });
  }

  get state(): HostState {
    return this.life.state;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  get booting(): boolean {
    return this.state === 'booting' || this.state === 'backoff' || this.state === 'idle';
  }

  /**
   * Starts the thread; resolves once it has loaded its routes and is about to run its workers'
   * first routes; rejects if it exits first or takes longer than the start-up timeout.
   */
  launch(initial?: (slot: WorkerSlot) => InitialState): Promise<void> {
    /** The first boot belongs to run(), which reports its failure; a later one is a restart, whose failure is a death. */
    const firstBoot = this.state === 'idle';
    // After stop began nothing is launched: a backoff or a revive that comes late finds the thread stopped.
    if (!this.life.mayLaunch)
      return Promise.reject(new ControlError(`thread ${this.label} is stopped; it is not started again`, 500));
    this.life.launched(Date.now());
    this.expectingExit = false;
    this.doorbell = new Doorbell();
    const channel = new MessageChannel();
    this.port = channel.port1;
    const boot: ThreadBootData = {
      label: this.label,
      routesUrl: this.env.routesUrl,
      log: this.env.log,
      clockOrigin: this.env.clockOrigin,
      doorbell: this.doorbell.buffer,
      port: channel.port2,
      dataPlane: this.env.dataPlane,
      workers: this.slots.map((slot) => ({
        timer: slot.timer,
        worker: slot.index,
        block: slot.block.buffer,
        origin: this.env.originOf(slot.timer.name),
        initial: initial ? initial(slot) : slot.initialState(),
      })),
    };
    const [entry, entryOptions] = threadEntry(this.env.threadUrl);
    const thread = new Worker(entry, {
      workerData: boot,
      transferList: [channel.port2],
      name: `ptimer ${this.label}`,
      resourceLimits: { maxOldGenerationSizeMb: this.env.runtime.maxHeapMb },
      ...entryOptions,
    });
    this.thread = thread;
    const threadId = thread.threadId;
    let lastError: Error | undefined;
    let readied = false;
    let exitedResolve!: () => void;
    this.exited = new Promise((resolve) => (exitedResolve = resolve));
    const timeoutMs = this.env.runtime.startupTimeoutMs;

    this.booted = new Promise<void>((resolveReady, rejectReady) => {
      const startupTimer = setTimeout(() => {
        const error = new Error(`thread ${this.label} did not come up within ${timeoutMs} ms (startup_timeout)`);
        rejectReady(error);
        // The first boot is run()'s to report; a restart that hangs is one more death of its workers.
        if (firstBoot) this.expectingExit = true;
        else lastError = error;
        void thread.terminate();
      }, timeoutMs);
      startupTimer.unref();
      thread.on('message', (message: ThreadToMain) => {
        if (message.type === 'ready') {
          readied = true;
          clearTimeout(startupTimer);
          this.life.ready();
          for (const slot of this.slots) this.deliver(slot);
          resolveReady();
        } else {
          this.received(message);
        }
      });
      thread.on('error', (error) => {
        lastError = error;
      });
      thread.on('exit', (code) => {
        clearTimeout(startupTimer);
        // What it held goes back first: its locks (before a new thread, or the host, takes them again).
        this.env.threadExited?.(threadId);
        if (this.thread === thread) this.thread = null;
        exitedResolve();
        const error = lastError ?? new Error(`the thread exited with code ${code}`);
        const wasBooting = !readied;
        if (wasBooting)
          rejectReady(new Error(`thread ${this.label} failed to start: ${error.message}`, { cause: error }));
        if (this.expectingExit) return;
        if (wasBooting && firstBoot) {
          if (this.life.state !== 'stopped') this.life.state = 'down';
          return;
        }
        this.died(code, error);
      });
    });
    return this.booted;
  }

  /** Posts the slot's undelivered commands, if the thread is up. */
  deliver(slot: WorkerSlot): void {
    if (this.state !== 'up' || !this.port) return;
    for (const pending of slot.pending) {
      if (pending.delivered) continue;
      pending.delivered = true;
      this.post({ type: 'command', worker: slot.order, seq: pending.seq, command: pending.command });
    }
  }

  private post(message: MainToThread): void {
    this.port!.postMessage(message);
    this.doorbell.posted();
  }

  busiest(except: WorkerSlot): WorkerSlot | null {
    let found: WorkerSlot | null = null;
    for (const slot of this.slots) {
      if (slot === except) continue;
      const since = slot.block.routeSince;
      if (since > 0 && (found === null || since < found.block.routeSince)) found = slot;
    }
    return found;
  }

  private received(message: Exclude<ThreadToMain, { type: 'ready' }>): void {
    if (message.type === 'log') return this.env.writeLogLine(message.line);
    if (message.type === 'expired') return this.env.expired?.(message.queue, message.items);
    const slot = this.slots[message.worker];
    if (!slot) return;
    const where = { timer: slot.timer.name, worker: slot.index };
    switch (message.type) {
      case 'answer':
        slot.settle(message.seq, message.reply);
        return;
      case 'message':
        this.env.events.emit('message', { ...where, event: message.event, data: message.data });
        return;
      case 'route-error':
        this.env.events.emit('routeError', {
          ...where,
          route: message.route,
          message: message.err.message,
          stack: message.err.stack,
        });
        this.env.routeErrors.report(
          { ...where, route: message.route, routeName: slot.timer[message.route] ?? undefined, thread: this.label },
          message.err,
        );
        return;
    }
  }

  /** A thread that was not told to go has gone: charge, give back what it held, start again. */
  private died(code: number, error: Error): void {
    // The verdict first: it reads which workers were in a route (threadDied clears that).
    const verdict = this.life.died(Date.now(), this.slots, error.message);
    for (const slot of this.slots) {
      slot.threadDied(error.message);
      slot.block.countRestart();
    }
    const delayMs = verdict.restartInMs;
    const names = this.slots.map((s) => s.label).join(', ');
    this.env.logger.error(
      { thread: this.label, code, err: error, restartInMs: delayMs, workers: this.slots.length },
      verdict.down
        ? `thread ${this.label} died (${error.message}); every worker on it has failed, it stays down (${names})`
        : `thread ${this.label} died (${error.message}); starting it again with its workers (${names})`,
    );
    for (const slot of this.slots) {
      this.env.events.emit('workerExit', {
        timer: slot.timer.name,
        worker: slot.index,
        code,
        error,
        restartInMs: delayMs,
      });
    }
    for (const slot of verdict.failedNow) {
      this.env.logger.error(
        { timer: slot.timer.name, worker: slot.index },
        `${slot.label} failed: ${slot.failed}; only start revives it`,
      );
      slot.rejectAll(new ControlError(`${slot.label} has failed: ${slot.failed}`, 500));
    }
    if (!verdict.down) this.relaunchAfter(delayMs);
  }

  private relaunchAfter(delayMs: number): void {
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.state !== 'backoff') return;
      this.launch().catch(() => {
        /* the exit handler has charged the death and scheduled the next try */
      });
    }, delayMs);
  }

  /** `start` on a failed worker of a thread that is down: start the thread again. */
  revive(): Promise<void> {
    if (this.state !== 'down') return this.state === 'up' ? Promise.resolve() : this.booted;
    this.life.revived();
    return this.launch();
  }

  /**
   * Terminates the thread and starts it again (`force`). `initial` says how each worker comes
   * back; commands claimed and not answered are rejected, the others delivered again.
   */
  async restart(initial: (slot: WorkerSlot) => InitialState, reason: string): Promise<void> {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    const thread = this.thread;
    this.expectingExit = true;
    this.life.terminated();
    if (thread) {
      await thread.terminate();
      await this.exited;
    }
    for (const slot of this.slots) {
      slot.threadDied(reason);
      // The thread is gone: what `list()` shows of a worker that comes back ended is written now,
      // so that a forced end answers and lists it ended (the new thread writes the same).
      if (initial(slot) === 'ended') slot.block.showEnded();
    }
    await this.launch(initial);
  }

  /** Stops the thread: its running workers run their end routes. False if it had to be terminated. */
  async stop(timeoutMs: number): Promise<boolean> {
    const wasUp = this.state === 'up';
    this.life.stopped();
    this.expectingExit = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    const thread = this.thread;
    if (!thread) return true;
    if (!wasUp) {
      // Booting: no route has run, there is nothing to end.
      await thread.terminate();
      return true;
    }
    this.post({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      await thread.terminate();
      this.env.logger.warn(
        { thread: this.label },
        `thread ${this.label} did not stop within ${timeoutMs} ms; terminated`,
      );
    }
    return !late;
  }
}
