/**
 * Lateness figures from recorded runs. Everything in integer-valued nanoseconds until the
 * figures, which are in microseconds.
 */
import type { LatenessFigures } from './catalog.js';

/** The lateness of each run made in the window, with the counts needed to judge it. */
export interface LatenessSeries {
  latenessNs: Float64Array;
  runsDue: number;
  runsMade: number;
  /** The last run's lateness; null where the tool does not give it. */
  driftNs: number | null;
}

/** Runs as a timer's callback saw them: monotonic timestamps, and the tick each run was for. */
export interface RecordedRuns {
  /** process.hrtime.bigint() as a number (exact below 2^53 ns, about 104 days of uptime). */
  times: Float64Array;
  /** The tick of each run (ptimer's ctx.tick); null when run i is meant for tick i. */
  ticks: Float64Array | null;
  count: number;
  /**
   * When the first tick (tick 0, or run 0) was due, if the approach knows it: e.g. one period
   * after a main-thread timer was armed. Without it the first run defines the grid.
   */
  anchorNs?: number;
}

/**
 * Lateness against the approach's grid: run i is due at anchor + tick_i * period, where
 * tick_i is the run's tick (or i when the approach never skips one) and the anchor is when
 * tick 0 was due; without a known anchor, the first run's time and tick define the grid.
 * Runs after stopNs are outside the window.
 */
export function latenessFromGrid(runs: RecordedRuns, periodNs: number, stopNs: number): LatenessSeries {
  let made = 0;
  while (made < runs.count && runs.times[made]! <= stopNs) made++;
  const latenessNs = new Float64Array(made);
  if (made === 0) return { latenessNs, runsDue: 0, runsMade: 0, driftNs: null };
  const tickOf = (i: number) => (runs.ticks ? runs.ticks[i]! : i);
  const anchorNs = runs.anchorNs ?? runs.times[0]! - tickOf(0) * periodNs;
  for (let i = 0; i < made; i++) latenessNs[i] = runs.times[i]! - (anchorNs + tickOf(i) * periodNs);
  // Ticks from the first recorded one on (a ptimer worker sent back to start rejoins its timer's
  // grid at a later tick: the grid's earlier points were not due in this window).
  const runsDue = Math.floor((stopNs - anchorNs) / periodNs) + 1 - tickOf(0);
  return { latenessNs, runsDue, runsMade: made, driftNs: latenessNs[made - 1]! };
}

/** Every series' runs in one, e.g. all workers of a timer. */
export function poolSeries(series: LatenessSeries[]): LatenessSeries {
  const total = series.reduce((n, s) => n + s.latenessNs.length, 0);
  const latenessNs = new Float64Array(total);
  let at = 0;
  for (const s of series) {
    latenessNs.set(s.latenessNs, at);
    at += s.latenessNs.length;
  }
  const drifts = series.map((s) => s.driftNs).filter((d): d is number => d !== null);
  return {
    latenessNs,
    runsDue: series.reduce((n, s) => n + s.runsDue, 0),
    runsMade: series.reduce((n, s) => n + s.runsMade, 0),
    // The worst slip of any worker.
    driftNs: drifts.length ? drifts.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)) : null,
  };
}

/** Nearest-rank percentile of a sorted array, q in [0, 1]. */
export function percentileOfSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

const nsToUs = (ns: number) => ns / 1000;

export function summarize(series: LatenessSeries, periodNs: number): LatenessFigures {
  const sorted = Float64Array.from(series.latenessNs).sort();
  const n = sorted.length;
  let sum = 0;
  let lateByAPeriod = 0;
  for (let i = 0; i < n; i++) {
    sum += sorted[i]!;
    if (sorted[i]! >= periodNs) lateByAPeriod++;
  }
  return {
    p50Us: nsToUs(percentileOfSorted(sorted, 0.5)),
    p99Us: nsToUs(percentileOfSorted(sorted, 0.99)),
    p999Us: nsToUs(percentileOfSorted(sorted, 0.999)),
    maxUs: n ? nsToUs(sorted[n - 1]!) : NaN,
    minUs: n ? nsToUs(sorted[0]!) : NaN,
    meanUs: n ? nsToUs(sum / n) : NaN,
    driftUs: series.driftNs === null ? null : nsToUs(series.driftNs),
    runsDue: series.runsDue,
    runsMade: series.runsMade,
    missed: Math.max(0, series.runsDue - series.runsMade),
    lateByAPeriod,
    curve: percentileCurve(sorted),
  };
}

/**
 * Points of the percentile curve on a tail scale: tail = -log10(1 - q), so p90 is 1, p99 is 2,
 * p99.9 is 3. It stops where fewer than 10 runs lie beyond, then adds the max.
 */
function percentileCurve(sorted: Float64Array): Array<[number, number]> {
  const n = sorted.length;
  if (n === 0) return [];
  const lastTail = Math.max(0, Math.log10(n / 10));
  const curve: Array<[number, number]> = [];
  for (let tail = 0; tail <= lastTail + 1e-9; tail += 0.05) {
    const q = 1 - 10 ** -tail;
    curve.push([round(tail, 3), round(nsToUs(percentileOfSorted(sorted, q)), 3)]);
  }
  curve.push([round(Math.log10(n), 3), round(nsToUs(sorted[n - 1]!), 3)]);
  return curve;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
