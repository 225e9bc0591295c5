/**
 * The control plane between the main thread and one worker: a SharedArrayBuffer per worker.
 *
 * - The main thread writes a command into CMD and wakes the worker with Atomics.notify; a
 *   sleeping worker waits on that very word, so a command cuts its sleep short at once.
 * - The worker answers in ACK when it has acted, and keeps its state, attributes and
 *   counters here, so `list()` reads them without asking the worker.
 *
 * A command word holds (sequence << 4 | code) so that code and sequence change together in
 * one atomic store: a worker can never see the code of one command with the number of another.
 * Counters are Float64 written by one thread only (the worker, or the main thread for
 * restarts); an aligned 8-byte store is not torn on the platforms Node runs on.
 */
import { HISTOGRAM_SLOTS, LatenessHistogram } from '../core/lateness-histogram.js';
import type { MachineCommand } from '../core/worker-machine.js';

// Int32 words
const CMD = 0;
const ACK = 1;
const ROUTE = 2;
const PAUSED = 3;
const NTASKS = 4;
const TASKS = 5;
const NSLICES = 6;
const SLICE = 7;
const INT_WORDS = 8;
// Float64 words
const ITERATIONS = 0;
const OVERRUNS = 1;
const ERRORS = 2;
const RESTARTS = 3;
const INTERVAL_NS = 4;
const SPIN_NS = 5;
const FLOAT_WORDS = 6;

const COMMAND_CODES: readonly MachineCommand[] = ['pause', 'continue', 'start', 'loop', 'end', 'stop'];
const CODE_BITS = 4;
const SEQ_MASK = 0x7ffffff; // 27 bits: the word stays a positive int32

/** The route a worker is in, as stored: 0 none (ended), 1 start, 2 loop, 3 end. */
export const ROUTE_CODES = ['none', 'start', 'loop', 'end'] as const;
export type RouteName = (typeof ROUTE_CODES)[number];

export const ACK_OK = 0;
export const ACK_REJECTED_ENDED = 1;

export interface TakenCommand {
  command: MachineCommand;
  seq: number;
}

export class ControlBlock {
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  readonly lateness: LatenessHistogram;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.floats = new Float64Array(buffer, 0, FLOAT_WORDS + HISTOGRAM_SLOTS);
    this.lateness = new LatenessHistogram(this.floats.subarray(FLOAT_WORDS));
    this.ints = new Int32Array(buffer, this.floats.byteLength, INT_WORDS);
  }

  static allocate(): ControlBlock {
    return new ControlBlock(new SharedArrayBuffer((FLOAT_WORDS + HISTOGRAM_SLOTS) * 8 + INT_WORDS * 4));
  }

  // ---- commands: main thread side ----

  /** Writes a command and wakes the worker; returns its sequence number. */
  send(command: MachineCommand): number {
    const previous = Atomics.load(this.ints, CMD);
    const seq = ((previous >>> CODE_BITS) + 1) & SEQ_MASK;
    Atomics.store(this.ints, CMD, (seq << CODE_BITS) | COMMAND_CODES.indexOf(command));
    Atomics.notify(this.ints, CMD);
    return seq;
  }

  /** An answer word: which command, and how it went. */
  static decodeAck(word: number): { seq: number; result: number } {
    return { seq: word >>> CODE_BITS, result: word & 0xf };
  }

  /** Resolves when ACK changes from `seen` (the main thread must not block). */
  async ackChanged(seen: number): Promise<void> {
    const waiting = Atomics.waitAsync(this.ints, ACK, seen);
    if (waiting.async) await waiting.value;
  }

  get ackWord(): number {
    return Atomics.load(this.ints, ACK);
  }

  // ---- commands: worker side ----

  get commandWord(): number {
    return Atomics.load(this.ints, CMD);
  }

  /** The command in `word`, as the worker reads it. */
  static decode(word: number): TakenCommand {
    return { command: COMMAND_CODES[word & 0xf]!, seq: word >>> CODE_BITS };
  }

  answer(seq: number, result: number): void {
    Atomics.store(this.ints, ACK, (seq << CODE_BITS) | result);
    Atomics.notify(this.ints, ACK);
  }

  // ---- state: written by the worker, read by list() ----

  setRoute(route: RouteName): void {
    Atomics.store(this.ints, ROUTE, ROUTE_CODES.indexOf(route));
  }
  get route(): RouteName {
    return ROUTE_CODES[Atomics.load(this.ints, ROUTE)]!;
  }

  setPaused(paused: boolean): void {
    Atomics.store(this.ints, PAUSED, paused ? 1 : 0);
  }
  get paused(): boolean {
    return Atomics.load(this.ints, PAUSED) === 1;
  }

  setAttributes(a: { ntasks: number; tasks: number; nslices: number; slice: number; intervalNs: number }): void {
    const i = this.ints;
    i[NTASKS] = a.ntasks;
    i[TASKS] = a.tasks;
    i[NSLICES] = a.nslices;
    i[SLICE] = a.slice;
    this.floats[INTERVAL_NS] = a.intervalNs;
  }
  get attributes(): { ntasks: number; tasks: number; nslices: number; slice: number; intervalNs: number } {
    const i = this.ints;
    return { ntasks: i[NTASKS]!, tasks: i[TASKS]!, nslices: i[NSLICES]!, slice: i[SLICE]!, intervalNs: this.floats[INTERVAL_NS]! };
  }

  setCounters(c: { iterations: number; overruns: number; errors: number }): void {
    const f = this.floats;
    f[ITERATIONS] = c.iterations;
    f[OVERRUNS] = c.overruns;
    f[ERRORS] = c.errors;
  }
  get counters(): { iterations: number; overruns: number; errors: number; restarts: number } {
    const f = this.floats;
    return { iterations: f[ITERATIONS]!, overruns: f[OVERRUNS]!, errors: f[ERRORS]!, restarts: f[RESTARTS]! };
  }

  /** The spin the worker uses before its deadlines now (it adapts with spin 'auto'). */
  setSpin(ns: number): void {
    this.floats[SPIN_NS] = ns;
  }
  get spinNs(): number {
    return this.floats[SPIN_NS]!;
  }

  /** Main thread: a worker thread died and was started again. */
  countRestart(): void {
    this.floats[RESTARTS]!++;
  }
}
