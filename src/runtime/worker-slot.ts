/**
 * The main thread's handle on one worker: its thread, its control block, the commands
 * waiting for an answer, and its restarts. The slot outlives the thread: when a thread
 * dies, the slot reports it, starts a new one (from the start route) and keeps the counters.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { formatDurationNs } from '../config/interval.js';
import type { ResolvedTimer } from '../config/types.js';
import { ControlError, type WorkerInfo } from '../control-types.js';
import type { MachineCommand } from '../core/worker-machine.js';
import { ACK_OK, ControlBlock } from './control-block.js';
import type { LogOptions } from './logger.js';
import type { WorkerBootData } from './worker-main.js';
import type { WorkerToMain } from './worker-messages.js';

interface PendingCommand {
  seq: number;
  command: MachineCommand;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface SlotEnvironment {
  workerUrl: URL;
  routesUrl: string;
  log: LogOptions;
  logger: Logger;
  events: EventEmitter;
}

/** A thread that lived this long before dying restarts at once; one dying sooner backs off. */
const STABLE_LIFETIME_MS = 5_000;
const MAX_RESTART_DELAY_MS = 10_000;
const NS_PER_US = 1_000;

export class WorkerSlot {
  readonly block = ControlBlock.allocate();
  private thread: Worker | null = null;
  private threadId = 0;
  private pending: PendingCommand[] = [];
  private watchingAcks = false;
  private stopping = false;
  private quickDeaths = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly timer: ResolvedTimer,
    readonly index: number,
    private readonly env: SlotEnvironment,
  ) {
    const t = timer;
    this.block.setAttributes({ ntasks: t.ntasks, tasks: t.ntasks, nslices: t.nslices, slice: 0, intervalNs: t.intervalNs });
    this.block.setRoute('none');
  }

  get label(): string {
    return `worker ${this.index} of timer "${this.timer.name}"`;
  }

  get running(): boolean {
    return this.thread !== null && !this.stopping;
  }

  /** Starts the thread; resolves once it has loaded its routes and entered its first route. */
  launch(): Promise<void> {
    const bootData: WorkerBootData = {
      timer: this.timer,
      worker: this.index,
      buffer: this.block.buffer,
      routesUrl: this.env.routesUrl,
      log: this.env.log,
    };
    const thread = new Worker(this.env.workerUrl, { workerData: bootData, name: `ptimer ${this.timer.name}/${this.index}` });
    this.thread = thread;
    this.startedAt = Date.now();
    this.block.setRoute('start');
    this.block.setPaused(false);
    let lastError: Error | undefined;
    let ready = false;

    return new Promise<void>((resolveReady, rejectReady) => {
      let exitedResolve!: () => void;
      this.exited = new Promise((r) => (exitedResolve = r));
      thread.on('message', (message: WorkerToMain) => {
        if (message.type === 'ready') {
          ready = true;
          this.threadId = message.threadId;
          resolveReady();
        } else if (message.type === 'message') {
          this.env.events.emit('message', { timer: this.timer.name, worker: this.index, event: message.event, data: message.data });
        } else if (message.type === 'route-error') {
          this.env.events.emit('routeError', { timer: this.timer.name, worker: this.index, ...message });
        }
      });
      thread.on('error', (error) => {
        lastError = error;
      });
      thread.on('exit', (code) => {
        this.thread = null;
        exitedResolve();
        if (this.stopping) {
          if (!ready) rejectReady(new Error(`${this.label} was stopped before it started`));
          return;
        }
        const error = lastError ?? new Error(`the thread exited with code ${code}`);
        if (!ready) rejectReady(new Error(`${this.label} failed to start: ${error.message}`, { cause: error }));
        this.died(code, error);
      });
    });
  }

  /** A thread that was not told to stop has gone: report, answer its pending commands, start a new one. */
  private died(code: number, error: Error): void {
    this.block.countRestart();
    this.quickDeaths = Date.now() - this.startedAt < STABLE_LIFETIME_MS ? this.quickDeaths + 1 : 0;
    const delayMs = this.quickDeaths <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (this.quickDeaths - 2));
    this.env.logger.error(
      { timer: this.timer.name, worker: this.index, code, err: error, restartInMs: delayMs },
      `${this.label} died (${error.message}); starting it again from its start route`,
    );
    this.env.events.emit('workerExit', { timer: this.timer.name, worker: this.index, code, error, restartInMs: delayMs });
    this.failPending(new ControlError(`${this.label} died before acting (${error.message}); it is being restarted`, 500));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.launch().catch(() => {
        /* reported by the exit handler, which schedules the next try */
      });
    }, delayMs);
  }

  /** Sends a command; resolves when the worker has acted on it, rejects if it refused. */
  command(command: MachineCommand): Promise<void> {
    if (!this.running) return Promise.reject(new ControlError(`${this.label} is not running`, 500));
    return new Promise<void>((resolve, reject) => {
      const seq = this.block.send(command);
      this.pending.push({ seq, command, resolve, reject });
      void this.watchAcks();
    });
  }

  /** Follows the ACK word while commands wait for an answer. */
  private async watchAcks(): Promise<void> {
    if (this.watchingAcks) return;
    this.watchingAcks = true;
    try {
      while (this.pending.length > 0) {
        const word = this.block.ackWord;
        const { seq, result } = ControlBlock.decodeAck(word);
        this.settle(seq, result);
        if (this.pending.length > 0) await this.block.ackChanged(word);
      }
    } finally {
      this.watchingAcks = false;
    }
  }

  /** Answer `seq` arrived: it and every older command (superseded by it) are settled. */
  private settle(seq: number, result: number): void {
    const at = this.pending.findIndex((p) => p.seq === seq);
    if (at < 0) return;
    const settled = this.pending.splice(0, at + 1);
    const answered = settled.pop()!;
    for (const older of settled) older.resolve();
    if (result === ACK_OK) answered.resolve();
    else answered.reject(new ControlError(`${this.label} has ended; only start runs it again`, 400));
  }

  private failPending(error: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(error);
  }

  /** Asks the worker to stop (end route if it is not paused); false if it had to be terminated. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const thread = this.thread;
    if (!thread) return true;
    this.block.send('stop');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      await thread.terminate();
      this.env.logger.warn({ timer: this.timer.name, worker: this.index }, `${this.label} did not stop within ${timeoutMs} ms; terminated`);
    }
    this.failPending(new ControlError('ptimer stopped', 500));
    return !late;
  }

  info(): WorkerInfo {
    const b = this.block;
    const attributes = b.attributes;
    const counters = b.counters;
    const lateness = b.lateness;
    const us = (ns: number) => Math.round(ns) / NS_PER_US;
    return {
      worker: this.index,
      pid: process.pid,
      threadId: this.threadId,
      ntasks: attributes.ntasks,
      tasks: attributes.tasks,
      nslices: attributes.nslices,
      slice: attributes.slice,
      paused: b.paused,
      route: b.route,
      interval: formatDurationNs(attributes.intervalNs),
      iterations: counters.iterations,
      overruns: counters.overruns,
      errors: counters.errors,
      restarts: counters.restarts,
      spin: us(b.spinNs),
      lateness: {
        p50: us(lateness.quantileNs(0.5)),
        p99: us(lateness.quantileNs(0.99)),
        max: us(lateness.maxNs),
        count: lateness.count,
        sum: us(lateness.sumNs),
      },
    };
  }
}
