/**
 * GridGuard: how far past its deadline a limited timer's run releases its items, measured from
 * the timer's own lateness (see timer-queue.ts for why runs are held to `deadline + guard`).
 *
 * It keeps the lateness of the last SAMPLES runs that took (deadline to the take, before any
 * hold) and gives their p99 (by nearest rank; with fewer samples, the largest), plus a margin,
 * never less than MIN_GUARD_NS. A run later than its deadline + guard is rare by construction
 * (about one in a hundred, fewer once the margin counts), and only such a run can leave the
 * runs a window after it short (timer-queue.ts). Pure: tests feed it samples.
 */

/** Runs remembered. */
export const GUARD_SAMPLES = 256;
/** The least guard: below it the hold costs nothing worth saving. */
export const MIN_GUARD_NS = 200_000;
/** Added to the p99: a run a little later than the p99 still keeps its place. */
export const GUARD_MARGIN_NS = 100_000;
/** The most guard: a run held this long is as good as late; beyond it, the take waits for nothing. */
export const MAX_GUARD_NS = 20_000_000;

export interface GuardBounds {
  /** The least value, and the value until `warmup` samples have come. */
  minNs: number;
  marginNs: number;
  maxNs: number;
  warmup: number;
  /** The quantile followed (0.99 for the runs' lateness). */
  quantile: number;
}

/** The hold past a deadline: see above. */
const RUN_GUARD: GuardBounds = {
  minNs: MIN_GUARD_NS,
  marginNs: GUARD_MARGIN_NS,
  maxNs: MAX_GUARD_NS,
  warmup: 0,
  quantile: 0.99,
};
export class GridGuard {
  private readonly samples = new Float64Array(GUARD_SAMPLES);
  private count = 0;
  private next = 0;
  private cached: number;
  private stale = false;

  constructor(private readonly bounds: GuardBounds = RUN_GUARD) {
    this.cached = bounds.minNs;
  }

  /** One run's lateness (ns from its deadline to its take); negative or NaN counts as 0. */
  observe(latenessNs: number): void {
    this.samples[this.next] = latenessNs > 0 ? latenessNs : 0;
    this.next = (this.next + 1) % GUARD_SAMPLES;
    if (this.count < GUARD_SAMPLES) this.count++;
    this.stale = true;
  }

  /** The hold past a deadline (ns): the recent runs' p99 lateness plus the margin, within bounds. */
  get ns(): number {
    if (this.stale) {
      this.stale = false;
      const b = this.bounds;
      const sorted = this.samples.slice(0, this.count).sort();
      const p99 = sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(b.quantile * sorted.length) - 1)]!;
      // Whole ns: grid sums stay exact.
      this.cached = this.count < b.warmup ? b.minNs : Math.min(b.maxNs, Math.max(b.minNs, Math.ceil(p99) + b.marginNs));
    }
    return this.cached;
  }
}
