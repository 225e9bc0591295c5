/**
 * The main thread's handle on one worker: its control block, its commands, its deaths.
 *
 * How a command travels:
 * 1. `send` numbers it (per worker, 1, 2, 3 ...) and keeps it in `pending`, in order.
 * 2. When the worker's thread is up, the host posts every command not yet delivered to the
 *    thread's port and rings its doorbell (a thread that is booting, restarting or backing
 *    off simply gets them once it is up: nothing is dropped).
 * 3. The thread claims the command in the control block's DECIDED word, acts on it between
 *    routes, and answers; the answer settles that command's promise, and only that one.
 * 4. If the worker is busy in a route past `command_timeout`, the main thread withdraws the
 *    command in the same word (so the thread will skip it) and rejects it, saying which route
 *    has held the worker and for how long. Claim and withdraw cannot both win.
 * 5. If the thread dies, a command it had claimed and not answered is rejected (it may have
 *    half happened); the others are delivered again to the new thread.
 */
import { formatDurationNs } from '../config/interval.js';
import type { ResolvedTimer } from '../config/types.js';
import { ControlError, type WorkerInfo, type WorkerOutcome } from '../control-types.js';
import type { CommandReply } from '../core/thread-driver.js';
import type { InitialState, MachineCommand } from '../core/worker-machine.js';
import type { WorkerState } from '../core/words.js';
import { ControlBlock, nextSeq, seqReached } from './control-block.js';
import { judgeCommand, type WorkerView } from './supervisor.js';
import type { ThreadHost } from './thread-host.js';

export interface PendingCommand {
  seq: number;
  command: MachineCommand;
  delivered: boolean;
  resolve: (outcome: WorkerOutcome) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

export interface SlotTimeouts {
  commandTimeoutMs: number;
  /** A route running longer than this shows as stuck (ns). */
  stuckAfterNs: number;
  /** The engine clock, in ns (the threads' clock). */
  now(): number;
}

const NS_PER_US = 1_000;
const NS_PER_MS = 1_000_000;

export class WorkerSlot {
  readonly block = ControlBlock.allocate();
  host!: ThreadHost;
  /** Its place on its thread. */
  order = 0;
  /** Why it failed (restart limit, or a thread that never came up); null while it has not. */
  failed: string | null = null;
  /** When its thread died while it was to blame (ms, Date.now()), within the restart window. */
  deaths: number[] = [];
  private lastSeq = 0;
  readonly pending: PendingCommand[] = [];
  /** The state its queued commands will leave it in; meaningful while any is pending. */
  private projection: WorkerView | null = null;

  constructor(
    readonly timer: ResolvedTimer,
    readonly index: number,
    private readonly timeouts: SlotTimeouts,
  ) {
    const t = timer;
    this.block.setAttributes({
      ntasks: t.ntasks,
      tasks: t.ntasks,
      nslices: t.nslices,
      slice: 0,
      intervalNs: t.intervalNs,
    });
    this.block.setRoute('start');
    // A cluster worker waits paused until this node holds its slot (cluster/cluster-node.ts).
    this.block.setPaused(t.paused || t.cluster === true);
    if (t.cluster) this.block.setLeaseUntil(-1);
  }

  get label(): string {
    return `worker ${this.index} of "${this.timer.name}"`;
  }

  /** How the worker comes up on a (new) thread: it keeps what the operator made of it. */
  initialState(): InitialState {
    if (this.failed !== null || this.block.ended) return 'ended';
    if (this.block.paused) return 'paused';
    return 'run';
  }

  /** In a route now (its thread, if it dies, dies for it). */
  get inRoute(): boolean {
    return this.block.routeSince > 0;
  }

  /**
   * The state the commands queued for it will leave it in (supervisor.ts judges a new command
   * against this): the live state when none is queued (the thread publishes a command's state
   * before it answers, so the two meet without a gap).
   */
  view(): WorkerView {
    if (this.pending.length > 0 && this.projection) return this.projection;
    return { failed: this.failed !== null, ended: this.failed === null && this.block.ended, paused: this.block.paused };
  }

  /** Sends a command; resolves with this worker's outcome once it has acted, rejects if it refused. */
  send(command: MachineCommand): Promise<WorkerOutcome> {
    if (command !== 'stop') {
      const judged = judgeCommand(command, this.view());
      this.projection = judged.ok ? judged.next : this.view();
    }
    const seq = (this.lastSeq = nextSeq(this.lastSeq));
    return new Promise<WorkerOutcome>((resolve, reject) => {
      const pending: PendingCommand = { seq, command, delivered: false, resolve, reject, timer: null };
      this.pending.push(pending);
      this.armTimeout(pending);
      this.host.deliver(this);
    });
  }

  /** The thread's answer to command `seq`. */
  settle(seq: number, reply: CommandReply): void {
    const at = this.pending.findIndex((p) => p.seq === seq);
    if (at < 0) return; // withdrawn after a timeout, or already settled
    const [pending] = this.pending.splice(at, 1);
    if (pending!.timer) clearTimeout(pending!.timer);
    if (reply.ok) pending!.resolve(this.outcome(reply.changed ? 'done' : 'unchanged'));
    else pending!.reject(new ControlError(`${this.label}: ${reply.reason}`, reply.code));
  }

  outcome(outcome: WorkerOutcome['outcome']): WorkerOutcome {
    return { worker: this.index, outcome, state: this.state(), route: this.block.route, paused: this.block.paused };
  }

  /** The thread died: it is in no route now; what it had claimed and not answered is rejected, the rest goes to the next thread. */
  threadDied(reason: string): void {
    this.block.setRouteSince(0);
    const decided = this.block.decidedSeq;
    for (const pending of [...this.pending]) {
      if (pending.delivered && seqReached(decided, pending.seq)) {
        this.drop(pending, new ControlError(`${this.label} died while acting on ${pending.command} (${reason})`, 500));
      } else {
        pending.delivered = false;
      }
    }
  }

  /** Rejects every command still waiting. */
  rejectAll(error: Error): void {
    for (const pending of [...this.pending]) this.drop(pending, error);
  }

  private drop(pending: PendingCommand, error: Error): void {
    const at = this.pending.indexOf(pending);
    if (at >= 0) this.pending.splice(at, 1);
    if (pending.timer) clearTimeout(pending.timer);
    pending.reject(error);
  }

  private armTimeout(pending: PendingCommand): void {
    const timer = setTimeout(() => this.timedOut(pending), this.timeouts.commandTimeoutMs);
    timer.unref();
    pending.timer = timer;
  }

  /** A command has waited `command_timeout`: withdraw it if a route holds the worker, else wait on. */
  private timedOut(pending: PendingCommand): void {
    pending.timer = null;
    if (!this.pending.includes(pending)) return;
    const inRoute = this.block.routeSince > 0;
    const holder = inRoute ? this : this.host.busiest(this);
    if (!this.host.up || holder === null) {
      this.armTimeout(pending); // booting (the start-up timeout governs that), or about to act
      return;
    }
    const applied = seqReached(this.block.decidedSeq, pending.seq);
    if (!applied && !this.block.withdraw(pending.seq)) {
      // An earlier command is still undecided (it times out first), or the thread claimed this one just now.
      this.armTimeout(pending);
      return;
    }
    const heldFor = Math.round((this.timeouts.now() - holder.block.routeSince) / NS_PER_MS);
    const route = holder.block.route;
    const why =
      holder === this
        ? `${this.label} has been in its ${route} route for ${heldFor} ms`
        : `${this.label} waits for its thread, which ${holder.label} has held in its ${route} route for ${heldFor} ms`;
    const what = applied
      ? `${pending.command} was taken, and its route has not finished`
      : `${pending.command} was not carried out`;
    this.drop(pending, new ControlError(`${why}; ${what} (use force to restart the thread)`, 500));
  }

  /** How list() shows the worker. */
  state(): WorkerState {
    if (this.failed !== null) return 'failed';
    if (this.host.state === 'stopped') return 'ended'; // after stop(): its thread has gone
    if (this.host.booting) return 'booting';
    const b = this.block;
    if (b.ended) return 'ended';
    const since = b.routeSince;
    if (since > 0 && this.timeouts.now() - since > this.timeouts.stuckAfterNs) return 'stuck';
    return b.paused ? 'paused' : 'running';
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
      threadId: b.threadId,
      thread: this.host.label,
      state: this.state(),
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
      lateJoins: counters.lateJoins,
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
