/**
 * What one worker shows the main thread, in a SharedArrayBuffer the main thread owns.
 *
 * The worker's thread writes its route, paused flag, attributes, counters and lateness here as
 * they change, so `list()` reads them without asking the thread (and never waits for one that
 * is booting or stuck). The block outlives the thread: after a crash the new thread takes the
 * counters back from it.
 *
 * One word decides each command's fate: DECIDED holds (seq << 1 | withdrawn) of the last
 * command of this worker that was either acted on (by the thread) or withdrawn (by the main
 * thread, after a timeout). Both sides move it from seq-1 to seq with compareExchange, so for
 * every command exactly one of the two wins: a command is never both refused and carried out.
 * Sequence numbers run 1 .. SEQ_MAX (2^30 - 1, so that seq << 1 | 1 stays a positive Int32)
 * and then wrap to 1: `nextSeq` counts, `seqReached` compares on the circle, and the word
 * never overflows into a value no command can follow (the 2^31st command would hang).
 *
 * Counters are Float64 written by one thread only (the worker's thread, or the main thread for
 * restarts); an aligned 8-byte store is not torn on the platforms Node runs on.
 */
import { HISTOGRAM_SLOTS, LatenessHistogram } from '../core/lateness-histogram.js';
import { WORKER_ROUTES, type WorkerRoute } from '../core/words.js';

// Int32 words
const ROUTE = 0;
const PAUSED = 1;
const NTASKS = 2;
const TASKS = 3;
const NSLICES = 4;
const SLICE = 5;
const DECIDED = 6;
/** Loop entries that missed their join point (worker-machine.ts): an Int32, written by the worker's thread. */
const LATE_JOINS = 7;
const INT_WORDS = 8;
// Float64 words
const ITERATIONS = 0;
const OVERRUNS = 1;
const ERRORS = 2;
const RESTARTS = 3;
const INTERVAL_NS = 4;
const SPIN_NS = 5;
/** When the route now running began (ns, on the engine clock); 0 between routes. */
const ROUTE_SINCE = 6;
const THREAD_ID = 7;
/**
 * A cluster worker's lease (cluster/lease-table.ts), on the engine clock: 0 = not a cluster
 * worker (no check); > 0 = loop runs are allowed until then; < 0 = none. The thread checks it
 * before each loop run, so a process resumed after a pause runs nothing its lease no longer covers.
 */
const LEASE_UNTIL = 8;
const FLOAT_WORDS = 9;

/** The largest command sequence number; the one after it is 1 again (0 is "none yet"). */
export const SEQ_MAX = 2 ** 30 - 1;

/** The sequence number after `seq`. */
export function nextSeq(seq: number): number {
  return seq >= SEQ_MAX ? 1 : seq + 1;
}

/** `decided` is `seq` or comes after it (on the circle of SEQ_MAX numbers; 0, none yet, reaches nothing). */
export function seqReached(decided: number, seq: number): boolean {
  if (decided === 0) return false;
  const ahead = (((decided - seq) % SEQ_MAX) + SEQ_MAX) % SEQ_MAX;
  return ahead < SEQ_MAX / 2;
}

export interface BlockAttributes {
  ntasks: number;
  tasks: number;
  nslices: number;
  slice: number;
  intervalNs: number;
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

  // ---- a command's fate ----

  /** The last decided command's sequence number. */
  get decidedSeq(): number {
    return Atomics.load(this.ints, DECIDED) >>> 1;
  }

  /** Thread: claim `seq` to act on it. False if the main thread withdrew it first. */
  claim(seq: number): boolean {
    return this.decide(seq, 0);
  }

  /** Main thread: withdraw `seq`, not yet acted on. False if the thread claimed it first. */
  withdraw(seq: number): boolean {
    return this.decide(seq, 1);
  }

  private decide(seq: number, withdrawn: 0 | 1): boolean {
    const word = Atomics.load(this.ints, DECIDED);
    if (nextSeq(word >>> 1) !== seq) return false;
    return Atomics.compareExchange(this.ints, DECIDED, word, (seq << 1) | withdrawn) === word;
  }

  // ---- state: written by the worker's thread, read by list() ----

  setRoute(route: WorkerRoute): void {
    Atomics.store(this.ints, ROUTE, WORKER_ROUTES.indexOf(route));
  }
  get route(): WorkerRoute {
    return WORKER_ROUTES[Atomics.load(this.ints, ROUTE)]!;
  }

  setPaused(paused: boolean): void {
    Atomics.store(this.ints, PAUSED, paused ? 1 : 0);
  }
  get paused(): boolean {
    return Atomics.load(this.ints, PAUSED) === 1;
  }

  /** Ended: the end route has run and only start revives the worker. */
  /** Ended: in no route and paused (what the machine publishes for `ended`). */
  showEnded(): void {
    this.setRoute('none');
    this.setPaused(true);
  }

  get ended(): boolean {
    return this.route === 'none' && this.paused;
  }

  setAttributes(a: BlockAttributes): void {
    const i = this.ints;
    i[NTASKS] = a.ntasks;
    i[TASKS] = a.tasks;
    i[NSLICES] = a.nslices;
    i[SLICE] = a.slice;
    this.floats[INTERVAL_NS] = a.intervalNs;
  }
  /** A loop run of a sliced timer: the slice it moved to and that slice's tasks. */
  setSlice(slice: number, tasks: number): void {
    this.ints[SLICE] = slice;
    this.ints[TASKS] = tasks;
  }
  get attributes(): BlockAttributes {
    const i = this.ints;
    return {
      ntasks: i[NTASKS]!,
      tasks: i[TASKS]!,
      nslices: i[NSLICES]!,
      slice: i[SLICE]!,
      intervalNs: this.floats[INTERVAL_NS]!,
    };
  }

  setCounters(c: { iterations: number; overruns: number; errors: number; lateJoins?: number }): void {
    const f = this.floats;
    f[ITERATIONS] = c.iterations;
    f[OVERRUNS] = c.overruns;
    f[ERRORS] = c.errors;
    if (c.lateJoins !== undefined) Atomics.store(this.ints, LATE_JOINS, c.lateJoins);
  }
  get counters(): { iterations: number; overruns: number; errors: number; restarts: number; lateJoins: number } {
    const f = this.floats;
    return {
      iterations: f[ITERATIONS]!,
      overruns: f[OVERRUNS]!,
      errors: f[ERRORS]!,
      restarts: f[RESTARTS]!,
      lateJoins: Atomics.load(this.ints, LATE_JOINS),
    };
  }

  /** The spin the worker's thread uses before its deadlines now (it adapts with spin 'auto'). */
  setSpin(ns: number): void {
    this.floats[SPIN_NS] = ns;
  }
  get spinNs(): number {
    return this.floats[SPIN_NS]!;
  }

  setRouteSince(ns: number): void {
    this.floats[ROUTE_SINCE] = ns;
  }
  /** When the route now running began (engine clock, ns), or 0 between routes. */
  get routeSince(): number {
    return this.floats[ROUTE_SINCE]!;
  }

  setLeaseUntil(engineNs: number): void {
    this.floats[LEASE_UNTIL] = engineNs;
  }
  /** Whether a loop run at engine time `now` is covered (always, for a worker outside the cluster). */
  leaseCovers(now: number): boolean {
    const until = this.floats[LEASE_UNTIL]!;
    return until === 0 || now < until;
  }

  setThreadId(id: number): void {
    this.floats[THREAD_ID] = id;
  }
  get threadId(): number {
    return this.floats[THREAD_ID]!;
  }

  /** Main thread: a worker's thread died and was started again. */
  countRestart(): void {
    this.floats[RESTARTS]!++;
  }
}
