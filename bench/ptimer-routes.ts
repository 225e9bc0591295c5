/**
 * The routes the bench's ptimer timers run, loaded inside each worker thread. The loop route
 * takes its own timestamp first thing (process.hrtime: the monotonic clock all threads share)
 * and stores it with ctx.tick, so the bench judges ptimer by the same measure as every other
 * approach rather than by ptimer's own counters. The grid's origin comes from the first run's
 * ctx.deadline (on process.hrtime's scale): the engine's deadlines are t0 + tick * interval,
 * so one deadline fixes them all, and each run's lateness is its own timestamp against it.
 * The end route hands it all to the main thread. Self-contained on purpose: nothing to
 * resolve inside the worker but this file.
 */

interface BenchContext {
  readonly tick: number;
  readonly deadline: number;
  vars: Record<string, unknown>;
  emit(event: string, data?: unknown): void;
}

interface Runs {
  times: Float64Array;
  ticks: Float64Array;
  count: number;
  /** The first run's deadline and tick: the grid's origin is firstDeadlineNs - firstTick * interval. */
  firstDeadlineNs: number;
  firstTick: number;
}

/** Room for 12 s at 100 us without growing; grows by doubling past that. */
const INITIAL_CAPACITY = 131_072;

export function BENCH_START(ctx: BenchContext): void {
  ctx.vars.runs = {
    times: new Float64Array(INITIAL_CAPACITY),
    ticks: new Float64Array(INITIAL_CAPACITY),
    count: 0,
    firstDeadlineNs: 0,
    firstTick: 0,
  } satisfies Runs;
}

export function BENCH_LOOP(ctx: BenchContext): void {
  const now = Number(process.hrtime.bigint());
  const runs = ctx.vars.runs as Runs;
  if (runs.count === 0) {
    runs.firstDeadlineNs = ctx.deadline;
    runs.firstTick = ctx.tick;
  }
  if (runs.count === runs.times.length) grow(runs);
  runs.times[runs.count] = now;
  runs.ticks[runs.count] = ctx.tick;
  runs.count++;
}

export function BENCH_END(ctx: BenchContext): void {
  const runs = ctx.vars.runs as Runs | undefined;
  if (!runs) return;
  ctx.emit('bench-runs', {
    times: runs.times.slice(0, runs.count),
    ticks: runs.ticks.slice(0, runs.count),
    count: runs.count,
    firstDeadlineNs: runs.firstDeadlineNs,
    firstTick: runs.firstTick,
  });
}

function grow(runs: Runs): void {
  const times = new Float64Array(runs.times.length * 2);
  const ticks = new Float64Array(runs.ticks.length * 2);
  times.set(runs.times);
  ticks.set(runs.ticks);
  runs.times = times;
  runs.ticks = ticks;
}
